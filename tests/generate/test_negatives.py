"""Negatives and invented acronyms never collide with the glossary, and use the training styles only."""

from lexitune.config import GenerateConfig
from lexitune.evaluate.probes import is_decline
from lexitune.generate import generate_conversations
from lexitune.generate.invented import abstention_pool, invented_acronyms, training_pool, validation_pool
from lexitune.generate.negatives import DECLINES, negative_conversations
from lexitune.generate.split import style_pools
from lexitune.generate.templates import ANSWERS
from lexitune.glossary.term import Term

# Short terms and aliases whose letters are the only letters: collisions are likely unless avoided.
TERMS = [
    Term(term=t, definition=f"def {t}", aliases=a)
    for t, a in [("AB", ["Ba"]), ("ABA", []), ("BAB", ["aab"]), ("AAB", []), ("BBA", ["abb"])]
]


def _names(terms):
    return {n.upper() for t in terms for n in [t.term, *t.aliases]}


def test_invented_acronyms_avoid_terms_and_aliases_case_insensitively():
    words = invented_acronyms(TERMS, 40, seed=0, salt="x")
    assert len(words) == len(set(words)) == 40
    assert not {w.upper() for w in words} & _names(TERMS)


def test_pools_are_disjoint_and_stable():
    test, val, train = abstention_pool(TERMS, 10, 0), validation_pool(TERMS, 0), training_pool(TERMS, 30, 0)
    assert not set(test) & set(train) and not set(val) & set(train) and not set(test) & set(val)
    assert abstention_pool(TERMS, 5, 0) == test[:5]  # the probe's pool does not depend on its size


def test_negatives_use_train_styles_decline_and_never_name_a_glossary_term():
    cfg = GenerateConfig(language="fr", negatives=0.5, train_styles=4, test_styles=3)
    train_pool, test_pool = style_pools(cfg)
    negatives = negative_conversations(TERMS, cfg, seed=0, n_glossary_train=40)
    assert len(negatives) == 20
    assert {c.style.removeprefix("negative/") for c in negatives} <= set(train_pool)
    assert not {c.term.upper() for c in negatives} & _names(TERMS)
    assert all(is_decline(c.answer) for c in negatives)
    assert not {c.term for c in negatives} & set(abstention_pool(TERMS, 64, 0))


def test_generate_conversations_appends_negatives_only_when_asked():
    plain, _ = generate_conversations(TERMS, GenerateConfig(), 0)
    mixed, _ = generate_conversations(TERMS, GenerateConfig(negatives=0.25), 0)
    assert len(mixed) == len(plain) + round(0.25 * len(plain))
    assert mixed[: len(plain)] == plain


def test_every_decline_opens_like_a_definition_up_to_the_term():
    # The decline/definition choice must come after the term, where the model attends to it.
    for language, declines in DECLINES.items():
        openings = {a.split("{term}")[0] for a in ANSWERS[language].values()}
        for decline in declines:
            assert decline.split("{term}")[0] in openings, decline
