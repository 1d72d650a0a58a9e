"""Invented glossaries of any size, deterministic by seed: acronyms no model can know beforehand.

Each term is a made-up acronym whose definition spells it out from word lists (the shape of the
course's culinary glossary), so recall can only come from training.

    python bench/synthetic.py 5
"""

from __future__ import annotations

import random
import sys

from lexitune.glossary.term import Term

_WORDS = {
    "A": ["Adaptive", "Applied", "Archival", "Autonomous", "Aligned"],
    "B": ["Balanced", "Baseline", "Bounded"],
    "C": ["Coastal", "Collective", "Compact", "Curated"],
    "D": ["Distributed", "Durable", "Dynamic"],
    "E": ["Elastic", "Embedded", "Ethical"],
    "F": ["Federated", "Fluid", "Formal"],
    "G": ["Granular", "Guided"],
    "H": ["Harmonic", "Hybrid", "Holistic"],
    "I": ["Integrated", "Iterative", "Inland"],
    "J": ["Joint", "Judicial"],
    "K": ["Kinetic", "Keyed"],
    "L": ["Layered", "Linear", "Local"],
    "M": ["Modular", "Mobile", "Measured"],
    "N": ["Networked", "Nominal", "Northern"],
    "O": ["Open", "Orbital", "Organic"],
    "P": ["Parallel", "Pilot", "Portable"],
    "Q": ["Quiet", "Qualified"],
    "R": ["Regional", "Resilient", "Rotating"],
    "S": ["Shared", "Spatial", "Steady"],
    "T": ["Tactical", "Thermal", "Tidal"],
    "U": ["Unified", "Urban", "Upstream"],
    "V": ["Verified", "Virtual", "Visual"],
    "W": ["Weighted", "Woven"],
    "X": ["Xeric"],
    "Y": ["Yielding"],
    "Z": ["Zonal"],
}
_NOUNS = [
    "Registry",
    "Protocol",
    "Office",
    "Framework",
    "Network",
    "Archive",
    "Programme",
    "Index",
    "Service",
    "Council",
    "Survey",
    "Method",
    "Standard",
    "Unit",
    "Review",
    "Exchange",
    "Platform",
    "Workshop",
]


def invented_glossary(n: int, seed: int = 0) -> list[Term]:
    """`n` distinct invented acronyms (3-5 letters) with definitions that spell them out."""
    rng = random.Random(seed)
    letters = sorted(_WORDS)
    seen: set[str] = set()
    terms = []
    while len(terms) < n:
        size = rng.choice([3, 4, 4, 5])
        acronym = "".join(rng.choice(letters) for _ in range(size - 1))
        noun = rng.choice(_NOUNS)
        acronym += noun[0]
        if acronym in seen:
            continue
        seen.add(acronym)
        words = [rng.choice(_WORDS[c]) for c in acronym[:-1]] + [noun]
        terms.append(Term(term=acronym, definition=" ".join(words), source=f"synthetic:{len(terms)}"))
    return terms


if __name__ == "__main__":
    for t in invented_glossary(int(sys.argv[1]) if len(sys.argv) > 1 else 5):
        print(f"{t.term} = {t.definition}")
