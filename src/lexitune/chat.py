"""Talk to a tuned model in the terminal, tokens streamed as they come.

lexitune chat runs/culinary
lexitune chat runs/culinary --prompt "Que veut dire TEC ?"
lexitune chat runs/culinary --base --prompt "Que veut dire TEC ?"   # the untuned model
"""

from __future__ import annotations

import sys
from threading import Thread

from lexitune.pipeline import load_terms, load_trained
from lexitune.route import adapter_off, guards, undeclined, uses_adapter
from lexitune.rundir import RunDir


def stream_answer(model, tokenizer, messages: list[dict], max_new_tokens: int = 256, write=None) -> str:
    """Greedy answer to `messages`, written piece by piece as it is generated; returns the whole answer."""
    from transformers import TextIteratorStreamer

    write = write or sys.stdout.write

    enc = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    kwargs = dict(
        **enc, max_new_tokens=max_new_tokens, do_sample=False, streamer=streamer, pad_token_id=tokenizer.pad_token_id
    )
    thread = Thread(target=model.generate, kwargs=kwargs, daemon=True)
    thread.start()
    pieces = []
    for piece in streamer:
        pieces.append(piece)
        write(piece)
        sys.stdout.flush()
    thread.join()
    write("\n")
    return "".join(pieces).strip()


def chat(run_dir: str, prompt: str | None = None, base: bool = False, max_new_tokens: int = 256) -> None:
    run = RunDir(run_dir)
    model, tokenizer, config = load_trained(run)
    terms = load_terms(run)
    system = config.generate.system_prompt
    history: list[dict] = [{"role": "system", "content": system}] if system else []

    def answer(messages: list[dict]) -> str:
        # --base answers with the adapter switched off: the same weights the run started from;
        # model.route: glossary does the same for a question that names nothing of the glossary.
        off = base or not uses_adapter(config, terms, messages)
        with adapter_off(model, off):
            if off or not guards(config, terms, messages):
                return stream_answer(model, tokenizer, messages, max_new_tokens)
            # model.guard_declines: the answer must be whole before it is shown, a decline is replaced.
            text = undeclined(
                model,
                tokenizer,
                messages,
                stream_answer(model, tokenizer, messages, max_new_tokens, write=lambda _: None),
                max_new_tokens,
            )
            print(text)
            return text

    if prompt is not None:
        answer([*history, {"role": "user", "content": prompt}])
        return
    print("Type a question; empty line or Ctrl-D to quit.", file=sys.stderr)
    while True:
        try:
            text = input("> ").strip()
        except EOFError:
            break
        if not text:
            break
        history.append({"role": "user", "content": text})
        history.append({"role": "assistant", "content": answer(history)})
