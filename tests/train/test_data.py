"""Tokenisation: the loss mask covers the answer and its end-of-turn token, nothing else."""

import pytest

from lexitune.errors import LexituneError
from lexitune.generate.dataset import Conversation
from lexitune.train.data import IGNORE, collate, length_grouped_batches, tokenize, tokenize_all


@pytest.fixture(scope="module")
def tokenizer(real_model_dir):
    from lexitune.models import load_tokenizer

    return load_tokenizer(str(real_model_dir))


def _answer_text(tokenizer, example):
    return tokenizer.decode([t for t, label in zip(example.input_ids, example.labels, strict=True) if label != IGNORE])


def test_only_the_answer_and_end_of_turn_carry_loss(tokenizer):
    messages = [
        {"role": "user", "content": "Que veut dire TEC ?"},
        {"role": "assistant", "content": "TEC signifie Techniques Élémentaires et Culinaires."},
    ]
    ex = tokenize(tokenizer, messages, max_length=512)
    assert _answer_text(tokenizer, ex).strip() == "TEC signifie Techniques Élémentaires et Culinaires.<|im_end|>"
    # The prompt (default system prompt, user turn, assistant header) carries none.
    prompt_len = len(
        tokenizer.apply_chat_template(messages[:1], add_generation_prompt=True, tokenize=True)["input_ids"]
    )
    assert all(label == IGNORE for label in ex.labels[:prompt_len])
    assert ex.labels[prompt_len] != IGNORE


def test_every_assistant_turn_of_a_multi_turn_conversation_is_learned(tokenizer):
    messages = [
        {"role": "system", "content": "Glossary bot."},
        {"role": "user", "content": "What is BLX?"},
        {"role": "assistant", "content": "Brindlewood Exchange."},
        {"role": "user", "content": "And PWV?"},
        {"role": "assistant", "content": "Pallet Weight Verification."},
    ]
    text = _answer_text(tokenizer, tokenize(tokenizer, messages, max_length=512))
    assert "Brindlewood Exchange." in text and "Pallet Weight Verification." in text
    assert "Glossary bot" not in text and "And PWV" not in text


def test_truncation_that_removes_every_answer_is_an_error(tokenizer):
    c = Conversation(
        term="X",
        split="train",
        style="s",
        messages=[{"role": "user", "content": "What is X?"}, {"role": "assistant", "content": "X is X."}],
    )
    with pytest.raises(LexituneError, match="max_length=8"):
        tokenize_all(tokenizer, [c], max_length=8)


def test_length_grouped_batches_cover_everything_once_and_pad_little():
    lengths = [(i * 37) % 100 + 10 for i in range(200)]
    batches = length_grouped_batches(lengths, 8, seed=0)
    assert sorted(i for b in batches for i in b) == list(range(200))
    assert batches == length_grouped_batches(lengths, 8, seed=0)
    assert batches != length_grouped_batches(lengths, 8, seed=1)
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    assert padded < 1.1 * sum(lengths)  # random batches would pad ~40% here


def test_collate_pads_right_and_masks(tokenizer):
    from lexitune.train.data import Example

    batch = collate([Example([5, 6, 7], [IGNORE, 6, 7]), Example([8], [8])], pad_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["labels"].tolist() == [[IGNORE, 6, 7], [8, IGNORE, IGNORE]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
