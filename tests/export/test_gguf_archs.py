"""GGUF export of architectures beyond SmolLM2's (serving issue, part 4): a tiny random Qwen2 with
biases on q/k/v and Qwen2's ChatML template, and a Llama-2-style model with a SentencePiece
tokenizer and Llama-2's [INST] template, written by lexitune and read back with transformers'
GGUF loader, must give the same greedy tokens and the same prompt. llama.cpp's own reading is in
test_llama_cpp.py."""

from __future__ import annotations

import torch


def gguf_of(model_dir, folder, quant: str = "f16"):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lexitune.export.gguf_file import write_gguf

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    return write_gguf(model, AutoTokenizer.from_pretrained(model_dir), folder / f"model-{quant}.gguf", quant=quant)


def _field(reader, name: str):
    field = reader.fields[name]
    value = field.parts[field.data[0]]
    return bytes(value).decode() if field.types[0].name == "STRING" else value.tolist()[0]


def reads_back_the_same(model_dir, path, messages) -> None:
    """transformers' GGUF loader gives the same prompt text and the same greedy tokens."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    original = AutoModelForCausalLM.from_pretrained(model_dir)
    back = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    source = AutoTokenizer.from_pretrained(model_dir)
    prompt = source.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == prompt
    ids = source(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    assert tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"].tolist() == ids.tolist()
    with torch.no_grad():
        a = original.generate(ids, max_new_tokens=8, do_sample=False)
        b = back.generate(ids, max_new_tokens=8, do_sample=False)
    assert a.tolist() == b.tolist()


def qwen2_gguf(tiny_qwen2, folder, quant: str = "f16"):
    return gguf_of(tiny_qwen2, folder, quant)


def test_a_qwen2_model_exports_and_reads_back(tiny_qwen2, tmp_path):
    import gguf

    path = qwen2_gguf(tiny_qwen2, tmp_path)
    reader = gguf.GGUFReader(str(path))
    fields = {name: reader.fields[name] for name in ("general.architecture", "tokenizer.ggml.pre")}
    text = {k: bytes(f.parts[f.data[0]]).decode() for k, f in fields.items()}
    assert text == {"general.architecture": "qwen2", "tokenizer.ggml.pre": "qwen2"}
    assert any(t.name == "blk.0.attn_q.bias" for t in reader.tensors)
    reads_back_the_same(tiny_qwen2, path, [{"role": "user", "content": "Que veut dire TEC ?"}])


def test_a_sentencepiece_llama_exports_and_reads_back(tiny_spm_llama, tmp_path):
    """SentencePiece: "llama" tokenizer model, scores in merge order, byte-fallback tokens typed as
    bytes, the "▁" prefix as the tokenizer applies it."""
    import gguf
    from transformers import AutoTokenizer

    path = gguf_of(tiny_spm_llama, tmp_path)
    reader = gguf.GGUFReader(str(path))
    assert _field(reader, "tokenizer.ggml.model") == "llama"
    assert "tokenizer.ggml.merges" not in reader.fields and "tokenizer.ggml.scores" in reader.fields
    types = reader.fields["tokenizer.ggml.token_type"]
    kinds = [int(types.parts[i][0]) for i in types.data]
    assert kinds[0] == gguf.TokenType.UNKNOWN and kinds[3:259] == [gguf.TokenType.BYTE] * 256
    legacy = AutoTokenizer.from_pretrained(tiny_spm_llama).legacy
    assert _field(reader, "tokenizer.ggml.add_space_prefix") == bool(legacy)
    assert any(t.name == "output.weight" for t in reader.tensors)  # an untied output layer is written
    messages = [
        {"role": "system", "content": "Tu es l'assistant de cuisine."},
        {"role": "user", "content": "Que veut dire TEC ? Ça déçoit ! 中"},
    ]
    reads_back_the_same(tiny_spm_llama, path, messages)
