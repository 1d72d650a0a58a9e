"""Talk to a tuned model in the terminal, tokens streamed as they come.

Answers are asked exactly as evaluation asks them (the same `Answerer`: system prompt, routing,
guard, and `eval.max_new_tokens` unless `--max-new-tokens` says otherwise), so what you read here
is what the metrics measured.

    lexitune chat runs/culinary
    lexitune chat runs/culinary --prompt "Que veut dire TEC ?"
    lexitune chat runs/culinary --base --prompt "Que veut dire TEC ?"   # the untuned model
"""

from __future__ import annotations

import sys

from lexitune.inference import Answerer, load_base_for, load_terms, load_trained
from lexitune.rundir import RunDir


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def chat(run_dir: str, prompt: str | None = None, base: bool = False, max_new_tokens: int | None = None) -> None:
    run = RunDir(run_dir)
    model, tokenizer, config = load_trained(run)
    length = {"max_new_tokens": max_new_tokens} if max_new_tokens else {}
    if base:  # the same weights the run started from (the adapter switched off, or the base reloaded)
        answerer = Answerer.base(load_base_for(model, config), tokenizer, config, **length)
    else:
        answerer = Answerer.tuned(model, tokenizer, config, load_terms(run), **length)

    def answer(messages: list[dict]) -> str:
        text = answerer.stream(messages, _write)
        _write("\n")
        return text

    if prompt is not None:
        answer([{"role": "user", "content": prompt}])
        return
    print("Type a question; empty line or Ctrl-D to quit.", file=sys.stderr)
    history: list[dict] = []
    while True:
        try:
            text = input("> ").strip()
        except EOFError:
            break
        if not text:
            break
        history.append({"role": "user", "content": text})
        history.append({"role": "assistant", "content": answer(history)})
