"""experimental.auxiliary_once: negatives and replay rows dealt over the epochs, glossary rows in every one."""

from collections import Counter

from lexitune.generate.dataset import Conversation
from lexitune.train.data import Example
from lexitune.train.stage import spread_auxiliary


def _rows(styles: list[str]) -> list[Conversation]:
    return [
        Conversation(
            term="", split="train", style=s, messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
        )
        for s in styles
    ]


def test_each_kind_of_auxiliary_row_is_shared_evenly_and_the_glossary_is_left_in_every_epoch():
    styles = ["what"] * 5 + ["reverse/which"] * 2 + ["negative/what"] * 6 + ["replay"] * 7 + ["replay/known"] * 3
    train_set = _rows(styles)
    examples = [Example([1, 2], [1, 2]) for _ in train_set]
    spread_auxiliary(examples, train_set, 3, seed=0)
    assert all(e.part is None for e in examples[:7])  # the glossary's questions, reverse ones too
    for kind in ("negative/what", "replay", "replay/known"):
        parts = Counter(e.part for e, s in zip(examples, styles, strict=True) if s == kind)
        assert set(parts) == {0, 1, 2} and max(parts.values()) - min(parts.values()) <= 1
        assert sum(parts.values()) == styles.count(kind)
    again = [Example([1, 2], [1, 2]) for _ in train_set]
    spread_auxiliary(again, train_set, 3, seed=0)  # a resumed run deals the same parts
    assert [e.part for e in again] == [e.part for e in examples]
