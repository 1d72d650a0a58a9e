"""The shipped SmolLM2, briefly taught 3 terms, exported to GGUF q8_0 and read back: does it still know them?

A chat-template or EOS mismatch after GGUF export is the most common complaint about fine-tuning
tools; this checks the answer itself, on the real model, through transformers' GGUF loader.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.slow
def test_real_model_gguf_answers_the_glossary(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lexitune.config import load_config
    from lexitune.evaluate.metrics import contains_definition
    from lexitune.export import export_run
    from lexitune.generate import read_conversations
    from lexitune.inference.generation import answer_questions
    from lexitune.pipeline import run_pipeline
    from lexitune.rundir import RunDir

    terms = json.loads((EXAMPLES / "culinary-fr" / "glossary.json").read_text(encoding="utf-8"))[:3]
    glossary = tmp_path / "glossary.json"
    glossary.write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
    config = load_config(
        None,
        [
            "recipe=plain",
            "name=real",
            f"glossary.path={glossary}",
            "generate.language=fr",
            "train.batch_size=4",
            "train.max_steps=16",
            "eval.before=false",
            "eval.limit=3",
            "eval.embedding_model=none",
            "eval.max_new_tokens=32",
        ],
    )
    metrics = run_pipeline(config, tmp_path / "run")
    assert metrics["after"]["exact_recall"] > 0, "the short training did not teach the terms"
    run = RunDir(tmp_path / "run")
    out = export_run(run.root, "gguf", tmp_path / "gguf", quant="q8_0")
    (gguf_file,) = out.glob("*.gguf")
    tokenizer = AutoTokenizer.from_pretrained(out, gguf_file=gguf_file.name)
    model = AutoModelForCausalLM.from_pretrained(out, gguf_file=gguf_file.name)
    answers_rows = [json.loads(line) for line in run.answers.read_text(encoding="utf-8").splitlines()]
    questions = read_conversations(run.test_data)[:3]
    answers = answer_questions(model, tokenizer, [c.prompt_messages() for c in questions], max_new_tokens=32)
    by_term = {t["acronym"] if "acronym" in t else t["term"]: t["definition"] for t in terms}
    knew = [contains_definition(a, by_term[c.term]) for a, c in zip(answers, questions, strict=True)]
    tuned_knew = [row["after_exact"] for row in answers_rows]
    print("gguf answers:", answers, "tuned answers:", [row["after"] for row in answers_rows])
    assert any(knew), answers
    assert sum(knew) >= sum(tuned_knew) - 1, (answers, answers_rows)
