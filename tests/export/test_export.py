"""Exports a user would load: the PEFT adapter, merged safetensors, GGUF read back, an Ollama folder."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lexitune.errors import LexituneError
from lexitune.export import export_run
from lexitune.inference.generation import answer_questions


def test_adapter_loads_with_peft_as_is(tuned_run, export_dir, held_out, tuned_answers):
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    out = export_run(tuned_run, "adapter", export_dir / "adapter")
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} <= {p.name for p in out.iterdir()}
    model = AutoPeftModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer.chat_template
    assert answer_questions(model, tokenizer, held_out[:4], max_new_tokens=8) == tuned_answers[0][:4]


def test_merged_gives_the_tuned_answers(tuned_run, export_dir, held_out, tuned_answers):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tuned, base = tuned_answers
    assert tuned != base  # the adapter matters, so equality below says the merge kept it
    out = export_run(tuned_run, "merged", export_dir / "merged")
    assert (out / "model.safetensors").exists() and not (out / "adapter_config.json").exists()
    model = AutoModelForCausalLM.from_pretrained(out)
    assert answer_questions(model, AutoTokenizer.from_pretrained(out), held_out, max_new_tokens=8) == tuned


def test_export_refuses_a_non_empty_folder_and_unknown_format(tuned_run, tmp_path):
    (tmp_path / "x").write_text("keep me")
    with pytest.raises(LexituneError, match="not empty"):
        export_run(tuned_run, "adapter", tmp_path)
    with pytest.raises(LexituneError, match="choose one of"):
        export_run(tuned_run, "onnx", tmp_path / "new")


@pytest.mark.slow
@pytest.mark.parametrize("quant", ["f16", "q8_0"])
def test_gguf_reads_back_with_template_eos_and_answers(tuned_run, export_dir, held_out, tuned_answers, quant):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lexitune.models import load_tokenizer

    out = export_run(tuned_run, "gguf", export_dir / f"gguf-{quant}", quant=quant)
    (gguf_file,) = out.glob("*.gguf")
    tokenizer = AutoTokenizer.from_pretrained(out, gguf_file=gguf_file.name)
    original = load_tokenizer(str(tuned_run / "adapter"))
    assert tokenizer.chat_template == original.chat_template
    assert tokenizer.eos_token == original.eos_token == "<|im_end|>"
    assert tokenizer.eos_token_id == original.eos_token_id
    for messages in held_out[:3]:
        assert tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False
        ) == original.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    text = "Que veut dire TEC ? Purée et Épice de la Réussite, 2024."
    assert tokenizer(text)["input_ids"] == original(text)["input_ids"]
    model = AutoModelForCausalLM.from_pretrained(out, gguf_file=gguf_file.name)
    assert model.generation_config.eos_token_id == original.eos_token_id
    answers = answer_questions(model, tokenizer, held_out, max_new_tokens=8)
    same = sum(a == b for a, b in zip(answers, tuned_answers[0], strict=True))
    # f16 rounding can flip a near-tie of the random tiny model; the real-model test checks the answer itself.
    assert same >= len(answers) - (1 if quant == "f16" else 3), (answers, tuned_answers[0])


def test_ollama_folder_and_create_command(tuned_run, export_dir):
    from lexitune.cli import app

    out = export_dir / "ollama"
    result = CliRunner().invoke(app, ["export", str(tuned_run), "--format", "ollama", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"ollama create tiny -f {out / 'Modelfile'}" in result.output
    modelfile = (out / "Modelfile").read_text()
    (gguf_file,) = out.glob("*.gguf")
    assert gguf_file.name == "tiny-q8_0.gguf" and f"FROM ./{gguf_file.name}\n" in modelfile
    assert 'SYSTEM """Tu es l\'assistant de l\'école de cuisine."""' in modelfile
    assert 'PARAMETER stop "<|im_end|>"' in modelfile and "PARAMETER temperature 0.0" in modelfile
    assert "<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>" in modelfile
    assert modelfile.count('"""') == 4


def test_ollama_refuses_a_template_that_is_not_chatml(tuned_run):
    from lexitune.export.ollama import chatml_default_system
    from lexitune.models import load_tokenizer

    tokenizer = load_tokenizer(str(tuned_run / "adapter"))
    assert chatml_default_system(tokenizer) == "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    tokenizer.chat_template = "{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
    with pytest.raises(LexituneError, match="not ChatML"):
        chatml_default_system(tokenizer)


def test_q8_0_keeps_the_output_projection_and_the_last_third_of_the_blocks_in_f16():
    """Where a tuned model's near-tied greedy choices are made (bench/GGUF.md has the measurements)."""
    import gguf
    import numpy as np

    from lexitune.export.gguf_file import _tensor_type

    t, w = gguf.GGMLQuantizationType, np.zeros((64, 64), np.float32)
    kinds = [_tensor_type(f"blk.{i}.ffn_down.weight", w, "q8_0", tied=False, n_blocks=30) for i in range(30)]
    assert [i for i, k in enumerate(kinds) if k == t.F16] == list(range(20, 30))
    assert set(kinds[:20]) == {t.Q8_0}
    assert _tensor_type("token_embd.weight", w, "q8_0", tied=True, n_blocks=30) == t.F16
    assert _tensor_type("token_embd.weight", w, "q8_0", tied=False, n_blocks=30) == t.Q8_0
    assert _tensor_type("blk.29.ffn_down.weight", w, "q4_0", tied=False, n_blocks=30) == t.Q4_0  # q8_0 only
    assert _tensor_type("blk.29.attn_norm.weight", np.zeros(64, np.float32), "q8_0", tied=False, n_blocks=30) == t.F32
