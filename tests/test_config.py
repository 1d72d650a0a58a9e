"""Config: YAML + --set overrides, errors naming the field, and every shipped example config."""

from pathlib import Path

import pytest

from lexitune.config import Config, load_config, save_config
from lexitune.errors import LexituneError
from lexitune.generate import generate_conversations
from lexitune.glossary import load_from_config

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_overrides_use_yaml_types(tmp_path):
    cfg = load_config(
        None,
        [
            "train.epochs=2",
            "train.lora.target_modules=[q_proj,v_proj]",
            "eval.limit=null",
            "train.learning_rate=1e-4",
            "generate.language=fr",
        ],
    )
    assert cfg.train.epochs == 2 and cfg.train.lora.target_modules == ["q_proj", "v_proj"]
    assert cfg.eval.limit is None and cfg.train.learning_rate == pytest.approx(1e-4)
    assert cfg.generate.language == "fr"


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yaml").write_text("glossary:\n  path: g.json\n")
    assert load_config(tmp_path / "sub" / "c.yaml").glossary.path == (tmp_path / "sub" / "g.json").resolve()


@pytest.mark.parametrize(
    ("text", "overrides", "message"),
    [
        ("train:\n  epochz: 3\n", [], "train.epochz"),
        ("train:\n  epochs: -1\n", [], "train.epochs"),
        ("train: [1, 2\n", [], ":2: malformed YAML"),
        ("- a\n- b\n", [], "mapping"),
        ("", ["train.method=qlora-x"], "train.method"),
        ("", ["nokey"], "key=value"),
    ],
)
def test_errors_name_the_field_or_line(tmp_path, text, overrides, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(LexituneError, match=message.replace(".", r"\.").replace("[", r"\[")):
        load_config(path, overrides)


def test_missing_config_file(tmp_path):
    with pytest.raises(LexituneError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_saved_config_loads_back_identically(tmp_path):
    cfg = load_config(None, ["train.epochs=5", f"glossary.path={tmp_path / 'g.json'}"])
    save_config(cfg, tmp_path / "config.yaml")
    assert load_config(tmp_path / "config.yaml") == cfg
    assert load_config(tmp_path) == cfg  # a run folder stands for its config


@pytest.mark.parametrize("config_path", sorted(EXAMPLES.glob("*/lexitune*.yaml")), ids=lambda p: p.parent.name)
def test_every_shipped_example_config_loads_and_generates(config_path, tmp_path):
    cfg = load_config(config_path)
    assert isinstance(cfg, Config)
    terms = load_from_config(cfg.glossary)
    if cfg.generate.backend == "templates":
        train, test = generate_conversations(terms, cfg.generate, cfg.seed)
    else:  # the example's LLM settings, pointed at the scripted OpenAI-compatible server
        from tests.fake_openai import FakeLLM

        with FakeLLM({t.term: t.definition for t in terms}, cfg.generate.language) as llm:
            generate = cfg.generate.model_copy(update={"base_url": llm.url, "cache_dir": tmp_path})
            train, test = generate_conversations(terms, generate, cfg.seed)
            assert llm.answered() and all(r["body"]["model"] == cfg.generate.model for r in llm.answered())
    assert len(terms) >= 2 and train and test
    if cfg.generate.backend == "templates":  # held-out phrasings are styles no training row uses
        assert {c.style for c in train}.isdisjoint({c.style for c in test})


@pytest.mark.parametrize(
    "override, field",
    [
        ("train.epochs=.inf", "train.epochs"),
        ("train.learning_rate=.nan", "train.learning_rate"),
        ("train.max_steps=-3", "train.max_steps"),
        ("train.threads=0", "train.threads"),
        ("train.lora.alpha=-1", "train.lora.alpha"),
        ("eval.limit=-5", "eval.limit"),
        ("name=../../x", "name"),
        ("name=/etc", "name"),
        ("recipe=" + "[" * 300, "recipe"),  # a file name too long once was an OSError
    ],
)
def test_overrides_out_of_range_are_refused_naming_the_field(override: str, field: str):
    with pytest.raises(LexituneError, match=field.replace(".", r"\.")):
        load_config(None, [override])


def test_a_yaml_alias_bomb_in_a_config_is_refused(tmp_path):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)
    ]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(levels) + "\n")
    with pytest.raises(LexituneError, match="aliases expand"):
        load_config(path)


def test_a_config_that_is_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(LexituneError, match="latin1.yaml: not UTF-8"):
        load_config(path)


def test_a_glossary_file_name_becomes_a_safe_run_name(tmp_path):
    from lexitune.config import config_for_glossary

    path = tmp_path / "Mon glossaire (v2).csv"
    path.write_text("term,definition\nTEC,Techniques Élémentaires et Culinaires\n", encoding="utf-8")
    assert config_for_glossary(path, []).name == "Mon-glossaire-v2"


_KEYS = [
    "train",
    "train.epochs",
    "train.lora",
    "train.lora.r",
    "eval.limit",
    "name",
    "model.route",
    "seed",
    "recipe",
    "generate.negatives",
    "tracking",
    "experimental.aux_rotation",
    "nope.key",
    "a..b",
]


def test_fuzzed_overrides_give_a_config_or_a_lexitune_error():
    """Random --set keys and values (YAML fragments, numbers, paths, bombs): never a traceback."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    values = st.one_of(
        st.text(max_size=30),
        st.sampled_from([".inf", "-.inf", ".nan", "[1, 2", "{a: 1}", "&a [*a]", "9" * 5000, "[" * 3000, "../x", "~"]),
        st.integers().map(str),
        st.floats().map(str),
    )

    @settings(max_examples=300, deadline=None, database=None)
    @given(key=st.one_of(st.sampled_from(_KEYS), st.text(max_size=12)), value=values)
    def check(key, value):
        try:
            load_config(None, [f"{key}={value}"])
        except LexituneError:
            pass

    check()
