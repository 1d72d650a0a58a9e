"""The base model writes its own replay prompts: distinct, reproducible, never a probe or glossary term."""

import pytest

from lexitune.evaluate.metrics import normalize
from lexitune.evaluate.probes.general import load_general
from lexitune.glossary.term import Term, mentions
from lexitune.models import load_model, load_tokenizer
from lexitune.train.self_prompts import keep, self_prompts, user_turn_prefix

TERMS = [Term(term="AI", definition="x"), Term(term="TEC", definition="y", aliases=["recipe"])]


def test_the_user_turn_prefix_is_the_template_up_to_the_users_message(tiny_model_dir):
    tokenizer = load_tokenizer(str(tiny_model_dir))
    prefix = user_turn_prefix(tokenizer, [{"role": "system", "content": "Be brief."}])
    assert prefix.endswith("<|im_start|>user\n") and "Be brief." in prefix


def test_keep_refuses_probe_questions_glossary_terms_and_scraps():
    probe = {normalize(q.question) for q in load_general("test")}
    question = load_general("test")[0].question
    assert not keep(question, [], probe)
    assert not keep("Can you share a recipe for soup?", TERMS, probe)  # an alias, any case
    assert not keep("Hi", [], probe) and not keep("?!" * 10, [], probe)
    assert keep("How do I plant tomatoes in a small garden?", TERMS, probe)


@pytest.mark.slow
def test_the_shipped_model_writes_distinct_reproducible_prompts(real_model_dir):
    model, tokenizer = load_model(str(real_model_dir)), load_tokenizer(str(real_model_dir))
    state = torch_state()
    first = self_prompts(model, tokenizer, 8, TERMS, [], seed=3, max_new_tokens=48)
    assert torch_state().equal(state)  # the caller's random state is left alone
    assert len(first) == 8 and len(set(first)) == 8
    assert not any(mentions(p, TERMS) for p in first)
    assert first == self_prompts(model, tokenizer, 8, TERMS, [], seed=3, max_new_tokens=48)


def torch_state():
    import torch

    return torch.random.get_rng_state()
