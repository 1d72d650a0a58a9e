"""Concurrent requests are decoded together (serving issue, part 1): mixed adapters in one batch,
requests admitted while a batch runs, the same greedy answers as one request at a time, seeds
that repeat whatever else is in the batch, stop strings and client hang-ups per row."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from lexitune.serve import AdapterRegistry
from lexitune.serve.registry import Sampling

QUESTIONS = ["Que veut dire TEC ?", "Et PER ?", "C'est quoi le FON ?", "Bonjour, qui es-tu ?"]


@pytest.fixture(scope="module")
def pair(served_runs):
    """The same adapters served one request at a time and batched."""
    return AdapterRegistry.from_runs(served_runs, max_batch=1), AdapterRegistry.from_runs(served_runs, max_batch=64)


def _text(registry, model: str, question: str, **sampling) -> tuple[str, str, int]:
    messages = [{"role": "user", "content": question}]
    ids = registry.prompt_ids(model, messages)
    pieces = list(registry.reply(model, messages, ids, Sampling(**{"max_tokens": 12, **sampling})))
    return "".join(p.text for p in pieces), pieces[-1].finish_reason, pieces[-1].completion_tokens


def test_batched_greedy_answers_equal_one_at_a_time(pair):
    alone, batched = pair
    jobs = [(m, q) for m in ("culinary", "other", "base") for q in QUESTIONS] * 2
    expected = {job: _text(alone, *job) for job in set(jobs)}
    with ThreadPoolExecutor(len(jobs)) as pool:
        got = list(pool.map(lambda job: _text(batched, *job), jobs))
    same = sum(g == expected[job] for g, job in zip(got, jobs, strict=True))
    assert same >= 0.95 * len(jobs), [(job, g, expected[job]) for g, job in zip(got, jobs, strict=True)]
    assert batched.scheduler.widest > 4  # rows of several adapters shared forward passes
    assert len({g[0] for g, (m, _) in zip(got, jobs, strict=True) if m != "base"}) > 1


def test_a_request_arriving_mid_batch_joins_it(pair):
    _, batched = pair
    results = {}

    def ask(name, question, tokens):
        results[name] = _text(batched, "culinary", question, max_tokens=tokens)

    start = batched.scheduler.steps
    long = threading.Thread(target=ask, args=("long", QUESTIONS[0], 40))
    long.start()
    while batched.scheduler.steps < start + 3:  # the long answer is being decoded
        pass
    ask("short", QUESTIONS[1], 5)
    long.join()
    assert results["short"][2] == 5 and results["long"][2] == 40
    assert batched.scheduler.steps - start <= 41  # one after the other would take 45 steps
    alone, _ = pair
    assert results["short"] == _text(alone, "culinary", QUESTIONS[1], max_tokens=5)


def test_seeds_repeat_and_stops_cut_per_row(pair):
    _, batched = pair
    with ThreadPoolExecutor(6) as pool:
        seeded = list(pool.map(lambda _: _text(batched, "other", QUESTIONS[0], temperature=1.0, seed=7), range(3)))
        others = list(pool.map(lambda _: _text(batched, "other", QUESTIONS[0], temperature=1.0), range(3)))
    assert len({s[0] for s in seeded}) == 1  # the seed's answer, whatever shared the batch
    assert len({s[0] for s in seeded + others}) > 1
    full, _, _ = _text(batched, "culinary", QUESTIONS[0])
    cut_at = full[3:6]
    stopped, finish, _ = _text(batched, "culinary", QUESTIONS[0], stop=[cut_at])
    assert finish == "stop" and stopped == full[: full.index(cut_at)]


def test_a_client_that_hangs_up_leaves_the_batch(pair):
    _, batched = pair
    messages = [{"role": "user", "content": QUESTIONS[0]}]
    pieces = batched.reply("culinary", messages, batched.prompt_ids("culinary", messages), Sampling(max_tokens=400))
    next(pieces)
    pieces.close()
    assert _text(batched, "other", QUESTIONS[1])[2] == 12  # the scheduler goes on serving


def test_a_bound_on_adapters_in_memory_holds_in_batches(served_runs, pair):
    """Two adapters wanted at once, one in memory: each batch takes one adapter's rows (and the base's)."""
    alone, _ = pair
    bounded = AdapterRegistry.from_runs(served_runs, max_loaded=1, max_batch=64)
    jobs = [(m, q) for m in ("culinary", "other", "base") for q in QUESTIONS]
    with ThreadPoolExecutor(len(jobs)) as pool:
        got = list(pool.map(lambda job: _text(bounded, *job), jobs))
    assert got == [_text(alone, *job) for job in jobs]
    assert len(bounded.loaded) == 1


def test_an_adapter_unloaded_mid_answer_finishes_that_answer(served_runs, pair):
    alone, _ = pair
    registry = AdapterRegistry.from_runs(served_runs, max_batch=64)
    messages = [{"role": "user", "content": QUESTIONS[0]}]
    pieces = registry.reply("other", messages, registry.prompt_ids("other", messages), Sampling(max_tokens=30))
    first = next(pieces)
    registry.unload("other")
    text = first.text + "".join(p.text for p in pieces)
    assert text == _text(alone, "other", QUESTIONS[0], max_tokens=30)[0]
    assert "other" not in registry.served
    _text(registry, "culinary", QUESTIONS[1])  # a later step: the retired weights are dropped
    assert "other" not in registry.loaded and not registry.retiring


def test_prompts_opening_alike_reuse_their_prefix_and_answer_the_same(served_runs, pair):
    """The chat template's header and system prompt open every prompt: computed once per adapter,
    then each prompt is prefilled from after it, padding between, with the same answers."""
    alone, _ = pair
    registry = AdapterRegistry.from_runs(served_runs, max_batch=64)
    scheduler = registry.scheduler
    for model in ("culinary", "base"):  # two prompts one after the other: their shared opening is cached
        for question in QUESTIONS[:2]:
            assert _text(registry, model, question) == _text(alone, model, question)
    assert scheduler.reused > 0
    assert set(scheduler.prefixes["culinary"]) and set(scheduler.prefixes["__base__"])
    assert all(len(p) >= 16 for p in scheduler.prefixes["culinary"])
    reused = scheduler.reused
    jobs = [(m, q) for m in ("culinary", "base") for q in QUESTIONS]  # prompts of unlike lengths at once
    with ThreadPoolExecutor(len(jobs)) as pool:
        got = list(pool.map(lambda job: _text(registry, *job), jobs))
    assert got == [_text(alone, *job) for job in jobs]
    assert scheduler.reused - reused >= 16 * len(jobs)  # every one of them started after its prefix
    assert (
        scheduler.prefilled < sum(len(registry.prompt_ids(m, [{"role": "user", "content": q}])[0]) for m, q in jobs) * 2
    )

    registry.unload("culinary")
    _text(registry, "other", QUESTIONS[0])  # a later step drops the unloaded weights, and their prefixes
    assert "culinary" not in scheduler.prefixes
