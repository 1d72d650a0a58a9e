"""GGUF export of architectures beyond Llama (serving issue, part 4): a tiny random Qwen2 with
biases on q/k/v and Qwen2's ChatML template, written by lexitune and read back with transformers'
GGUF loader, must give the same greedy tokens and the same prompt. llama.cpp's own reading is in
test_llama_cpp.py."""

from __future__ import annotations

import torch


def qwen2_gguf(tiny_qwen2, folder, quant: str = "f16"):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lexitune.export.gguf_file import write_gguf

    model = AutoModelForCausalLM.from_pretrained(tiny_qwen2)
    return write_gguf(model, AutoTokenizer.from_pretrained(tiny_qwen2), folder / f"qwen2-{quant}.gguf", quant=quant)


def test_a_qwen2_model_exports_and_reads_back(tiny_qwen2, tmp_path):
    import gguf
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = qwen2_gguf(tiny_qwen2, tmp_path)
    reader = gguf.GGUFReader(str(path))
    fields = {name: reader.fields[name] for name in ("general.architecture", "tokenizer.ggml.pre")}
    text = {k: bytes(f.parts[f.data[0]]).decode() for k, f in fields.items()}
    assert text == {"general.architecture": "qwen2", "tokenizer.ggml.pre": "qwen2"}
    assert any(t.name == "blk.0.attn_q.bias" for t in reader.tensors)
    original = AutoModelForCausalLM.from_pretrained(tiny_qwen2)
    back = AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file=path.name)
    tokenizer = AutoTokenizer.from_pretrained(tmp_path, gguf_file=path.name)
    messages = [{"role": "user", "content": "Que veut dire TEC ?"}]
    assert tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True
    ) == AutoTokenizer.from_pretrained(tiny_qwen2).apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True
    )
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)[
        "input_ids"
    ]
    with torch.no_grad():
        a = original.generate(ids, max_new_tokens=8, do_sample=False)
        b = back.generate(ids, max_new_tokens=8, do_sample=False)
    assert a.tolist() == b.tolist()
