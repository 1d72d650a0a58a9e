"""The models a server answers with: one base model and the LoRA adapters named at start-up.

Ordinary requests are decoded together by the batch scheduler (batching.py), each row naming its
adapter. What cannot be batched (the guard's whole-answer-then-beams path, DoRA adapters, a server
started with max_batch=1) runs under one lock held from `set_adapter` to the last token: peft's
active adapter is a property of the whole model, so two such generations at once could each see
the other's adapter. The scheduler takes the same lock for each of its steps.

    python -c "from lexitune.serve import AdapterRegistry; r = AdapterRegistry.from_runs({'c': 'runs/culinary'}); print(r.names)"
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from lexitune.errors import LexituneError
from lexitune.evaluate.probes.decline import is_decline
from lexitune.inference import Answerer, load_terms, with_system
from lexitune.inference.answerer import Route
from lexitune.inference.generation import stop_ids
from lexitune.models import load_model, load_tokenizer, resolve_model
from lexitune.rundir import RunDir
from lexitune.serve.stops import StopFilter

BASE_MODEL_ID = "base"
MAX_BATCH = 64  # requests decoded together (serve/batching.py); 1 = one at a time under the lock
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass
class Served:
    """One `model` value a client may ask for."""

    id: str
    run: Path | None  # None for the base model
    answerer: Answerer  # the run's system prompt, routing and guard
    created: int = field(default_factory=lambda: int(time.time()))


# A request that gives no max_tokens gets this many: the server's own choice (as in common
# OpenAI-compatible servers), longer than evaluation's eval.max_new_tokens because a client may
# ask anything, not only for a definition.
DEFAULT_MAX_TOKENS = 256


@dataclass
class Sampling:
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.0  # 0 = greedy: the tuned model recites definitions, sampling adds nothing
    top_p: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


@dataclass
class Piece:
    """A bit of generated text; the last piece of a generation carries the finish reason and counts."""

    text: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


def _servable(name: str, path: str | Path) -> tuple[RunDir, object]:
    """The run folder and config of an adapter a client may name, or a LexituneError saying why not."""
    if not _NAME.match(name) or name == BASE_MODEL_ID:
        raise LexituneError(f"--adapter {name}=...: names are letters, digits, '.', '_', '-' and not {BASE_MODEL_ID!r}")
    run = RunDir(path)
    config = run.load_config()
    if config.train.method == "full":
        if not (run.full_model / "config.json").exists():
            raise LexituneError(f"--adapter {name}={path}: no model/ (run `lexitune train` first)")
        return run, config
    if not (run.adapter / "adapter_config.json").exists():
        raise LexituneError(f"--adapter {name}={path}: no adapter/ (run `lexitune train` first)")
    return run, config


def _same_base(name: str, config, base: str, other: str) -> None:
    mine = resolve_model(config.model.name)
    if _canonical(mine) != _canonical(base):
        raise LexituneError(
            f"--adapter {name}: base model {mine} differs from {other}'s ({base}); one server serves one base model"
        )


def finished_runs(root: Path) -> dict[str, Path]:
    """`serve --runs DIR`: every run folder under DIR with a trained adapter and metrics, by
    folder name (names a client could not send are skipped)."""
    found = {}
    for config in sorted(Path(root).rglob("config.yaml")):
        run = config.parent
        if (run / "adapter" / "adapter_config.json").exists() and (run / "metrics.json").exists():
            if _NAME.match(run.name) and run.name != BASE_MODEL_ID and run.name not in found:
                found[run.name] = run
    return found


def _canonical(model: str) -> str:
    return str(Path(model).resolve()) if Path(model).exists() else model


class _Cancelled:
    """A stopping criterion the reader side can trip (a stop string seen, a client gone)."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, input_ids, scores, **kwargs) -> torch.Tensor:
        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool)


