"""Recipes: robust by default, plain on request, the user's settings laid over them, a glossary file alone."""

from __future__ import annotations

import json

import pytest
import yaml

from lexitune.config import Config, config_for_glossary, detect_language, is_glossary_file, load_config, save_config
from lexitune.errors import LexituneError
from lexitune.recipes import load_recipe

ROBUST = load_recipe("robust").settings


def test_robust_is_the_default_and_plain_is_plain():
    robust, plain = Config(), load_config(None, ["recipe=plain"])
    assert robust.recipe == "robust" and robust.recipe_version == load_recipe("robust").version
    assert robust.generate.negatives == ROBUST["generate"]["negatives"] > 0
    assert robust.train.replay_ratio == ROBUST["train"]["replay_ratio"] > 0 and robust.train.replay_distill
    assert robust.generate.reverse_styles > 0
    assert plain.generate.negatives == 0 and plain.train.replay_ratio == 0 and plain.generate.train_styles == 8


def test_the_users_settings_win_section_by_section(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  epochs: 1\ngenerate:\n  language: fr\n", encoding="utf-8")
    config = load_config(path, ["generate.negatives=0.5"])
    assert config.train.epochs == 1 and config.generate.negatives == 0.5
    assert config.train.replay_ratio == ROBUST["train"]["replay_ratio"]  # the rest of the section stays the recipe's
    assert config.generate.train_styles == ROBUST["generate"]["train_styles"]


def test_the_run_config_names_what_the_recipe_set(tmp_path):
    save_config(Config(), tmp_path / "config.yaml")
    text = (tmp_path / "config.yaml").read_text(encoding="utf-8")
    assert text.startswith(f"# recipe robust (version {load_recipe('robust').version}) set:")
    assert f"#   generate.negatives: {ROBUST['generate']['negatives']}" in text
    assert Config.model_validate(yaml.safe_load(text)) == Config()  # the file reads back as it was


def test_a_full_fine_tune_under_the_default_recipe_does_not_route():
    config = load_config(None, ["train.method=full"])
    assert config.model.route == "always" and config.train.method == "full"


def test_a_recipe_file_and_clear_errors(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\nversion: 3\ndescription: x\nsettings:\n  train: {epochs: 7}\n", encoding="utf-8")
    config = load_config(None, [f"recipe={mine}"])
    assert config.train.epochs == 7 and config.recipe_version == 3
    with pytest.raises(LexituneError, match="'nope' is neither a shipped recipe"):
        load_config(None, ["recipe=nope"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("settings:\n  recipe: plain\n", encoding="utf-8")
    with pytest.raises(LexituneError, match="cannot name another recipe"):
        load_config(None, [f"recipe={bad}"])


def test_the_examples_set_only_what_is_theirs():
    from pathlib import Path

    for path in sorted((Path(__file__).resolve().parent.parent / "examples").glob("*/lexitune.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert "train" not in data and "recipe" not in data, f"{path} overrides the recipe"
        assert set(data.get("generate", {})) <= {"language"}, path


def test_a_glossary_file_is_a_config_with_its_language_detected(tmp_path):
    french = tmp_path / "cuisine.json"
    french.write_text(json.dumps([{"acronym": "TEC", "definition": "Techniques Élémentaires et Culinaires"}]))
    english = tmp_path / "ops.csv"
    english.write_text("term,definition\nSLA,Service Level Agreement for the customers\n", encoding="utf-8")
    config_yaml = tmp_path / "c.yaml"
    config_yaml.write_text("name: x\n", encoding="utf-8")
    glossary_yaml = tmp_path / "g.yaml"
    glossary_yaml.write_text("- acronym: DIT\n  meaning: Department of International Trade\n", encoding="utf-8")
    assert is_glossary_file(french) and is_glossary_file(english) and is_glossary_file(glossary_yaml)
    assert not is_glossary_file(config_yaml)
    fr = config_for_glossary(french, [])
    assert (fr.name, fr.generate.language, fr.recipe) == ("cuisine", "fr", "robust")
    assert config_for_glossary(english, []).generate.language == "en"
    assert config_for_glossary(english, [], "fr").generate.language == "fr"
    assert config_for_glossary(english, ["recipe=plain"]).recipe == "plain"
    assert detect_language(["Department for Work and Pensions"]) == "en"
    assert detect_language(["Pâte à choux et Vapeur"]) == "fr"


def test_lexitune_recipes_lists_them(tmp_path):
    from typer.testing import CliRunner

    from lexitune.cli import app

    result = CliRunner().invoke(app, ["recipes"])
    assert result.exit_code == 0, result.output
    robust, plain = load_recipe("robust").version, load_recipe("plain").version
    assert f"robust (version {robust})  [default]" in result.output and f"plain (version {plain})" in result.output


def test_a_recipe_file_is_found_beside_its_config_and_a_saved_config_keeps_its_version(tmp_path, monkeypatch):
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "mine.yaml").write_text("version: 5\nsettings:\n  train: {epochs: 7}\n", encoding="utf-8")
    (folder / "c.yaml").write_text("recipe: mine.yaml\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the config's folder
    config = load_config(folder / "c.yaml")
    assert config.train.epochs == 7 and config.recipe_version == 5
    save_config(config, tmp_path / "run.yaml")
    (folder / "mine.yaml").write_text("version: 6\nsettings:\n  train: {epochs: 9}\n", encoding="utf-8")
    again = load_config(tmp_path / "run.yaml")  # a finished run's config: as it was trained
    assert again.train.epochs == 7 and again.recipe_version == 5


def test_a_mapping_yaml_glossary_is_a_glossary(tmp_path):
    mapping = tmp_path / "g.yaml"
    mapping.write_text("TEC: Techniques Élémentaires et Culinaires\n", encoding="utf-8")
    assert is_glossary_file(mapping)


def test_a_sweep_cannot_sweep_the_recipe():
    from lexitune.sweep import with_params

    with pytest.raises(LexituneError, match="recipe cannot be swept"):
        with_params(Config(), {"recipe": "plain"})
