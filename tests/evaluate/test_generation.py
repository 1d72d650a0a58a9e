"""Batched generation gives exactly the answers of one-at-a-time generation."""

from lexitune.inference.generation import answer_questions
from lexitune.models import load_model, load_tokenizer


def test_batched_greedy_answers_equal_one_at_a_time(tiny_model_dir):
    model, tokenizer = load_model(str(tiny_model_dir)), load_tokenizer(str(tiny_model_dir))
    prompts = [
        [{"role": "user", "content": q}]
        for q in [
            "What is TEC?",
            "Hi",
            "Could you please tell me what the acronym CAMP stands for in our school?",
            "FUN?",
        ]
    ]
    batched = answer_questions(model, tokenizer, prompts, batch_size=4, max_new_tokens=6)
    single = [answer_questions(model, tokenizer, [p], batch_size=1, max_new_tokens=6)[0] for p in prompts]
    assert batched == single
    assert all(isinstance(a, str) for a in batched) and any(batched)
    assert tokenizer.padding_side == "right" and not model.training