class AdapterRegistry:
    """The base model, the adapters a client may name, and which of them are in memory.

    Adapters are loaded on first use and, with `max_loaded`, the least recently used one is
    unloaded to make room (and loaded again from its run folder when next asked for), in the spirit
    of LoRAX's dynamic adapter loading. With a `runs_root`, `load`/`unload` add and remove adapters
    at runtime (the admin API); their paths must lie under that folder.
    """

    def __init__(
        self,
        model,
        tokenizer,
        served: dict[str, Served],
        base_name: str,
        *,
        loaded: list[str] | None = None,
        max_loaded: int | None = None,
        runs_root: Path | None = None,
        max_batch: int = MAX_BATCH,
        full: bool = False,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.served = served
        self.base_name = base_name  # as the runs' configs name it ("default", an id or a path)
        self.base_path = _canonical(resolve_model(base_name))
        self.lock = threading.Lock()
        self.max_context = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
        # A token is at most this many characters, so text longer than context x this cannot fit:
        # a request is refused on its length before a 50 MB message is tokenised.
        self.max_token_chars = max(len(token) for token in tokenizer.get_vocab())
        self.loaded: OrderedDict[str, None] = OrderedDict((name, None) for name in loaded or [])
        self.max_loaded = max_loaded
        self.runs_root = runs_root.resolve() if runs_root else None
        self.evictions = 0
        self.retiring: set[str] = set()  # unloaded, waiting for running batch rows to finish
        self._base_context = None
        self.full = full  # serving a full fine-tune: one model, no adapters, no base inside
        self.scheduler = None
        if max_batch > 1:
            from lexitune.serve.batching import BatchScheduler

            self.scheduler = BatchScheduler(self, max_batch=max_batch)

    def _batchable(self, model_id: str) -> bool:
        """Mixed-adapter batches are peft's for LoRA; a DoRA adapter is served one request at a time."""
        if model_id == BASE_MODEL_ID:
            return True
        config = getattr(self.model, "peft_config", {}).get(model_id)
        return config is None or not getattr(config, "use_dora", False)

    @property
    def names(self) -> list[str]:
        return list(self.served)

    @classmethod
    def from_runs(
        cls,
        adapters: dict[str, str | Path],
        *,
        max_loaded: int | None = None,
        runs_root: Path | None = None,
        max_batch: int = MAX_BATCH,
    ) -> AdapterRegistry:
        """Load the base model once and each run's adapter under its name (at most `max_loaded`
        at once); all runs must share the base."""
        if not adapters:
            raise LexituneError("serve: give at least one --adapter NAME=RUN_DIR (or --runs DIR)")
        if max_loaded is not None and max_loaded < 1:
            raise LexituneError("--max-adapters: at least 1")
        runs = {name: _servable(name, path) for name, path in adapters.items()}
        full = [name for name, (_, config) in runs.items() if config.train.method == "full"]
        if full:
            if len(runs) > 1:
                raise LexituneError(
                    f"--adapter {full[0]}: a full fine-tune is a whole model of its own; serve it alone "
                    "(one server per full fine-tune, or serve LoRA runs together on their base)"
                )
            return cls._full(full[0], *runs[full[0]], max_batch=max_batch)
        first = next(iter(runs))
        base = resolve_model(runs[first][1].model.name)
        for name, (_, config) in runs.items():
            _same_base(name, config, base, first)
        from peft import PeftModel

        base_cfg = runs[first][1]
        tokenizer = load_tokenizer(str(runs[first][0].adapter))
        model = PeftModel.from_pretrained(
            load_model(base_cfg.model.name), str(runs[first][0].adapter), adapter_name=first
        )
        loaded = [first]
        for name, (run, _) in list(runs.items())[1 : max_loaded or len(runs)]:
            model.load_adapter(str(run.adapter), adapter_name=name)
            loaded.append(name)
        served = {BASE_MODEL_ID: Served(BASE_MODEL_ID, None, Answerer.base(model, tokenizer, base_cfg))}
        for name, (run, cfg) in runs.items():
            served[name] = Served(name, run.root, Answerer.tuned(model, tokenizer, cfg, load_terms(run)))
        model.eval()
        return cls(
            model,
            tokenizer,
            served,
            base_cfg.model.name,
            loaded=loaded,
            max_loaded=max_loaded,
            runs_root=runs_root,
            max_batch=max_batch,
        )

    @classmethod
    def _full(cls, name: str, run: RunDir, config, *, max_batch: int) -> AdapterRegistry:
        """A full fine-tune's own weights under its name. There is no base inside them to route
        to, so every question goes to the tuned weights (as a merged export answers); the guard
        still applies."""
        model = load_model(str(run.full_model)).eval()
        tokenizer = load_tokenizer(str(run.full_model))
        answerer = replace(Answerer.tuned(model, tokenizer, config, load_terms(run)), route="always")
        served = {name: Served(name, run.root, answerer)}
        return cls(model, tokenizer, served, config.model.name, max_batch=max_batch, full=True)

    # -- adapters at runtime (the admin API) -----------------------------------------------------

    def load(self, name: str, relative_path: str) -> Served:
        """Add the run at `runs_root / relative_path` as `name`; a LexituneError says why not."""
        if self.full:
            raise LexituneError("this server serves a full fine-tune: it takes no adapters")
        if self.runs_root is None:
            raise LexituneError("adapters can only be loaded at runtime when the server was started with --runs DIR")
        if name in self.served or name in self.retiring:
            raise LexituneError(f"lora_name {name!r}: already served; unload it first (or wait for its unloading)")
        path = (self.runs_root / relative_path).resolve()
        if not path.is_relative_to(self.runs_root):
            raise LexituneError(f"lora_path {relative_path!r}: not inside the runs folder")
        run, config = _servable(name, path)
        _same_base(name, config, self.base_path, "this server")
        served = Served(name, run.root, Answerer.tuned(self.model, self.tokenizer, config, load_terms(run)))
        with self.lock:
            self._load_weights(name, run)  # a corrupt adapter fails here, before it is listed
            self.served[name] = served
        return served

    def unload(self, name: str) -> None:
        """No new request may name it at once; its weights go once no running batch row uses them."""
        if name == BASE_MODEL_ID or name not in self.served:
            raise LexituneError(f"lora_name {name!r}: not a served adapter")
        with self.lock:
            del self.served[name]
            if name in self.loaded:
                if self.scheduler is not None:
                    self.retiring.add(name)  # the scheduler drops it between steps
                else:
                    self._drop_weights(name)

    def _ensure_loaded(self, name: str) -> None:
        """Called under the lock: the adapter's weights in memory, the least recently used one
        unloaded first when the bound is reached."""
        if self.full:
            return
        if name in self.loaded:
            self.loaded.move_to_end(name)
            return
        self._load_weights(name, RunDir(self.served[name].run))

    def _load_weights(self, name: str, run: RunDir) -> None:
        # Loaded before the least recently used one goes (peft keeps at least one adapter), so
        # the bound is exceeded by one adapter for the moment between.
        try:
            self.model.load_adapter(str(run.adapter), adapter_name=name)
        except Exception as e:  # a corrupt or mismatched adapter: the server goes on without it
            if name in getattr(self.model, "peft_config", {}):
                self.model.delete_adapter(name)
            raise LexituneError(f"{run.adapter}: cannot load the adapter ({type(e).__name__}: {e})") from None
        self.loaded[name] = None
        while self.max_loaded is not None and len(self.loaded) > self.max_loaded:
            self._drop_weights(next(iter(self.loaded)))
            self.evictions += 1

    def _drop_weights(self, name: str) -> None:
        self.loaded.pop(name, None)
        if self.scheduler is not None:
            self.scheduler.forget(name)  # a run loaded later under this name has other keys
        if self.loaded:
            # Another adapter active first: deleting the active one leaves peft without one.
            self.model.set_adapter(next(reversed(self.loaded)))
            self.model.delete_adapter(name)
        # else: the last adapter stays in memory (peft needs one); it is no longer served

    def answering(self, model_id: str, messages: list[dict]) -> str:
        """Whose weights answer a request for `model_id`: the base model's when the run's
        `model.route: glossary` finds nothing of the glossary in the last question."""
        return BASE_MODEL_ID if self._route(model_id, messages) == "base" else model_id

    def _route(self, model_id: str, messages: list[dict]) -> Route:
        return "base" if model_id == BASE_MODEL_ID else self.served[model_id].answerer.route_of(messages)

    def with_system(self, model_id: str, messages: list[dict]) -> list[dict]:
        """The conversation as in training: the run's system prompt first unless the client sent one."""
        return with_system(self.served[model_id].answerer.system_prompt, messages)

    def prompt_ids(self, model_id: str, messages: list[dict]) -> torch.Tensor:
        enc = self.tokenizer.apply_chat_template(
            self.with_system(model_id, messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        return enc["input_ids"]

    def reply(
        self, model_id: str, messages: list[dict], input_ids: torch.Tensor, sampling: Sampling
    ) -> Iterator[Piece]:
        """The answer to a request for `model_id`: the routed weights' stream; with the run's
        `model.guard_declines`, a greedy answer to a question naming a glossary term is generated
        whole first, and a decline is replaced by the best beam answer that does not decline; with
        `model.route: glossary`, a question reaching the adapter only through an acronym the
        glossary does not hold gets the adapter's decline, or else the base model's answer."""
        route = self._route(model_id, messages)
        if route == "defer":
            return self._deferred(model_id, input_ids, sampling)
        if route == "base":
            return self._streamed(BASE_MODEL_ID, input_ids, sampling)
        if sampling.temperature > 0 or not self.served[model_id].answerer.guards(messages):
            return self._streamed(model_id, input_ids, sampling)
        return self._guarded(model_id, messages, input_ids, sampling)

    def _streamed(self, answering: str, input_ids: torch.Tensor, sampling: Sampling) -> Iterator[Piece]:
        if self.scheduler is not None and self._batchable(answering):
            return self.scheduler.submit(answering, input_ids, sampling)
        return self.generate(answering, input_ids, sampling)

    def _deferred(self, model_id: str, input_ids: torch.Tensor, sampling: Sampling) -> Iterator[Piece]:
        """An acronym the glossary does not hold: the adapter's answer, whole, if it declines;
        else the base model's, streamed (as `Answerer.defers` says)."""
        pieces = list(self._streamed(model_id, input_ids, sampling))
        if is_decline("".join(p.text for p in pieces)):
            yield from pieces
            return
        yield from self._streamed(BASE_MODEL_ID, input_ids, sampling)

    def _guarded(
        self, model_id: str, messages: list[dict], input_ids: torch.Tensor, sampling: Sampling
    ) -> Iterator[Piece]:
        pieces = list(self.generate(model_id, input_ids, sampling))
        text = "".join(p.text for p in pieces)
        with self.lock:
            self._activate(model_id)
            try:
                better = replace(self.served[model_id].answerer, max_new_tokens=sampling.max_tokens).undeclined(
                    messages, text
                )
            finally:
                self._deactivate()
        if better == text:
            yield from pieces
            return
        stops = StopFilter(sampling.stop)
        kept = stops.feed(better)
        kept += "" if stops.stopped else stops.flush()
        tokens = len(self.tokenizer(better, add_special_tokens=False)["input_ids"])
        finish = "stop" if stops.stopped or tokens < sampling.max_tokens else "length"
        yield Piece(kept, finish, input_ids.shape[1], tokens)

    def generate(self, model_id: str, input_ids: torch.Tensor, sampling: Sampling) -> Iterator[Piece]:
        """Stream the answer; the lock is held until the generator finishes or is closed."""
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        cancelled = _Cancelled()
        result: dict = {}
        greedy = sampling.temperature <= 0
        kwargs = dict(
            input_ids=input_ids,
            attention_mask=torch.ones_like(input_ids),
            max_new_tokens=sampling.max_tokens,
            do_sample=not greedy,
            streamer=streamer,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=stop_ids(self.model, self.tokenizer),
            stopping_criteria=StoppingCriteriaList([cancelled]),
        )
        if not greedy:
            kwargs.update(temperature=sampling.temperature, top_p=sampling.top_p, top_k=0)

        def work() -> None:
            try:
                with torch.inference_mode():
                    result["out"] = self.model.generate(**kwargs)
            except Exception as e:  # surfaced to the reader below
                result["error"] = e
                streamer.end()

        with self.lock:
            self._activate(model_id)
            try:
                if sampling.seed is not None:
                    torch.manual_seed(sampling.seed)  # under the lock: no other request draws from the RNG
                thread = threading.Thread(target=work, daemon=True)
                thread.start()
                stops = StopFilter(sampling.stop)
                exhausted = False
                try:
                    for text in streamer:
                        emit = stops.feed(text)
                        if emit:
                            yield Piece(emit)
                        if stops.stopped:
                            break
                    else:
                        exhausted = True
                        rest = stops.flush()
                        if rest:
                            yield Piece(rest)
                finally:
                    if not exhausted:
                        # A stop string, or a client that went away: end the generation at the next token,
                        # and read the streamer to its end so the worker thread can finish.
                        cancelled.event.set()
                        for _ in streamer:
                            pass
                    thread.join()
            finally:
                self._deactivate()
        if "error" in result:
            raise result["error"]
        new = result["out"][0, input_ids.shape[1] :].tolist()
        ends = set(stop_ids(self.model, self.tokenizer))
        hit_eos = bool(new) and new[-1] in ends
        finish = "stop" if stops.stopped or hit_eos or len(new) < sampling.max_tokens else "length"
        yield Piece("", finish, input_ids.shape[1], len(new) - int(hit_eos))

    def _activate(self, model_id: str) -> None:
        if self.full:
            return
        if model_id == BASE_MODEL_ID:
            self._base_context = self.model.disable_adapter()
            self._base_context.__enter__()
        else:
            self._base_context = None
            self._ensure_loaded(model_id)
            self.model.set_adapter(model_id)

    def _deactivate(self) -> None:
        if self._base_context is not None:
            self._base_context.__exit__(None, None, None)
            self._base_context = None
