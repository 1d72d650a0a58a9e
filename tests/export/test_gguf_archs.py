"""GGUF export of architectures beyond Llama (serving issue, part 4): a tiny random Qwen2 with
biases on q/k/v and Qwen2's ChatML template, written by lexitune and read back with transformers'
GGUF loader, must give the same greedy tokens and the same prompt. llama.cpp's own reading is in
test_llama_cpp.py."""

from __future__ import annotations

import pytest
import torch

QWEN2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_qwen2(real_model_dir, tmp_path_factory):
    """A 2-layer Qwen2 (attention biases, tied embeddings) with a byte-level BPE tokenizer and
    Qwen2's chat template."""
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(real_model_dir)
    tokenizer.chat_template = QWEN2_TEMPLATE
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        initializer_range=0.1,
    )
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).eval()
    with torch.no_grad():  # non-zero biases, so a writer that dropped them would be seen
        for layer in model.model.layers:
            for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                proj.bias.normal_(0, 0.5)
    path = tmp_path_factory.mktemp("tiny-qwen2")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


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
    assert tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == AutoTokenizer.from_pretrained(
        tiny_qwen2
    ).apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)[
        "input_ids"
    ]
    with torch.no_grad():
        a = original.generate(ids, max_new_tokens=8, do_sample=False)
        b = back.generate(ids, max_new_tokens=8, do_sample=False)
    assert a.tolist() == b.tolist()
