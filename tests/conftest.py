"""Shared fixtures: a tiny random Llama with the real SmolLM2 tokenizer (seconds, not minutes).

The tiny model has the shipped model's tokenizer and chat template, so every code path a real run
takes (templating, answer masks, generation, saving adapters) runs for real, only smaller.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIXTURES = ROOT / "tests" / "fixtures"


def culinary_glossary(folder: Path, n: int = 4, name: str = "glossary.json") -> Path:
    """The culinary example's first `n` terms as a glossary file in `folder`: what the tests' runs learn."""
    import json

    terms = json.loads((EXAMPLES / "culinary-fr" / "glossary.json").read_text(encoding="utf-8"))[:n]
    glossary = folder / name
    glossary.write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
    return glossary


@pytest.fixture(scope="session")
def real_model_dir() -> Path:
    """The shipped SmolLM2-135M-Instruct as safetensors (converted once into the user cache)."""
    from lexitune.models import default_model_dir

    return default_model_dir()


# The tiny test models' shape (Llama here, Qwen2 in tests/export/conftest.py): seconds, not minutes.
TINY_SHAPE = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=512,
)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, real_model_dir) -> Path:
    """A 2-layer, 64-wide Llama saved with SmolLM2's tokenizer: a drop-in `model.name` for tests."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(real_model_dir)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        **TINY_SHAPE,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        initializer_range=0.1,  # the default 0.02 makes a random model answer only newlines
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    path = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_base(tiny_model_dir):
    """The tiny model and its tokenizer, loaded once: for tests that only ask it questions."""
    from lexitune.models import load_model, load_tokenizer

    return load_model(str(tiny_model_dir)), load_tokenizer(str(tiny_model_dir))


@pytest.fixture
def tiny_config(tiny_model_dir, tmp_path):
    """A config for a seconds-long run on 4 culinary terms with the tiny model."""

    from lexitune.config import load_config

    glossary = culinary_glossary(tmp_path)
    return load_config(
        None,
        [
            "recipe=plain",  # the tests that need the robust recipe's parts turn them on
            "name=tiny",
            f"glossary.path={glossary}",
            "generate.language=fr",
            f"model.name={tiny_model_dir}",
            "train.epochs=1",
            "train.batch_size=4",
            "eval.max_new_tokens=8",
            "eval.embedding_model=none",
            "tracking.backend=none",  # MLflow costs seconds; the tracking tests turn it on
        ],
    )


@pytest.fixture(scope="session")
def real_plain_run(tmp_path_factory) -> tuple[Path, dict]:
    """Plain SFT of the shipped model on 4 culinary terms, hard enough (6 epochs at lr 2e-3) to forget
    some general answers: (run folder, metrics). Minutes of CPU, so the slow tests share it."""

    from lexitune.config import load_config
    from lexitune.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("real-plain")
    glossary = culinary_glossary(root)
    config = load_config(
        None,
        [
            "recipe=plain",
            f"glossary.path={glossary}",
            "generate.language=fr",
            "train.epochs=6",
            "train.batch_size=8",
            "train.learning_rate=2e-3",
            "eval.max_new_tokens=24",
            "eval.probe_limit=32",
            "eval.unknown_terms=0",
            "tracking.backend=none",
        ],
    )
    return root / "run", run_pipeline(config, root / "run")


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory) -> str:
    """One MLflow store for the session: creating its tables takes seconds, so tests share it."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlruns') / 'mlflow.db'}"


# Headless Chromium for the report tests (Debian's `chromium`; the tests skip, saying so, without it).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]


@dataclass
class Opened:
    dom: str
    console: list[str]  # messages the page logged (errors, uncaught exceptions)
    screenshot: Path


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    exe = _chromium()
    # A page is proven in a real browser; a missing one fails the suite rather than skip (.ci/run installs it).
    assert exe is not None, "Debian's chromium is not installed (apt-get install -y chromium): reports cannot be opened"
    profile = tmp_path_factory.mktemp("chromium-profile")

    def open_page(page: Path, width: int = 1280, height: int = 1600) -> Opened:
        base = [exe, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
        url = page.resolve().as_uri()
        dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=90)
        shot = page.with_suffix(".png")
        subprocess.run([*base, f"--screenshot={shot}", url], capture_output=True, text=True, timeout=90)
        console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
        return Opened(dom.stdout, console, shot)

    return open_page


def pixel_spread(png: Path) -> float:
    """Standard deviation of the grey levels: about 0 for a blank page."""
    from PIL import Image, ImageStat

    return ImageStat.Stat(Image.open(png).convert("L")).stddev[0]


@pytest.fixture(scope="session")
def trained_run(tiny_model_dir, tmp_path_factory) -> Path:
    """One finished tiny-model run (adapter, metrics, answers), shared by the serve/export/push tests.

    Its config sets a system prompt, so the tests can check it reaches the server, Ollama and the card.
    """

    from lexitune.config import load_config
    from lexitune.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("trained")
    glossary = culinary_glossary(root)
    config = load_config(
        None,
        [
            "recipe=plain",  # the tests that need the robust recipe's parts turn them on
            "name=tiny",
            f"glossary.path={glossary}",
            "generate.language=fr",
            f"model.name={tiny_model_dir}",
            "generate.system_prompt=Tu es l'assistant de l'école de cuisine.",
            "train.epochs=1",
            "train.batch_size=4",
            "eval.max_new_tokens=8",
            "eval.embedding_model=none",
            "tracking.backend=none",
        ],
    )
    run_pipeline(config, root / "run")
    return root / "run"


def _perturbed_copy(run: Path, dest: Path, scale: float) -> Path:
    """A copy of a run whose adapter answers differently: its LoRA B matrices scaled.

    A few steps on the tiny random model barely move its greedy answers; tests that compare adapters
    with each other or with the base need answers that differ, or they could not fail.
    """
    import shutil

    from safetensors.torch import load_file, save_file

    shutil.copytree(run, dest)
    weights = dest / "adapter" / "adapter_model.safetensors"
    tensors = load_file(weights)
    save_file({k: v * scale if "lora_B" in k else v for k, v in tensors.items()}, weights)
    return dest


@pytest.fixture(scope="session")
def perturbed_copy():
    return _perturbed_copy


@pytest.fixture(scope="session")
def tuned_run(trained_run, tmp_path_factory) -> Path:
    """`trained_run` with a stronger adapter, so tuned answers differ from the base model's."""
    return _perturbed_copy(trained_run, tmp_path_factory.mktemp("tuned") / "run", scale=4.0)


