"""The whole pipeline on the tiny model: the run folder holds every file of the contract."""

import json

from lexitune.pipeline import run_pipeline
from lexitune.rundir import RunDir


def test_run_writes_the_run_folder_contract(tiny_config, tmp_path):
    out = tmp_path / "run"
    metrics = run_pipeline(tiny_config, out)
    run = RunDir(out)
    for path in [
        run.config,
        run.train_data,
        run.test_data,
        run.answers,
        run.metrics,
        run.train_log,
        run.adapter / "adapter_config.json",
        run.adapter / "adapter_model.safetensors",
        run.adapter / "tokenizer_config.json",
    ]:
        assert path.exists(), f"missing {path}"
    saved = json.loads(run.metrics.read_text())
    assert saved == metrics
    # Each term: 3 held-out forward phrasings, 2 reverse questions, 4 sealed phrasings.
    assert saved["terms"] == 4 and saved["test_questions"] == 4 * (3 + 2 + 4)
    for key in ["reverse_recall", "sealed_recall"]:
        assert isinstance(saved["after"][key], float) and isinstance(saved["before"][key], float)
    for key in ["exact_recall", "embedding_similarity", "judge_accuracy"]:
        assert key in saved["before"] and key in saved["after"]
    assert saved["train"]["tokens"] > 0 and saved["train"]["steps"] == 8
    # Where the time went, stage by stage, in pipeline order; the stages add up to at most the whole.
    timings = json.loads(run.timings.read_text())
    stages = ["data", "base_answers", "replay_answers", "training", "evaluation", "report"]
    assert list(timings) == [*stages, "total"]
    assert all(timings[k] >= 0 for k in stages) and timings["training"] > 0
    assert sum(timings[k] for k in stages) <= timings["total"] + 0.5
    answers = [json.loads(line) for line in run.answers.read_text().splitlines()]
    assert len(answers) == 36 and {"question", "expected", "before", "after", "after_exact"} <= set(answers[0])
