"""Typed configuration: one pydantic model per stage, loaded from YAML, overridden from the CLI.

    lexitune run examples/culinary-fr/lexitune.yaml --set train.epochs=2 --set eval.batch_size=8

Relative paths in a YAML file are resolved against that file's folder; the resolved config is
saved in every run folder so the run can be repeated and later commands need only the folder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lexitune import safe_yaml
from lexitune.errors import LexituneError


class _Section(BaseModel):
    # inf and nan pass every ge/gt bound; no setting means either.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class EndpointConfig(_Section):
    """An OpenAI-compatible chat endpoint (Ollama, vLLM, llama.cpp server, LM Studio, OpenAI...)."""

    base_url: str = Field(
        "http://localhost:11434/v1", description="the API root, ending in /v1 (default: Ollama on this machine)"
    )
    model: str | None = Field(None, description="model name as the server knows it, e.g. gemma3:27b or gpt-4o-mini")
    api_key_env: str | None = Field(
        None, description="NAME of the environment variable holding the API key (the key itself is never saved)"
    )
    temperature: float = Field(0.0, ge=0, le=2, description="sampling temperature")
    concurrency: int = Field(4, ge=1, description="requests in flight at once")
    timeout: float = Field(120.0, gt=0, description="seconds to wait for one reply before retrying")
    max_retries: int = Field(5, ge=0, description="retries of a request on timeouts, 429, 5xx and dropped connections")
    backoff: float = Field(
        1.0, ge=0, description="first retry wait in seconds, doubled each retry, with jitter (Retry-After wins)"
    )
    structured: Literal["auto", "json_schema", "json_object", "text"] = Field(
        "auto",
        description="how JSON is asked for: auto tries json_schema, then json_object with the schema (llama-cpp-python), then json_object, then plain text",
    )
    cache_dir: Path | None = Field(
        None, description="replies cached here, keyed by request (default: <lexitune cache>/llm)"
    )

    @field_validator("api_key_env")
    @classmethod
    def _a_name_not_a_key(cls, value: str | None) -> str | None:
        # Never echo the value: it may be a key pasted in by mistake, and errors end up in logs.
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("expected the NAME of an environment variable (e.g. OPENAI_API_KEY), not a key")
        return value


class JudgeConfig(EndpointConfig):
    """An LLM that grades each held-out answer 0/1 against the expected definition."""

    max_answer_chars: int = Field(2000, ge=1, description="longer answers are cut before being sent to the judge")


class GlossaryConfig(_Section):
    path: Path | None = Field(None, description="glossary file (json, jsonl, csv, tsv, yaml, rdf, ttl, xml)")
    format: str = Field("auto", description="file format; auto = from the extension")
    term_column: str | None = Field(None, description="CSV/TSV column of the term (default: first)")
    definition_column: str | None = Field(None, description="CSV/TSV column of the definition (default: second)")
    duplicates: Literal["error", "first", "senses"] = Field(
        "error",
        description="a term given twice with different definitions: fail, keep the first, or keep both as senses",
    )
    tolerant: bool = Field(False, description="XML: recover what can be read from a file that is not well-formed")
    language: str | None = Field(
        None, description="SKOS: the language of the labels to read (default: each concept's first label)"
    )


class GenerateConfig(EndpointConfig):
    backend: Literal["templates", "openai"] = Field(
        "templates", description="how conversations are written: offline templates, or an OpenAI-compatible LLM"
    )
    test_backend: Literal["templates", "openai"] | None = Field(
        None, description="where held-out conversations come from (default: the same backend as training)"
    )
    language: Literal["fr", "en"] = Field("en", description="language of questions and answers")
    train_styles: int = Field(8, ge=1, description="question styles per term used for training")
    test_styles: int = Field(3, ge=1, description="further question styles per term held out for testing")
    answers_per_question: int = Field(1, ge=1, description="answer phrasings per training question")
    system_prompt: str | None = Field(None, description="system message used in training, evaluation and chat")
    conversations: Path | None = Field(None, description="your own train conversations (JSONL, messages format)")
    test_conversations: Path | None = Field(None, description="your own held-out conversations (JSONL)")
    # backend: openai (the endpoint fields above come from EndpointConfig)
    temperature: float = Field(
        0.8, ge=0, le=2, description="LLM sampling temperature: some variety between conversations"
    )
    conversations_per_term: int = Field(8, ge=2, description="LLM: conversations asked for per term (train + test)")
    test_share: float = Field(
        0.25, ge=0, lt=1, description="LLM: share of a term's conversations held out for test (course: 1 in 4)"
    )
    min_conversations: int = Field(
        2, ge=1, description="LLM: a term with fewer valid conversations after its attempts is a failure"
    )
    term_attempts: int = Field(
        3, ge=1, description="LLM: requests per term at most, while it has too few valid conversations"
    )
    duplicate_threshold: float = Field(
        90, ge=0, le=100, description="LLM: questions this similar (rapidfuzz 0-100) count as duplicates"
    )
    extra_instructions: str | None = Field(None, description="LLM: added to the prompt, e.g. the tone or the audience")
    negatives: float = Field(
        0.0,
        ge=0,
        description="negative conversations (invented acronyms answered 'I don't know') per glossary training conversation",
    )
    reverse_styles: int = Field(
        0,
        ge=0,
        le=4,
        description="reverse questions trained per term ('What is the acronym for <definition>?'), from 4 training styles",
    )
    reverse_test: bool = Field(True, description="hold out 2 more reverse styles per term and report reverse_recall")
    sealed: bool = Field(
        True,
        description="hold out 4 more phrasings per term, never used for any decision, and report sealed_recall",
    )
    examples_per_term: int | None = Field(
        None,
        ge=1,
        description="LLM: training conversations wanted per term; a term with fewer valid ones is topped up with template phrasings (default: train_styles)",
    )


class ModelConfig(_Section):
    name: str = Field(
        "default", description="'default' (shipped SmolLM2-135M-Instruct), a Hugging Face id or a local path"
    )
    route: Literal["always", "glossary"] = Field(
        "always",
        description="glossary: questions that name no glossary term or alias, quote no definition and hold no all-capitals word are answered by the base model (adapter off), and so are those whose only all-capitals words the glossary lacks, unless the adapter declines them; in eval, chat and serve; exports cannot route",
    )
    guard_declines: bool = Field(
        False,
        description="a question naming a glossary term or alias never gets a decline: when the greedy answer declines, the best beam-search answer that does not is given instead, in eval, chat and serve",
    )


class LoraConfig(_Section):
    r: int = Field(16, ge=1, description="LoRA rank")
    alpha: float = Field(32, gt=0, description="LoRA scaling numerator (scale = alpha / r)")
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout on the LoRA input")
    target_modules: list[str] | Literal["all-linear"] = Field("all-linear", description="modules to adapt")


class TrainConfig(_Section):
    method: Literal["lora", "dora", "full", "qlora"] = Field(
        "lora", description="what is trained: LoRA, DoRA, every weight, or LoRA over the base in 4-bit (QLoRA)"
    )
    lora: LoraConfig = Field(default_factory=LoraConfig)
    epochs: float = Field(3, gt=0, description="passes over the training conversations")
    learning_rate: float = Field(2e-3, gt=0, description="peak learning rate")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay")
    batch_size: int = Field(8, ge=1, description="conversations per micro-batch")
    grad_accum: int = Field(1, ge=1, description="micro-batches per optimiser step")
    warmup_ratio: float = Field(0.1, ge=0, le=1, description="share of steps with linear warmup")
    scheduler: Literal["cosine", "linear", "constant"] = Field("cosine", description="learning-rate decay after warmup")
    max_length: int = Field(256, ge=8, description="longer conversations are truncated (tokens)")
    precision: Literal["auto", "bf16", "fp32"] = Field(
        "auto", description="auto: bf16 autocast only where this CPU/GPU runs it faster"
    )
    threads: int | None = Field(None, ge=1, description="CPU threads (default: all cores)")
    save_every: int = Field(0, ge=0, description="checkpoint every N optimiser steps (0: only at the end)")
    max_steps: int | None = Field(None, ge=1, description="stop after this many optimiser steps (overrides epochs)")
    early_stopping_patience: int = Field(
        0,
        ge=0,
        description="stop once the learning curve's recall has not improved for K evaluations, keeping the best weights (0: off; needs eval.curve_every)",
    )
    share_prefix: bool = Field(True, description="compute the prefix all conversations of a batch share once per batch")
    compile: bool = Field(
        False,
        description="torch.compile the decoder's MLP and norm blocks (fuses elementwise work; pays only on long runs)",
    )
    replay_ratio: float = Field(
        0.0, ge=0, description="general prompts answered by the base model itself, per glossary training conversation"
    )
    replay_known: float = Field(
        0.0,
        ge=0,
        description="well-known acronyms (none a probe question) asked in the glossary's training styles and answered by the base model, per glossary training conversation",
    )
    replay_distill: bool = Field(
        False,
        description="train replay answers toward the base model's whole next-token distribution (KL), not only its greedy text (LoRA/DoRA: full fine-tuning has no base to switch to and trains on the text)",
    )
    replay_max_new_tokens: int = Field(64, ge=1, description="length limit of the base model's replay answers (tokens)")
    preference: Literal["none", "dpo", "orpo"] = Field(
        "none",
        description="after SFT, preference tuning on pairs the run makes from its training conversations: the glossary's answer, the decline, the base model's own answer chosen; the model's own wrong answers rejected",
    )
    preference_beta: float = Field(0.1, gt=0, description="DPO's beta, or ORPO's weight of the odds-ratio term")
    preference_epochs: float = Field(1.0, gt=0, description="passes over the preference pairs")
    preference_learning_rate: float = Field(5e-5, gt=0, description="peak learning rate of preference tuning")


class EvalConfig(_Section):
    before: bool = Field(True, description="also answer with the untuned base model")
    batch_size: int = Field(
        64,
        ge=1,
        description="questions answered at once (decoding reads every weight once per token for the whole batch)",
    )
    # 96, not 48: the base model and replay-trained adapters explain a calculation step by step
    # before its result ("2 * 6 = 12. So ..."), and a 48-token cut scored such answers wrong for
    # the weights' fault when the limit was the ruler's (docs/experiments.md, session 35).
    max_new_tokens: int = Field(
        96, ge=1, description="answer length limit (tokens), in evaluation and by default in chat"
    )
    embedding_model: str = Field(
        "default", description="'default' (shipped all-MiniLM-L6-v2), a sentence-transformers id or path, or 'none'"
    )
    limit: int | None = Field(None, ge=1, description="answer only the first N held-out questions")
    judge: JudgeConfig | None = Field(None, description="an OpenAI-compatible LLM judge (null: no judge)")
    curve_every: int = Field(
        0, ge=0, description="learning curve: answer a sample of held-out questions every N optimiser steps (0: off)"
    )
    curve_sample: int = Field(12, ge=1, description="learning curve: held-out questions in the fixed sample")
    probes: bool = Field(True, description="measure retention (general probe) and abstention (invented acronyms)")
    probe_limit: int | None = Field(None, ge=1, description="ask only the first N general probe questions")
    unknown_terms: int = Field(
        10, ge=0, le=64, description="invented acronyms asked (each in every held-out style) for abstention"
    )


class ExperimentalConfig(_Section):
    """Settings the quality bench has not shown to help the default recipe: kept for experiments,
    off by default, and removed once the bench shows they do not help."""

    augment: float = Field(
        0.0,
        ge=0,
        le=1,
        description="share of training questions given an opener or closer ('Hi, ...', '... Thanks!'), so phrasing predicts nothing",
    )
    replay_arithmetic: float = Field(
        0.0,
        ge=0,
        description="small calculations (none a probe question) answered by the base model and kept only when right, per glossary training conversation",
    )
    replay_source: Literal["shipped", "self", "both"] = Field(
        "both",
        description="replay prompts: the shipped ones, ones the base model writes itself, or the shipped ones then its own",
    )
    select: bool = Field(
        False, description="keep the checkpoint with the best validation score (recall, retention, abstention)"
    )
    select_every: int | None = Field(None, ge=1, description="score every N steps (default: 4 times per run)")
    select_patience: int | None = Field(
        None, ge=1, description="stop after N scores without improvement (default: never)"
    )


class TrackingConfig(_Section):
    backend: Literal["mlflow", "none"] = Field("mlflow", description="where runs are logged; none turns tracking off")
    uri: str | None = Field(
        None,
        description="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else sqlite in mlruns/ beside the run folder)",
    )
    experiment: str | None = Field(None, description="MLflow experiment (default: the run name)")


class SweepParam(_Section):
    type: Literal["float", "int", "categorical"] = Field(..., description="kind of values")
    low: float | None = Field(None, description="float/int: smallest value")
    high: float | None = Field(None, description="float/int: largest value")
    log: bool = Field(False, description="float/int: sample on a log scale")
    step: float | None = Field(None, description="float/int: spacing of values")
    choices: list[Any] | None = Field(None, description="categorical: the values")


class SweepConfig(_Section):
    space: dict[str, SweepParam] = Field(
        default_factory=dict, description="search space keyed by dotted setting, e.g. train.learning_rate"
    )
    grid: dict[str, list[Any]] = Field(
        default_factory=dict, description="plain grid keyed by dotted setting (every combination is tried)"
    )
    pruner: Literal["median", "none"] = Field(
        "median", description="stop unpromising trials early from the learning curve"
    )
    sampler_seed: int = Field(0, description="seed of the sampler")
    heartbeat_seconds: int = Field(
        60, ge=1, description="a running trial's heartbeat; a trial silent for 3 beats is failed and retried"
    )


class ShareConfig(_Section):
    license: str | None = Field(None, description="licence on the Hub and in GGUF metadata (default: the base model's)")
    tags: list[str] = Field(default_factory=list, description="extra tags for the Hub model card")


class Config(_Section):
    recipe: str = Field(
        "robust",
        description="a shipped recipe (robust, plain: `lexitune recipes`) or a recipe YAML file; your settings are laid over it",
    )
    recipe_version: int | None = Field(None, description="the recipe's version (written by lexitune; read-only)")
    name: str = Field(
        "run", max_length=100, description="run name, used for the default run folder (a folder name, not a path)"
    )
    seed: int = Field(0, description="seed for data generation and training")
    glossary: GlossaryConfig = Field(default_factory=GlossaryConfig)
    generate: GenerateConfig = Field(default_factory=GenerateConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    sweep: SweepConfig = Field(default_factory=SweepConfig)

    @field_validator("name")
    @classmethod
    def _a_folder_name(cls, value: str) -> str:
        # The name becomes runs/<name>: a path in it would write the run somewhere else. (Spaces
        # and accents are fine: runs made before this check must still load.)
        if not value.strip() or value.startswith(".") or any(c in value for c in "/\\\0"):
            raise ValueError("expected a folder name, not a path: no '/', '\\', or leading '.'")
        return value

    @field_validator("tracking", mode="before")
    @classmethod
    def _tracking_shorthand(cls, value: Any) -> Any:
        """`tracking: none` (or `tracking: mlflow`) is short for `tracking: {backend: ...}`."""
        return {"backend": value} if isinstance(value, str) else value

    share: ShareConfig = Field(default_factory=ShareConfig)
    experimental: ExperimentalConfig = Field(default_factory=ExperimentalConfig)

    @model_validator(mode="before")
    @classmethod
    def _lay_over_recipe(cls, data: Any) -> Any:
        """The recipe's settings first, the user's over them: a user sets only what is theirs."""
        if not isinstance(data, dict):
            return data
        if data.get("recipe_version") is not None:
            # A config lexitune wrote (a run's config.yaml, a sweep trial's): every setting is in
            # it already, as the recipe of its version set it; a newer recipe must not change it.
            return data
        from lexitune.recipes import load_recipe

        recipe = load_recipe(data.get("recipe") or "robust")
        merged = deep_merge(recipe.settings, {**data, "recipe_version": recipe.version})
        user_model = data.get("model") if isinstance(data.get("model"), dict) else {}
        train = merged.get("train") if isinstance(merged.get("train"), dict) else {}  # not a mapping: pydantic says so
        if train.get("method") == "full" and "route" not in user_model:
            # A full fine-tune has no adapter to switch off: the recipe's routing cannot apply.
            merged["model"] = {**(merged.get("model") or {}), "route": "always"}
        return merged

    @model_validator(mode="after")
    def _one_keeper_of_the_best_weights(self) -> Config:
        # Both would put back "their" best weights at the end; the last to do so would silently win.
        if self.experimental.select and self.train.early_stopping_patience:
            raise ValueError(
                "experimental.select and train.early_stopping_patience both keep the best weights: choose one"
            )
        return self

    @model_validator(mode="after")
    def _route_needs_an_adapter(self) -> Config:
        if self.model.route == "glossary" and self.train.method == "full":
            raise ValueError(
                "model.route glossary needs an adapter to switch off (train.method lora, dora or qlora); "
                "for a full fine-tune set model.route=always"
            )
        return self


def deep_merge(base: dict, over: dict) -> dict:
    """`over` laid on `base`, section by section (a section given as null or a scalar replaces it)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _parse_value(text: str) -> Any:
    """`--set a.b=3` gives an int, `=[q_proj,v_proj]` a list, `=null` None: YAML's own rules."""
    try:
        return safe_yaml.load(text, "--set", max_nodes=10_000)
    except LexituneError:
        return text


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    for item in overrides:
        if "=" not in item:
            raise LexituneError(f"--set {item!r}: expected key=value, e.g. train.epochs=2")
        key, value = item.split("=", 1)
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            if node.get(part) is None:  # a section left null (eval.judge) comes into being when set
                node[part] = {}
            node = node[part]
            if not isinstance(node, dict):
                raise LexituneError(f"--set {key}: {part} is not a section")
        node[parts[-1]] = _parse_value(value)
    return data


