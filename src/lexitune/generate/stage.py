"""The `generate` stage: load the glossary, write the run's train and held-out conversations.

lexitune generate examples/culinary-fr/lexitune.yaml --out runs/culinary
"""

from __future__ import annotations

from rich.console import Console

from lexitune.config import Config
from lexitune.errors import LexituneError
from lexitune.generate import generate_conversations, read_conversations, write_conversations
from lexitune.generate.dataset import Conversation
from lexitune.glossary import load_from_config
from lexitune.glossary.term import Term
from lexitune.rundir import RunDir, write_json


def prepare_data(
    config: Config, run: RunDir, console: Console
) -> tuple[list[Term], list[Conversation], list[Conversation]]:
    """Load the glossary and write data/train.jsonl and data/test.jsonl (kept as they are when resuming)."""
    terms = load_from_config(config.glossary) if config.glossary.path else []
    if run.train_data.exists() and run.test_data.exists():
        train_set, test_set = read_conversations(run.train_data), read_conversations(run.test_data)
    else:
        if not terms and config.generate.conversations is None:
            raise LexituneError("glossary.path: no glossary given (and no generate.conversations file)")
        report: dict = {}
        try:
            train_set, test_set = generate_conversations(
                terms, config.generate, config.seed, report=report, augment_share=config.experimental.augment
            )
        except LexituneError as e:
            if report:  # every term failed: the report says what each got and why, for the user to read
                write_json(run.generation_report, report)
                raise LexituneError(f"{e}; per term: {run.generation_report}") from None
            raise
        write_conversations(run.train_data, train_set)
        write_conversations(run.test_data, test_set)
        if report:  # what an LLM backend kept, dropped and why, and what it cost
            write_json(run.generation_report, report)
    write_json(run.glossary, [t.model_dump() for t in terms])
    console.print(f"{len(terms)} terms → {len(train_set)} training and {len(test_set)} held-out conversations")
    return terms, train_set, test_set
