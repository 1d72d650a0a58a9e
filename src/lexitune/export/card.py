"""The Hugging Face model card of a run: metadata (base model, licence, library, tags, language), what the
glossary covers, the before/after metrics from metrics.json, and how to load the model four ways.

    python -c "from lexitune.export.card import model_card; from lexitune.rundir import RunDir; print(model_card(RunDir('runs/culinary'), 'me/culinary', 'adapter'))"
"""

from __future__ import annotations

from pathlib import Path

from lexitune.config import Config
from lexitune.inference import DEFAULT_HF_ID
from lexitune.models import DEFAULT_MODEL
from lexitune.rundir import RunDir, read_json

_DEFAULT_MODEL_LICENSE = "apache-2.0"  # SmolLM2-135M-Instruct's licence
LIBRARY = {"adapter": "peft", "merged": "transformers", "gguf": "gguf"}
_METRICS = ["exact_recall", "fuzzy_recall", "embedding_similarity", "judge_accuracy"]


def base_model_id(config: Config) -> str | None:
    """The Hub id of the base model, or None for a local folder (the Hub would reject a path)."""
    if config.model.name == DEFAULT_MODEL:
        return DEFAULT_HF_ID
    return None if Path(config.model.name).exists() else config.model.name


def resolve_license(config: Config) -> str:
    """`share.license` if set, else the base model's (its local model card), else 'other'."""
    if config.share.license:
        return config.share.license
    if config.model.name == DEFAULT_MODEL:
        return _DEFAULT_MODEL_LICENSE
    readme = Path(config.model.name) / "README.md"
    if readme.exists():
        from huggingface_hub import ModelCard

        found = ModelCard.load(readme).data.license
        if found:
            return found
    return "other"


def _metrics_table(metrics: dict | None) -> str:
    if not metrics:
        return "_No evaluation in this run (metrics.json is missing)._\n"
    before, after = metrics.get("before") or {}, metrics.get("after") or {}
    fmt = lambda v: "—" if v is None else f"{v:.2f}"  # noqa: E731
    rows = [
        f"| {k} | {fmt(before.get(k))} | {fmt(after.get(k))} |"
        for k in _METRICS
        if after.get(k) is not None or before.get(k) is not None
    ]
    head = (
        f"Held-out questions: {metrics.get('test_questions')} on {metrics.get('terms')} terms "
        f"(question styles never seen in training).\n\n| metric | before | after |\n|---|---:|---:|\n"
    )
    return head + "\n".join(rows) + "\n"


def _usage(repo: str, what: str, base: str | None, system: str | None, gguf_file: str | None) -> str:
    base_ref = base or "<the base model>"
    msgs = (
        '[{"role": "system", "content": ' + repr(system) + '}, {"role": "user", "content": "…"}]'
        if system
        else '[{"role": "user", "content": "…"}]'
    )
    if what == "adapter":
        load = (
            f"```python\nfrom peft import PeftModel\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n\n"
            f'base = AutoModelForCausalLM.from_pretrained("{base_ref}")\n'
            f'model = PeftModel.from_pretrained(base, "{repo}")\ntokenizer = AutoTokenizer.from_pretrained("{repo}")\n'
            f'inputs = tokenizer.apply_chat_template({msgs}, add_generation_prompt=True, return_tensors="pt", return_dict=True)\n'
            "print(tokenizer.decode(model.generate(**inputs, max_new_tokens=64)[0], skip_special_tokens=True))\n```\n"
        )
    elif what == "merged":
        load = (
            f'```python\nfrom transformers import pipeline\n\nchat = pipeline("text-generation", model="{repo}")\n'
            f'print(chat({msgs}, max_new_tokens=64)[0]["generated_text"][-1]["content"])\n```\n'
        )
    else:
        load = (
            f"```python\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n\n"
            f'model = AutoModelForCausalLM.from_pretrained("{repo}", gguf_file="{gguf_file}")\n'
            f'tokenizer = AutoTokenizer.from_pretrained("{repo}", gguf_file="{gguf_file}")\n```\n'
        )
    ollama = (
        "With Ollama (from a GGUF export):\n\n```\nlexitune export RUN --format ollama --out culinary-ollama\n"
        "ollama create culinary -f culinary-ollama/Modelfile\nollama run culinary\n```\n"
    )
    if what == "gguf":
        ollama = f"With Ollama:\n\n```\nollama run hf.co/{repo}\n```\n"
    lexitune = (
        "With lexitune, serve it next to other adapters behind an OpenAI-compatible API:\n\n"
        "```\nlexitune serve --adapter glossary=RUN_DIR --port 8000\n```\n"
    )
    return f"## How to use\n\n{load}\n{ollama}\n{lexitune}"


def model_card(run: RunDir, repo: str, what: str, *, include_data: bool = False, gguf_file: str | None = None):
    """A `huggingface_hub.ModelCard` for the run, ready to save as README.md."""
    from huggingface_hub import ModelCard, ModelCardData

    config = run.load_config()
    metrics = read_json(run.metrics) if run.metrics.exists() else None
    terms = read_json(run.glossary) if run.glossary.exists() else []
    language = config.glossary.language or config.generate.language
    base = base_model_id(config)
    tags = ["lexitune", "glossary", "text-generation", *config.share.tags]
    if what == "adapter":
        tags += ["peft", config.train.method]
    data = ModelCardData(
        base_model=base,
        license=resolve_license(config),
        library_name=LIBRARY[what],
        language=[language],
        pipeline_tag="text-generation",
        tags=list(dict.fromkeys(tags)),
    )
    glossary = (
        f"## Glossary\n\nThe model was taught **{len(terms)} terms** in **{language}** "
        f"({metrics['test_questions'] if metrics else '?'} held-out test questions). "
    )
    if include_data:
        glossary += "The glossary is included in this repository as `glossary.json`.\n"
    else:
        glossary += "The glossary itself is not published with the model.\n"
    train = (metrics or {}).get("train") or {}
    training = (
        f"## Training\n\n{config.train.method.upper()} on `{base or config.model.name}` with lexitune: "
        f"r={config.train.lora.r}, alpha={config.train.lora.alpha}, learning rate {config.train.learning_rate}, "
        f"{train.get('steps', '?')} steps, {train.get('tokens', '?')} training tokens, "
        f"{train.get('seconds', '?')} s.\n"
    )
    if config.generate.system_prompt:
        training += f"\nSystem prompt used in training (send it too): `{config.generate.system_prompt}`\n"
    body = (
        f"# {repo.split('/')[-1]}\n\nA small language model taught a glossary with "
        f"[lexitune](https://pypi.org/project/lexitune/) ({what} weights).\n\n{glossary}\n"
        f"## Evaluation\n\n{_metrics_table(metrics)}\n{training}\n"
        f"{_usage(repo, what, base, config.generate.system_prompt, gguf_file)}"
    )
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}")
