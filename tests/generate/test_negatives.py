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


def test_under_the_default_recipe_no_training_style_predicts_a_decline():
    """Every training style, those in which the user says they do not know the term among them, is
    asked of glossary terms (answered) and of invented acronyms (declined) in equal shares: a phrasing
    such as "I have no idea what X means" must not teach the model to decline a glossary term."""
    from collections import Counter

    from lexitune.generate.templates import QUESTIONS
    from lexitune.recipes import load_recipe

    terms = [Term(term=f"T{chr(65 + i)}{chr(66 + i)}", definition=f"def {i}") for i in range(12)]
    for language, ignorance in [("en", "I don't know what"), ("fr", "Je ne sais pas ce que")]:
        cfg = GenerateConfig(language=language, **load_recipe("robust").settings["generate"])
        train_pool, _ = style_pools(cfg)
        assert any(ignorance in QUESTIONS[language][s] for s in train_pool), language
        rows, _ = generate_conversations(terms, cfg, 0)
        glossary = Counter(c.style for c in rows if c.style.startswith(f"{language}.q"))
        declined = Counter(c.style.removeprefix("negative/") for c in rows if c.style.startswith("negative/"))
        assert set(glossary) == set(declined) == set(train_pool), language
        shares = [declined[s] / glossary[s] for s in train_pool]
        assert max(shares) - min(shares) <= 1 / len(terms), (language, shares)