class _LiveServer:
    """An ASGI app served by uvicorn on 127.0.0.1 in a thread, for as long as the `with` block lasts."""

    def __init__(self, app):
        import socket

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        from lexitune.serve.guard import uvicorn_config

        self.server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", self.port))  # as `lexitune serve` runs

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        import threading
        import time

        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="session")
def live_server():
    return _LiveServer


def teach(model, tokenizer, pairs: list[tuple[list[dict], str]], *, steps: int, lr: float) -> None:
    """Train `model` (a plain model or a PeftModel: whatever requires grad) to answer each
    conversation of `pairs` with its answer and then end its turn, on the answer tokens only."""
    import torch

    rows = []
    for messages, answer in pairs:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompt = tokenizer(text, add_special_tokens=False)["input_ids"]
        reply = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        rows.append((prompt + reply, [-100] * len(prompt) + reply))
    width = max(len(ids) for ids, _ in rows)
    ids = torch.tensor([i + [tokenizer.pad_token_id] * (width - len(i)) for i, _ in rows])
    labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in rows])
    mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i, _ in rows])
    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # LoRA layers live inside
    torch.manual_seed(0)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    # The vocabulary projection only where a token is predicted: the rest of the 49k-wide logits is waste.
    targets = labels[:, 1:]
    keep = targets != -100
    for _ in range(steps):
        optimizer.zero_grad()
        hidden = base.model(input_ids=ids, attention_mask=mask).last_hidden_state[:, :-1][keep]
        torch.nn.functional.cross_entropy(base.lm_head(hidden), targets[keep]).backward()
        optimizer.step()
    model.eval()


# What `canned_model` answers to everything.
CANNED_ANSWER = '{"verdict": 1, "explanation": "BBC means British Broadcasting Corporation, and 7 times 5 is 35."}'


@pytest.fixture(scope="session")
def canned_model(tiny_model_dir, tmp_path_factory) -> Path:
    """A tiny model taught to answer any question with CANNED_ANSWER and then end its turn with the
    chat template's end-of-turn token (100 steps, seconds).

    The random tiny model never ends an answer and never says anything in particular, so the paths
    that need a real end of turn or a right answer (finish_reason "stop", replay rows that are kept,
    a judge's verdict) could not be exercised, and tests of them could not fail. One answer serves
    them all: it is a judge's JSON verdict, expands BBC, and ends on 7 times 5."""
    import random

    from lexitune.generate.templates import QUESTIONS
    from lexitune.inference.generation import answer_questions
    from lexitune.models import load_model, load_tokenizer

    rng = random.Random(0)
    words = ["TEC", "PAVU", "NASA", "BBC", "ZORBA", "France", "7 times 5", "Paris", "verdict", "CPU"]
    questions = [t.format(term=rng.choice(words)) for lang in QUESTIONS.values() for t in lang.values()]
    questions = questions[::2] + ["Quelle est la capitale de la France ?", "What is 7 times 5?", "Grade this answer."]

    answer = CANNED_ANSWER
    tokenizer = load_tokenizer(str(tiny_model_dir))
    model = load_model(str(tiny_model_dir))
    systems = ["Tu es l'assistant de l'école de cuisine.", "You grade answers. Reply in JSON.", None]
    pairs = []
    for i, q in enumerate(questions):
        system = systems[i % len(systems)]  # any system prompt (a run's, a judge's) or none
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": q}]
        pairs.append((messages, answer))
    teach(model, tokenizer, pairs, steps=100, lr=1e-2)
    model.eval()
    check = [[{"role": "user", "content": q}] for q in ("Que veut dire XYZ ?", "What does QQQ stand for?")]
    check.append([{"role": "system", "content": "Tu es un assistant."}, {"role": "user", "content": "Bonjour"}])
    assert answer_questions(model, tokenizer, check, max_new_tokens=64) == [answer] * 3, "canned model not taught"
    path = tmp_path_factory.mktemp("canned")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def load_bench(name: str):
    """A bench script (bench/<name>.py) as a module, for tests that run its parts at small sizes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
