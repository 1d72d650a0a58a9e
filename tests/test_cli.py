"""The CLI as a user meets it: help, exit codes, one-line errors, and each command on a tiny run."""

import contextlib
import io
import json
import subprocess
import sys
import traceback

import pytest

from lexitune.cli import main
from lexitune.config import save_config


def lexitune(*args):
    """Run the CLI in this process (importing torch once, not per call), as `main()` would."""
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["lexitune", *map(str, args)]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as e:
        code = e.code or 0
    except Exception:
        err.write("Traceback (most recent call last):\n" + traceback.format_exc())
        code = 1
    finally:
        sys.argv = argv
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_the_console_script_runs_as_a_program():
    result = subprocess.run([sys.executable, "-m", "lexitune.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "chat" in result.stdout


def assert_user_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_help_lists_the_pipeline_commands():
    result = lexitune("--help")
    assert result.returncode == 0
    for command in ["run", "generate", "train", "eval", "chat"]:
        assert command in result.stdout


def test_missing_config_is_a_one_line_error(tmp_path):
    assert_user_error(lexitune("run", tmp_path / "nope.yaml"), "nope.yaml", "not found")


def test_bad_setting_names_the_field(tmp_path):
    assert_user_error(
        lexitune("generate", "examples/culinary-fr/lexitune.yaml", "--set", "train.epochz=2", "--out", tmp_path / "r"),
        "train.epochz",
    )


def test_bad_glossary_names_the_file_and_line(tmp_path):
    glossary = tmp_path / "g.json"
    glossary.write_text('[\n {"acronym": "TEC", "definition": "Techniques"},\n {"acronym": "PER"}\n]\n')
    config = tmp_path / "c.yaml"
    config.write_text("glossary:\n  path: g.json\n")
    assert_user_error(lexitune("generate", config, "--out", tmp_path / "r"), "g.json:3", "definition")


def test_debug_shows_the_traceback(tmp_path):
    result = lexitune("run", tmp_path / "nope.yaml", "--debug")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_generate_writes_the_datasets(tmp_path):
    from lexitune.recipes import load_recipe

    result = lexitune("generate", "examples/culinary-fr/lexitune.yaml", "--out", tmp_path / "r")
    assert result.returncode == 0, result.stderr
    train = [
        json.loads(line) for line in (tmp_path / "r" / "data" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    test = [
        json.loads(line) for line in (tmp_path / "r" / "data" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    ]

    def count(rows, prefix):
        return sum(r["style"].startswith(prefix) for r in rows)

    # The default recipe (robust): every training style, 3 reverse styles, negatives as many as the forward questions.
    negatives = round(load_recipe("robust").settings["generate"]["negatives"] * 15 * 13)
    assert count(train, "fr.q") == 15 * 13 and count(train, "reverse/") == 15 * 3
    assert count(train, "negative/") == negatives and len(train) == 15 * 13 + 15 * 3 + negatives
    assert count(test, "fr.q") == 15 * 3 and count(test, "reverse/") == 15 * 2 and count(test, "sealed/") == 15 * 4
    assert train[0]["messages"][-1]["role"] == "assistant"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tiny_model_dir):
    from lexitune.config import load_config
    from tests.conftest import culinary_glossary

    folder = tmp_path_factory.mktemp("cli")
    culinary_glossary(folder, 3, "g.json")
    cfg = load_config(
        None,
        [
            "recipe=plain",
            f"glossary.path={folder / 'g.json'}",
            "generate.language=fr",
            f"model.name={tiny_model_dir}",
            "train.max_steps=2",
            "eval.max_new_tokens=6",
            "eval.embedding_model=none",
        ],
    )
    save_config(cfg, folder / "c.yaml")
    result = lexitune("run", folder / "c.yaml", "--out", folder / "run")
    assert result.returncode == 0, result.stderr
    assert "exact_recall" in result.stderr  # the summary table
    return folder


def test_a_finished_run_is_never_overwritten(tiny_run):
    before = (tiny_run / "run" / "metrics.json").read_text()
    assert_user_error(
        lexitune("run", tiny_run / "c.yaml", "--out", tiny_run / "run"), "already holds a run", "--resume"
    )
    assert (tiny_run / "run" / "metrics.json").read_text() == before


def test_eval_and_chat_need_only_the_run_folder(tiny_run):
    run = tiny_run / "run"
    (run / "metrics.json").unlink()
    result = lexitune("eval", run)
    assert result.returncode == 0, result.stderr
    assert json.loads((run / "metrics.json").read_text())["test_questions"] == 3 * (
        3 + 2 + 4
    )  # forward, reverse, sealed
    for extra in [[], ["--base"]]:
        result = lexitune("chat", run, "--prompt", "Que veut dire TEC ?", "--max-new-tokens", "5", *extra)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip()


def test_chat_on_a_folder_that_is_not_a_run(tmp_path):
    assert_user_error(lexitune("chat", tmp_path, "--prompt", "hi"), "not a lexitune run folder")


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--bogus"], "No such option: --bogus"),
        (["eval"], "Missing argument"),
        (["export"], "Missing argument"),
        (["frobnicate"], "No such command"),
    ],
)
def test_usage_errors_are_one_message_not_a_traceback(args, message):
    result = lexitune(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "╭" not in result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 4


def test_out_under_a_file_is_a_one_line_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    assert_user_error(
        lexitune("generate", "examples/culinary-fr/lexitune.yaml", "--out", tmp_path / "afile" / "run"), "afile"
    )
    assert_user_error(
        lexitune("generate", "examples/culinary-fr/lexitune.yaml", "--out", tmp_path / "afile"), "is a file"
    )


def test_another_config_never_replaces_a_runs_own(tiny_run, tmp_path):
    """`generate OTHER.yaml --out FINISHED_RUN` used to exit 0 and replace the run's config and glossary."""
    run = tiny_run / "run"
    before = {name: (run / name).read_bytes() for name in ("config.yaml", "data/glossary.json", "data/train.jsonl")}
    result = lexitune("generate", "examples/culinary-fr/lexitune.yaml", "--out", run)
    assert_user_error(result, "holds a run made with other settings")
    assert {name: (run / name).read_bytes() for name in before} == before


def test_export_to_a_file_or_a_full_folder_is_refused_and_a_failed_export_leaves_nothing(
    tiny_run, tmp_path, monkeypatch
):
    run = tiny_run / "run"
    (tmp_path / "afile").write_text("x")
    assert_user_error(lexitune("export", run, "--format", "adapter", "--out", tmp_path / "afile"), "is a file")
    from lexitune import export

    def broken(run, out, quant):
        (out / "half.gguf").write_bytes(b"GGUF")
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(export.EXPORTERS, "gguf", broken)
    result = lexitune("export", run, "--format", "gguf", "--out", tmp_path / "g")
    assert_user_error(result, "No space left on device")
    assert not (tmp_path / "g").exists() and not list(tmp_path.glob(".g.*"))  # the rerun is not blocked
    monkeypatch.undo()
    assert lexitune("export", run, "--format", "adapter", "--out", tmp_path / "g").returncode == 0
    assert (tmp_path / "g" / "adapter_config.json").exists()
