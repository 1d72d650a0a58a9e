"""Selection's glossary questions are phrasings training never used, even for a term trained in every style."""

from lexitune.generate import generate_conversations
from lexitune.generate.split import style_pools
from lexitune.glossary.term import Term
from lexitune.models import load_model, load_tokenizer
from lexitune.train.selection import Selector

TERMS = [Term(term=f"T{i}X", definition=f"Definition number {i}") for i in range(3)]


def _questions(tiny_config, tiny_model_dir, train_styles: int) -> tuple[list[str], set[str]]:
    tiny_config.generate.train_styles = train_styles
    train, _ = generate_conversations(TERMS, tiny_config.generate, tiny_config.seed)
    model, tokenizer = load_model(str(tiny_model_dir)), load_tokenizer(str(tiny_model_dir))
    selector = Selector(model, tokenizer, tiny_config, TERMS, train, total_steps=8)
    return [q for q, _ in selector.glossary], {c.question for c in train}


def test_a_free_training_style_is_asked_as_it_is(tiny_config, tiny_model_dir):
    asked, trained = _questions(tiny_config, tiny_model_dir, 2)
    assert len(asked) == 3 and not set(asked) & trained


def test_a_term_trained_in_every_style_is_asked_in_a_decorated_phrasing(tiny_config, tiny_model_dir):
    pool, _ = style_pools(tiny_config.generate)
    asked, trained = _questions(tiny_config, tiny_model_dir, len(pool))
    assert len(asked) == 3 and not set(asked) & trained
    assert all(term.term in q for term, q in zip(TERMS, asked, strict=True))
