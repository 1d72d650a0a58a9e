"""Preference tuning after supervised fine-tuning: DPO or ORPO on pairs the run makes itself.

A glossary model's typical failures are answers it writes itself, so the "rejected" side of each
pair is one of them, and the "chosen" side what the training data already says:

- a glossary question: chosen the glossary's answer; rejected the tuned model's answer where it is
  wrong, else the base model's (an invented definition, most often);
- an invented acronym (the recipe's negatives): chosen the decline; rejected the tuned model's
  answer where it does not decline, else the base model's invented definition;
- a general question (replay): chosen the base model's own answer; rejected the tuned model's,
  where it differs (a glossary-style answer to a general question).

Pairs come from training conversations only: never a held-out, sealed or probe question. DPO's
reference is the model as SFT left it: its log-probabilities are computed once before the first
step (no second copy of the model in memory, so full fine-tunes work too). ORPO needs none: an
odds-ratio term beside the chosen answers' loss. Both run in the project's own loop: the loss on
answer tokens only, projecting to the vocabulary only there.

    lexitune run my-glossary.csv --set train.preference=dpo
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from rich.console import Console

from lexitune.config import Config
from lexitune.errors import LexituneError
from lexitune.evaluate.metrics import contains_definition
from lexitune.evaluate.probes.decline import is_decline
from lexitune.generate.dataset import Conversation
from lexitune.glossary.term import Term
from lexitune.inference import adapter_off
from lexitune.inference.generation import answer_questions
from lexitune.rundir import RunDir, write_jsonl
from lexitune.train.data import IGNORE, collate, length_grouped_batches, tokenize
from lexitune.train.distributed import current_world
from lexitune.train.precision import StepPrecision, choose_precision
from lexitune.train.shared_prefix import _answer_logits, decoder_hidden


@dataclass
class Pair:
    kind: str  # glossary | negative | general
    prompt: list[dict]
    chosen: str
    rejected: str


def _kind(c: Conversation) -> str | None:
    if c.style.startswith("negative/"):
        return "negative"
    if c.style.split("/")[0].startswith("replay"):
        return "general"
    return "glossary" if c.term else None


def build_pairs(model, tokenizer, config: Config, terms: list[Term], train_set: list[Conversation]) -> list[Pair]:
    """One pair per single-turn training conversation whose rejected answer the run can write."""
    definitions = {t.term: t.definitions for t in terms}
    asked = [
        c for c in train_set if c.split == "train" and _kind(c) and sum(m.role == "assistant" for m in c.messages) == 1
    ]
    prompts = [c.prompt_messages() for c in asked]
    length = config.train.replay_max_new_tokens
    model.eval()
    tuned = answer_questions(model, tokenizer, prompts, batch_size=config.eval.batch_size, max_new_tokens=length)
    base = [""] * len(prompts)  # a full fine-tune has no base inside: its own answers only
    if hasattr(model, "disable_adapter"):
        with adapter_off(model, True):
            base = answer_questions(model, tokenizer, prompts, batch_size=config.eval.batch_size, max_new_tokens=length)
    pairs = []
    for c, prompt, mine, theirs in zip(asked, prompts, tuned, base, strict=True):
        kind, chosen = _kind(c), c.answer
        if kind == "glossary":
            wanted = c.expected or c.answer
            meanings = [c.expected] if c.expected else definitions.get(c.term, [wanted])
            rejected = next(
                (a for a in (mine, theirs) if a.strip() and not any(contains_definition(a, d) for d in meanings)), None
            )
        elif kind == "negative":
            rejected = next((a for a in (mine, theirs) if a.strip() and not is_decline(a)), None)
        else:
            rejected = mine if mine.strip() and mine.strip() != chosen.strip() else None
        if rejected is not None:
            pairs.append(Pair(kind, prompt, chosen, rejected))
    return pairs


def _examples(tokenizer, pairs: list[Pair], side: str, max_length: int):
    return [
        tokenize(tokenizer, [*p.prompt, {"role": "assistant", "content": getattr(p, side)}], max_length) for p in pairs
    ]


def answer_logps(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row's summed log-probability of its answer tokens, and how many there are."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden, offset = decoder_hidden(base.get_decoder(), batch, 0)
    targets = batch["labels"][:, offset + 1 :]
    keep = targets != IGNORE
    logits = _answer_logits(base, hidden[:, :-1], keep)
    picked = F.log_softmax(logits, -1).gather(1, targets[keep].unsqueeze(1)).squeeze(1)
    rows = keep.nonzero()[:, 0]
    sums = torch.zeros(keep.shape[0], dtype=picked.dtype).index_add(0, rows, picked)
    return sums, keep.sum(1)


def preference_loss(kind: str, beta: float, chosen, rejected, ref_chosen=None, ref_rejected=None):
    """DPO: -log σ(β·((πc − refc) − (πr − refr))) on summed log-probs. ORPO: the chosen answers'
    mean negative log-likelihood plus β·(−log σ(log odds(c) − log odds(r))) on mean log-probs."""
    (c_sum, c_n), (r_sum, r_n) = chosen, rejected
    if kind == "dpo":
        margin = (c_sum - ref_chosen) - (r_sum - ref_rejected)
        return -F.logsigmoid(beta * margin).mean()
    c_mean, r_mean = c_sum / c_n.clamp(min=1), r_sum / r_n.clamp(min=1)

    def log_odds(mean_logp):  # log(p / (1 - p)), p the mean token probability; finite as p -> 1
        return mean_logp - torch.log1p(-torch.exp(mean_logp.clamp(max=-1e-6)))

    return (-c_mean).mean() + beta * -F.logsigmoid(log_odds(c_mean) - log_odds(r_mean)).mean()


def preference_tune(
    model, tokenizer, config: Config, run: RunDir, terms: list[Term], train_set: list[Conversation], console: Console
) -> dict:
    """Tune `model` (as SFT left it) on the run's own preference pairs; what it did, for train.json."""
    cfg = config.train
    if current_world().size > 1:
        raise LexituneError("train.preference: runs in one process for now (not under accelerate launch)")
    started = time.perf_counter()
    pairs = build_pairs(model, tokenizer, config, terms, train_set)
    write_jsonl(run.data / "preference.jsonl", [p.__dict__ for p in pairs])
    counts = {k: sum(p.kind == k for p in pairs) for k in ("glossary", "negative", "general")}
    console.print(f"preference ({cfg.preference}): {len(pairs)} pairs {json.dumps(counts)}")
    if not pairs:
        return {"method": cfg.preference, "pairs": 0, "seconds": round(time.perf_counter() - started, 2)}
    chosen = _examples(tokenizer, pairs, "chosen", cfg.max_length)
    rejected = _examples(tokenizer, pairs, "rejected", cfg.max_length)
    pad = tokenizer.pad_token_id
    device = next(model.parameters()).device
    in_precision = StepPrecision(model, choose_precision(cfg.precision, device), device, cfg.method)
    batches = length_grouped_batches(
        [len(c) + len(r) for c, r in zip(chosen, rejected, strict=True)], cfg.batch_size, config.seed
    )
    reference: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    if cfg.preference == "dpo":
        with in_precision.without_grad():
            for ids in batches:
                c = answer_logps(model, collate([chosen[i] for i in ids], pad))[0]
                r = answer_logps(model, collate([rejected[i] for i in ids], pad))[0]
                for k, i in enumerate(ids):
                    reference[i] = (c[k].float(), r[k].float())
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.preference_learning_rate, weight_decay=cfg.weight_decay)
    steps = max(1, math.ceil(len(batches) * cfg.preference_epochs))
    model.train()
    losses, step, margins = [], 0, []
    while step < steps:
        for ids in length_grouped_batches(
            [len(c) + len(r) for c, r in zip(chosen, rejected, strict=True)], cfg.batch_size, config.seed + 1 + step
        ):
            if step == steps:
                break
            batch_c, batch_r = collate([chosen[i] for i in ids], pad), collate([rejected[i] for i in ids], pad)
            longest = max(batch_c["input_ids"].shape[1], batch_r["input_ids"].shape[1])
            with in_precision.around(longest):
                with in_precision.autocast:
                    c = answer_logps(model, batch_c)
                    r = answer_logps(model, batch_r)
                    refs = (
                        (torch.stack([reference[i][0] for i in ids]), torch.stack([reference[i][1] for i in ids]))
                        if reference
                        else (None, None)
                    )
                    loss = preference_loss(cfg.preference, cfg.preference_beta, c, r, *refs)
                loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
            margins.append(float((c[0] / c[1].clamp(min=1) - r[0] / r[1].clamp(min=1)).mean().detach()))
            step += 1
    model.eval()
    seconds = round(time.perf_counter() - started, 2)
    console.print(f"preference: {step} steps in {seconds:.0f} s, final loss {losses[-1]:.3f}")
    return {
        "method": cfg.preference,
        "pairs": len(pairs),
        "kinds": counts,
        "steps": step,
        "seconds": seconds,
        "first_loss": round(losses[0], 4),
        "final_loss": round(losses[-1], 4),
        "first_margin": round(margins[0], 4),
        "final_margin": round(margins[-1], 4),
    }
