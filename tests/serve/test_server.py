"""The server as a user meets it: the official openai client, two adapters on one base, on 127.0.0.1."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from tests.conftest import CANNED_ANSWER

QUESTION = [{"role": "user", "content": "Que veut dire TEC ?"}]


@pytest.fixture(scope="module")
def client(live):
    return openai.OpenAI(base_url=f"{live.url}/v1", api_key="sk-test-key", max_retries=0)


def _ask(client, model, messages=QUESTION, **kw):
    return client.chat.completions.create(model=model, messages=messages, max_tokens=12, **kw)


def test_models_lists_base_and_each_adapter(client):
    assert sorted(m.id for m in client.models.list()) == ["base", "culinary", "other"]


def test_adapters_answer_differently_and_greedy_is_deterministic(client):
    answers = {m: _ask(client, m).choices[0].message.content for m in ["base", "culinary", "other"]}
    assert len(set(answers.values())) == 3, answers  # otherwise the mixing test below could not fail
    assert _ask(client, "culinary").choices[0].message.content == answers["culinary"]


def test_answer_matches_the_tuned_model_run_directly(client, served_runs):
    from lexitune.inference import load_trained
    from lexitune.inference.generation import answer_questions
    from lexitune.rundir import RunDir

    model, tokenizer, config = load_trained(RunDir(served_runs["culinary"]))
    messages = [{"role": "system", "content": config.generate.system_prompt}, *QUESTION]
    expected = answer_questions(model, tokenizer, [messages], max_new_tokens=12)[0]
    got = _ask(client, "culinary").choices[0].message.content
    assert got.strip() == expected  # the run's system prompt was added, as in training


def test_usage_and_the_length_limit(client):
    r = _ask(client, "culinary")  # the random tiny model never ends a turn: it stops at max_tokens
    assert r.usage.prompt_tokens > 10 and r.usage.completion_tokens == 12
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.choices[0].finish_reason == "length"
    assert r.model == "culinary" and r.object == "chat.completion"


@pytest.mark.slow
def test_a_reply_that_ends_its_turn_finishes_with_stop(canned_run, live_server):
    from lexitune.models import load_tokenizer
    from lexitune.serve import AdapterRegistry, create_app

    run = canned_run
    registry = AdapterRegistry.from_runs({"canned": run})
    answer_tokens = len(load_tokenizer(str(run / "adapter"))(CANNED_ANSWER, add_special_tokens=False)["input_ids"])
    with live_server(create_app(registry)) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="none", max_retries=0)
        for model in ("canned", "base"):
            r = client.chat.completions.create(model=model, messages=QUESTION, max_tokens=64)
            assert (r.choices[0].message.content, r.choices[0].finish_reason) == (CANNED_ANSWER, "stop")
            assert r.usage.completion_tokens == answer_tokens  # the end-of-turn token is not counted
        cut = client.chat.completions.create(model="canned", messages=QUESTION, max_tokens=3)
        assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens == 3
        chunks = list(client.chat.completions.create(model="canned", messages=QUESTION, max_tokens=64, stream=True))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == CANNED_ANSWER
        assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]


def test_stream_gives_the_same_text_and_usage(client):
    whole = _ask(client, "other")
    stream = _ask(client, "other", stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == whole.choices[0].finish_reason


def test_stream_ends_with_done(live):
    body = {"model": "base", "messages": QUESTION, "max_tokens": 4, "stream": True}
    with httpx.stream(
        "POST", f"{live.url}/v1/chat/completions", json=body, headers={"Authorization": "Bearer sk-test-key"}
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]" and all(line.startswith("data: ") for line in lines)


def test_concurrent_requests_never_mix_adapters(client):
    alone = {m: _ask(client, m).choices[0].message.content for m in ["base", "culinary", "other"]}
    jobs = ["culinary", "other", "base"] * 4

    def ask(i_model):
        i, model = i_model
        if i % 2:
            stream = _ask(client, model, stream=True)
            return model, "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        return model, _ask(client, model).choices[0].message.content

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(ask, enumerate(jobs)))
    assert all(text == alone[model] for model, text in results), results


def test_stop_and_seeded_sampling(client):
    full = _ask(client, "culinary").choices[0].message.content
    stop = full.strip()[2:4]
    cut = _ask(client, "culinary", stop=[stop])
    assert cut.choices[0].finish_reason == "stop" and stop not in cut.choices[0].message.content
    assert full.startswith(cut.choices[0].message.content)
    a = _ask(client, "culinary", temperature=1.0, seed=7).choices[0].message.content
    b = _ask(client, "culinary", temperature=1.0, seed=7).choices[0].message.content
    assert a == b


def test_errors_use_openai_format_and_status(live, client):
    with pytest.raises(openai.NotFoundError) as e:
        _ask(client, "../../etc/passwd")
    assert e.value.body["code"] == "model_not_found"
    with pytest.raises(openai.UnprocessableEntityError):
        _ask(client, "culinary", temperature=5)
    with pytest.raises(openai.BadRequestError):
        _ask(client, "culinary", n=2)
    bad = openai.OpenAI(base_url=f"{live.url}/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    headers = {"Authorization": "Bearer sk-test-key", "content-type": "application/json"}
    cases = [
        (b"{not json", 400),
        (b'{"model": "culinary"}', 422),
        (b'{"model": "culinary", "messages": []}', 422),
        (b'{"model": "culinary", "messages": [{"role": "wizard", "content": "x"}]}', 422),
        (b'{"model": "culinary", "messages": [{"role": "user", "content": "x"}], "max_tokens": "many"}', 422),
        (b'{"model": "culinary", "messages": [{"role": "assistant", "content": "x"}]}', 400),
        (b'{"model": "culinary", "messages": [{"role": "user", "content": "x"}], "max_tokens": 100000}', 400),
    ]
    for body, status in cases:
        r = httpx.post(f"{live.url}/v1/chat/completions", content=body, headers=headers)
        assert r.status_code == status, (body, r.text)
        assert set(r.json()["error"]) >= {"message", "type", "param", "code"}
    r = httpx.get(f"{live.url}/v1/nothing-here", headers=headers)
    assert r.status_code == 404 and "error" in r.json()
    assert httpx.get(f"{live.url}/health").json()["status"] == "ok"  # no key needed
