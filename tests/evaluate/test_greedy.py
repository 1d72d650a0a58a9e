"""The shrinking, prefix-sharing greedy decoder gives exactly `model.generate`'s greedy tokens."""

import os
from collections import Counter

import torch

from lexitune.inference.generation import answer_questions, prompt_texts
from lexitune.inference.greedy import decoding, greedy_batch, plain_greedy

QUESTIONS = [
    "What is TEC?",
    "Hi",
    "Could you please tell me what the acronym CAMP stands for in our school?",
    "FUN?",
    "Que veut dire PAVU exactement ?",
    "Name three colours.",
]


def _encode(tokenizer, questions):
    texts = prompt_texts(tokenizer, [[{"role": "user", "content": q}] for q in questions])
    return [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]


def _generate(model, tokenizer, prompts, stop, max_new_tokens, **settings):
    """HF's greedy search, one prompt at a time, cut after its first stop token."""
    out = []
    for p in prompts:
        ids = model.generate(
            torch.tensor([p]),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=stop,
            pad_token_id=tokenizer.pad_token_id,
            **settings,
        )[0, len(p) :].tolist()
        ends = [i for i, t in enumerate(ids) if t in stop]
        out.append(ids[: ends[0] + 1] if ends else ids)
    return out


def test_rows_that_stop_early_leave_the_batch_with_generates_answers(tiny_base):
    model, tokenizer = tiny_base
    model.eval()
    prompts = _encode(tokenizer, QUESTIONS)
    assert len(set(map(len, prompts))) > 1  # left padding between the shared opening and the rows
    free = _generate(model, tokenizer, prompts, [tokenizer.eos_token_id], 24)
    # A stop token the random model emits at different steps in different rows, so rows leave the
    # batch one by one: the path the real model takes when answers end at their own length.
    firsts = Counter(t for row in free for t in set(row))
    stop = [max(firsts, key=lambda t: (len({row.index(t) for row in free if t in row}), firsts[t]))]
    ends = {row.index(stop[0]) for row in free if stop[0] in row}
    assert len(ends) >= 2
    # Greedy choices do not depend on where a row stops: generate's rows, cut after the stop token.
    expected = [row[: row.index(stop[0]) + 1] if stop[0] in row else row for row in free]
    got = greedy_batch(model, prompts, pad_id=tokenizer.pad_token_id, stop=stop, max_new_tokens=24)
    assert got == expected
    assert len({len(r) for r in got}) >= 2


def test_the_shared_opening_is_prefilled_once(tiny_base, monkeypatch):
    model, tokenizer = tiny_base
    prompts = _encode(tokenizer, QUESTIONS)
    widths = []
    forward = model.forward

    def counting(*args, **kwargs):
        widths.append(tuple(kwargs["input_ids"].shape))
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", counting)
    greedy_batch(model, prompts, pad_id=tokenizer.pad_token_id, stop=[tokenizer.eos_token_id], max_new_tokens=2)
    shared = len(os.path.commonprefix(prompts))
    assert shared >= 8
    assert widths[0] == (1, shared)  # the chat template's header, once
    assert widths[1] == (len(prompts), max(map(len, prompts)) - shared)


def test_a_generation_config_that_changes_greedy_choices_goes_to_generate(tiny_model_dir):
    from lexitune.models import load_model, load_tokenizer

    model, tokenizer = load_model(str(tiny_model_dir)).eval(), load_tokenizer(str(tiny_model_dir))
    assert plain_greedy(model) and decoding(model) == "lexitune greedy_batch 1"
    model.generation_config.repetition_penalty = 3.0
    assert not plain_greedy(model) and decoding(model) == "transformers generate"
    prompts = [[{"role": "user", "content": q}] for q in QUESTIONS]
    answers = answer_questions(model, tokenizer, prompts, batch_size=3, max_new_tokens=12)
    penalised = [
        tokenizer.decode(row, skip_special_tokens=True).strip()
        for row in _generate(model, tokenizer, _encode(tokenizer, QUESTIONS), [tokenizer.eos_token_id], 12)
    ]
    bare = [
        tokenizer.decode(row, skip_special_tokens=True).strip()
        for row in greedy_batch(
            model,
            _encode(tokenizer, QUESTIONS),
            pad_id=tokenizer.pad_token_id,
            stop=[tokenizer.eos_token_id],
            max_new_tokens=12,
        )
    ]
    assert answers == penalised
    assert bare != penalised  # the penalty matters here, so taking the bare arg-max would be caught


def test_without_a_shared_opening_left_padding_gives_generates_answers(tiny_base, monkeypatch):
    """A chat template with no common header: every row is prefilled whole, left-padded."""
    import lexitune.inference.greedy as greedy

    model, tokenizer = tiny_base
    model.eval()
    monkeypatch.setattr(greedy, "MIN_PREFIX", 10**6)
    prompts = _encode(tokenizer, QUESTIONS)
    expected = _generate(model, tokenizer, prompts, [tokenizer.eos_token_id], 10)
    assert (
        greedy_batch(model, prompts, pad_id=tokenizer.pad_token_id, stop=[tokenizer.eos_token_id], max_new_tokens=10)
        == expected
    )
