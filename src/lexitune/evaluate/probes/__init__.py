"""Probes beyond the glossary: what a tuned model forgot (retention) and what it invents (abstention).

    lexitune run examples/culinary-fr/lexitune.yaml --set eval.probe_limit=20 --set eval.unknown_terms=5

`general.py`: the shipped general-knowledge questions and their scoring; `decline.py`: whether an
answer declines; `run.py`: ask the probes before and after training and write `probes.jsonl` and the
`retention`, `abstention`, `false_abstention`, `senses` keys of metrics.json. The package exports
only the scoring: `run.py` answers through lexitune.inference, which itself scores declines.
"""

from lexitune.evaluate.probes.decline import is_decline
from lexitune.evaluate.probes.general import is_correct, load_general, retention

__all__ = [
    "is_correct",
    "is_decline",
    "load_general",
    "retention",
]