def _resolve_paths(config: Config, base: Path) -> Config:
    for section, field in [
        ("glossary", "path"),
        ("generate", "conversations"),
        ("generate", "test_conversations"),
        ("generate", "cache_dir"),
        ("eval.judge", "cache_dir"),
    ]:
        obj = config
        for part in section.split("."):
            obj = getattr(obj, part) if obj is not None else None
        value = getattr(obj, field) if obj is not None else None
        if value is not None and not Path(value).is_absolute():
            setattr(obj, field, (base / value).resolve())
    if config.model.name != "default" and (base / config.model.name).exists():
        config.model.name = str((base / config.model.name).resolve())
    return config


def validate_config(data: dict, origin: str) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        where = f"{loc}: " if loc else ""  # a rule over the whole config names no field
        raise LexituneError(f"{origin}: {where}{err['msg'].removeprefix('Value error, ')}") from None


def load_config(path: Path | str | None, overrides: list[str] | None = None) -> Config:
    """Read a YAML config (or start from defaults when `path` is None) and apply `--set` overrides."""
    data: dict = {}
    base = Path.cwd()
    origin = "config"
    if path is not None:
        path = Path(path)
        origin = str(path)
        if path.is_dir() and (path / "config.yaml").exists():
            path = path / "config.yaml"
        if not path.is_file():
            raise LexituneError(f"{path}: config file not found")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise LexituneError(f"{path}: not UTF-8 text (byte offset {e.start}); save the file as UTF-8") from None
        data = safe_yaml.load(text, str(path), max_nodes=100_000) or {}
        if not isinstance(data, dict):
            raise LexituneError(f"{path}: expected a mapping of settings at the top level")
        base = path.parent
    data = apply_overrides(data, overrides or [])
    _resolve_recipe_path(data, base)
    return _resolve_paths(validate_config(data, origin), base)


