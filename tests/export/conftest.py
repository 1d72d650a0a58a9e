"""Exports of the tuned tiny run, made once and shared by the export tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session")
def held_out(tuned_run):
    from lexitune.generate import read_conversations
    from lexitune.generate.split import family
    from lexitune.rundir import RunDir

    # The forward held-out questions: the reverse and sealed families ask nothing an export changes.
    test = read_conversations(RunDir(tuned_run).test_data)
    return [c.prompt_messages() for c in test if family(c.style) == "forward"]


@pytest.fixture(scope="session")
def tuned_answers(tuned_run, held_out):
    """base+adapter (peft, unmerged) answers, and the base model's, to the held-out questions."""
    from lexitune.inference import load_trained
    from lexitune.inference.generation import answer_questions
    from lexitune.rundir import RunDir

    model, tokenizer, _ = load_trained(RunDir(tuned_run))
    tuned = answer_questions(model, tokenizer, held_out, max_new_tokens=8)
    with model.disable_adapter():
        base = answer_questions(model, tokenizer, held_out, max_new_tokens=8)
    return tuned, base


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("exports")


QWEN2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


@pytest.fixture(scope="session")
def tiny_qwen2(real_model_dir, tmp_path_factory):
    """A 2-layer Qwen2 (attention biases, tied embeddings) with a byte-level BPE tokenizer and
    Qwen2's chat template."""
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(real_model_dir)
    tokenizer.chat_template = QWEN2_TEMPLATE
    from tests.conftest import TINY_SHAPE

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        **TINY_SHAPE,
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


# Llama-2's chat template, shortened: [INST] turns, <<SYS>> system block, BOS written by the template.
LLAMA2_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ '<<SYS>>\\n' + message['content'] + '\\n<</SYS>>\\n\\n' }}"
    "{% elif message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}"
    "{% endfor %}"
)


def sentencepiece_tokenizer(legacy: bool):
    """A small SentencePiece-style tokenizer trained here with the `tokenizers` library: BPE over
    "▁"-prefixed words with byte fallback (<0x00>..<0xFF>), <unk> <s> </s> first, as Llama-2's
    tokenizer.json. `legacy`: "▁" before the text after every special token (Llama-2), else only
    before the first piece (transformers' default for new Llama tokenizers, and Gemma's way)."""
    import json

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaTokenizer

    from tests.conftest import ROOT

    text = (ROOT / "examples" / "culinary-fr" / "glossary.json").read_text(encoding="utf-8")
    corpus = [piece for piece in text.split('"') if len(piece) > 3] + [
        "Que veut dire TEC ? Quelle est la capitale de la France ? Le sigle désigne une technique.",
        "What does the acronym stand for? I don't know this term. The answer is Paris.",
    ] * 3
    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    raw.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=400, show_progress=False))
    state = json.loads(raw.to_str())["model"]
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2} | {f"<0x{b:02X}>": 3 + b for b in range(256)}
    for token, _ in sorted(state["vocab"].items(), key=lambda kv: kv[1]):
        vocab.setdefault(token, len(vocab))
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["merges"]]
    tokenizer = LlamaTokenizer(vocab=vocab, merges=merges, legacy=legacy)
    tokenizer.chat_template = LLAMA2_TEMPLATE
    return tokenizer


@pytest.fixture(scope="session", params=[False, True], ids=["first-prefix", "legacy-prefix"])
def tiny_spm_llama(request, tmp_path_factory):
    """A 2-layer Llama-2-style model (untied output layer) with a SentencePiece tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from tests.conftest import TINY_SHAPE

    tokenizer = sentencepiece_tokenizer(legacy=request.param)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        **TINY_SHAPE,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
        initializer_range=0.1,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    path = tmp_path_factory.mktemp("tiny-spm-llama")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
