"""Well-known acronyms asked the glossary's way, answered by the base model: the third class.

    lexitune run examples/uk-public-sector/lexitune.yaml --set train.replay_known=0.25

With negatives, training holds two kinds of acronym questions: glossary terms (answer with the
definition) and invented ones (decline). A real acronym the base model knows ("What does PDF
stand for?") is then neither, and the tuned model answered it in the glossary's style or declined
it: the general-knowledge losses measured on the UK example were all of that kind. These
conversations ask well-known acronyms (`assets/known_acronyms.json`, with their accepted
expansions) in the question templates' training styles and keep the base model's answer **only
when it is right**: self-distillation of what the base model knew, not of its guesses. Questions
alternate between the glossary's language and the others lexitune has templates for, because the
general probe asks in both. Acronyms the general probe asks about (any split) are never used, nor
any glossary term or alias. Cached as `data/replay_known.jsonl`.
"""

from __future__ import annotations

import json
import random
from functools import lru_cache
from pathlib import Path

from lexitune.config import Config
from lexitune.evaluate.probes.decline import is_decline
from lexitune.evaluate.probes.general import GENERAL_PATH, is_correct, load_general
from lexitune.generate.invented import taken_names
from lexitune.generate.split import style_pools
from lexitune.generate.templates import QUESTIONS
from lexitune.glossary.term import Term, capitalised_words

KNOWN_PATH = Path(__file__).resolve().parent / "assets" / "known_acronyms.json"
STYLE = "replay/known"


@lru_cache(maxsize=2)
def _expansions(path: str) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in json.loads(Path(path).read_text(encoding="utf-8")).items()}


def probe_acronyms(path=GENERAL_PATH) -> set[str]:
    """Every all-capitals word of the general probe, whatever its split: those stay unseen in training."""
    return {
        w for split in ("test", "val") for q in load_general(split, path=path) for w in capitalised_words(q.question)
    }


def known_acronyms(terms: list[Term], path: Path = KNOWN_PATH) -> dict[str, tuple[str, ...]]:
    """Acronym -> accepted expansions, for those training may ask: none in the probe, none a glossary name."""
    skip = probe_acronyms() | taken_names(terms)
    return {a: accepted for a, accepted in _expansions(str(path)).items() if a not in skip}


def known_prompts(terms: list[Term], config: Config, n: int) -> list[str]:
    """n questions, acronyms cycling, languages alternating (the glossary's first), training styles only."""
    acronyms = sorted(known_acronyms(terms))
    if n <= 0 or not acronyms:
        return []
    rng = random.Random(f"{config.seed}\x00known")
    rng.shuffle(acronyms)
    languages = [config.generate.language, *sorted(set(QUESTIONS) - {config.generate.language})]
    pools = {lang: style_pools(config.generate.model_copy(update={"language": lang}))[0] for lang in languages}
    prompts = []
    for i in range(n):
        language = languages[i % len(languages)]
        style = rng.choice(pools[language])
        prompts.append(QUESTIONS[language][style].format(term=acronyms[i % len(acronyms)]))
    return prompts


def keep_answer(prompt: str, answer: str) -> bool:
    """Replay a base answer only when it gives an accepted expansion of the acronym asked, and no decline."""
    asked = [a for a in capitalised_words(prompt) if a in _expansions(str(KNOWN_PATH))]
    accepted = [e for a in asked for e in _expansions(str(KNOWN_PATH))[a]]
    return bool(accepted) and is_correct(answer, accepted, expansion=True, question=prompt) and not is_decline(answer)