def _resolve_recipe_path(data: dict, base: Path) -> None:
    """A recipe file is named relative to the config that names it, like every other path."""
    recipe = data.get("recipe")
    if isinstance(recipe, str) and recipe.endswith((".yaml", ".yml")) and not Path(recipe).is_absolute():
        data["recipe"] = str((base / recipe).resolve())


def flat_settings(data: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out.update(flat_settings(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def save_config(config: Config, path: Path) -> None:
    """The resolved config, every setting explicit, headed by what its recipe set."""
    from lexitune.recipes import load_recipe
    from lexitune.rundir import write_text

    recipe = load_recipe(config.recipe)
    lines = [f"# recipe {recipe.name} (version {recipe.version}) set:"]
    lines += [f"#   {key}: {json.dumps(value)}" for key, value in flat_settings(recipe.settings).items()]
    body = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    write_text(path, "\n".join(lines) + "\n" + body)


# --- `lexitune run my-glossary.csv`: a glossary file stands for a config of the default recipe.
_GLOSSARY_SUFFIXES = {".json", ".jsonl", ".csv", ".tsv", ".rdf", ".ttl", ".xml", ".yaml", ".yml"}
_FRENCH = re.compile(r"\b(le|la|les|des|du|de|et|pour|en|une|un|au|aux|à|d’|l’|d'|l')\b|[éèêàçùâîôû]", re.IGNORECASE)
_ENGLISH = re.compile(r"\b(the|of|and|for|to|in|a|an|on|with)\b", re.IGNORECASE)


def is_glossary_file(path: Path) -> bool:
    """A glossary rather than a config: a known glossary extension, and for YAML a list at the top."""
    path = Path(path)
    if not path.is_file() or path.suffix.lower() not in _GLOSSARY_SUFFIXES:
        return False
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = safe_yaml.load(path.read_text(encoding="utf-8"), str(path))
        except (LexituneError, UnicodeDecodeError):
            return False  # load_config gives the error with its line
        # A list of terms, or a {term: definition} mapping that names none of the config's sections.
        return isinstance(data, list) or (
            isinstance(data, dict) and bool(data) and not set(data) & set(Config.model_fields)
        )
    return True


def detect_language(definitions: list[str]) -> Literal["fr", "en"]:
    """fr or en, from the definitions' short words and accents (what the templates need to know)."""
    text = " ".join(definitions)
    return "fr" if len(_FRENCH.findall(text)) > len(_ENGLISH.findall(text)) else "en"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str, fallback: str = "run") -> str:
    """A file or folder name from user text: no path, no leading dot or dash.

    "Mon glossaire (v2).csv" gives "Mon-glossaire-v2.csv"; the run folder and the UI's files use it."""
    return _UNSAFE.sub("-", Path(text).name).strip("-._") or fallback


def config_for_glossary(path: Path, overrides: list[str], lang: str | None = None) -> Config:
    """The default recipe's config for a glossary file: its name from the file, its language detected."""
    from lexitune.glossary import load_from_config

    path = Path(path).resolve()
    # The run folder is named after the file: "Mon glossaire (v2).csv" gives runs/Mon-glossaire-v2.
    name = safe_name(path.stem)
    data: dict = {"name": name, "glossary": {"path": str(path)}}
    data = apply_overrides(data, overrides)
    if lang is None and "language" not in data.get("generate", {}):
        glossary = validate_config(data, str(path)).glossary
        terms = load_from_config(glossary)
        lang = detect_language([d for t in terms for d in t.definitions])
    if lang is not None:
        if lang not in ("fr", "en"):
            raise LexituneError(f"--lang {lang}: expected fr or en")
        data.setdefault("generate", {})["language"] = lang
    _resolve_recipe_path(data, Path.cwd())
    return _resolve_paths(validate_config(data, str(path)), Path.cwd())
