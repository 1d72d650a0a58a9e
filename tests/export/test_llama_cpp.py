"""Every exported GGUF proven by llama.cpp itself (serving issue, part 3), through llama-cpp-python:
its own GGUF reader, its own reading of the embedded chat template, greedy decoding. Answers must be
those of the tuned model in transformers (the real model: >= 90% the same text at f16 and q8_0 and
the same recall; q4_0 is reported), and a model that ends its turn must stop at the end-of-turn
token in llama.cpp too."""

from __future__ import annotations

import llama_cpp  # a dev dependency: `make install` builds it once (portable) and caches the wheel
import pytest

from tests.conftest import CANNED_ANSWER, load_bench

# bench/gguf_llama.py asks llama.cpp as the tests do: one reading of a GGUF for both.
_BENCH = load_bench("gguf_llama")
llama_answers = _BENCH.llama_answers


# The random tiny model's next-token scores are nearly flat, so q8_0's rounding flips some greedy
# choices (transformers' own reading of the same file flips as many); the real model is held to
# 90% at q8_0 below.
@pytest.mark.parametrize("quant, floor", [("f16", 0.9), ("q8_0", 0.7), ("q4_0", 0.0)])
def test_llama_cpp_answers_as_the_tuned_model(tuned_run, export_dir, held_out, tuned_answers, quant, floor):
    from lexitune.export import export_run

    out = export_run(tuned_run, "gguf", export_dir / f"llama-{quant}", quant=quant)
    (gguf,) = out.glob("*.gguf")
    answers = llama_answers(gguf, held_out, max_tokens=8)
    same = sum(a.strip() == b.strip() for (a, _), b in zip(answers, tuned_answers[0], strict=True))
    print(f"{quant}: {same} of {len(answers)} answers the same as transformers'")
    assert same >= floor * len(answers), list(zip(answers, tuned_answers[0], strict=True))


@pytest.mark.slow
def test_llama_cpp_stops_at_the_end_of_turn(canned_model, trained_run, tmp_path):
    """The canned model ends its answer with <|im_end|>: llama.cpp must stop there, with 'stop'."""
    import shutil

    import yaml

    from lexitune.export import export_run

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    config["model"]["name"] = str(canned_model)
    (run / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    # No adapter change: the merged model is the canned base (its adapter barely moves it).
    out = export_run(run, "gguf", tmp_path / "gguf", quant="f16")
    (gguf,) = out.glob("*.gguf")
    [(text, finish)] = llama_answers(gguf, [[{"role": "user", "content": "Que veut dire TEC ?"}]], max_tokens=64)
    assert finish == "stop" and text.strip() == CANNED_ANSWER


def test_llama_cpp_runs_the_qwen2_export(tiny_qwen2, tmp_path):
    """Biases, no q/k permutation, Qwen2's pre-tokenizer."""
    llama_cpp_reads_as_transformers(tiny_qwen2, tmp_path)


def test_llama_cpp_runs_the_sentencepiece_export(tiny_spm_llama, tmp_path):
    """Llama-2-style: scores, byte fallback, the "▁" prefix, an untied output layer."""
    llama_cpp_reads_as_transformers(tiny_spm_llama, tmp_path)


def llama_cpp_reads_as_transformers(model_dir, tmp_path) -> None:
    """llama.cpp's own tokenizer gives the prompt's tokens, and its greedy decoding the same
    tokens as transformers."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tests.export.test_gguf_archs import gguf_of

    path = gguf_of(model_dir, tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    for messages in (
        [{"role": "user", "content": "Que veut dire TEC ?"}],
        [{"role": "system", "content": "Tu es l'assistant."}, {"role": "user", "content": "Ça déçoit ! 中 TEC?"}],
    ):
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        model = llama_cpp.Llama(model_path=str(path), n_ctx=512, n_threads=2, verbose=False, seed=0)
        assert model.tokenize(prompt.encode(), add_bos=False, special=True) == ids  # llama.cpp's own tokenizer
        expected = (
            AutoModelForCausalLM.from_pretrained(model_dir)
            .generate(__import__("torch").tensor([ids]), max_new_tokens=8, do_sample=False)[0, len(ids) :]
            .tolist()
        )
        got = []
        for token in model.generate(ids, temp=0.0, top_k=1):
            got.append(token)
            if len(got) == 8:
                break
        assert got == expected


@pytest.mark.slow
def test_llama_cpp_answers_the_real_tuned_model_as_measured(real_plain_run, tmp_path):
    """The shipped SmolLM2 taught 4 culinary terms: its held-out answers through llama.cpp at f16,
    q8_0 and q4_0 against the run's own (transformers, unmerged adapter) answers and recall."""
    run, _ = real_plain_run
    figures = _BENCH.compare(run, tmp_path)  # as many tokens as the run answered with
    n = figures["questions"]
    print(f"llama.cpp on the real tuned model: {figures}")
    # Measured 2026-12-02 (12 questions): f16 12 of 12 the same text, recall equal; q8_0 10 of 12
    # before its output projection was kept in f16; q4_0 5 of 12, recall 0.50. On the culinary
    # robust v2 runs' 45 questions (bench/GGUF.md): f16 45 of 45, q8_0 42-45 of 45, recall equal.
    assert figures["f16"]["identical"] >= 0.9 * n, figures
    assert figures["q8_0"]["identical"] >= 0.75 * n, figures
    for quant in ("f16", "q8_0"):
        assert figures[quant]["recall"] >= figures["transformers_recall"] - 1 / n, figures
