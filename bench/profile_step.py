"""Where a training step's time goes: torch.profiler over real steps, grouped by kind of work.

    python bench/profile_step.py --steps 6 --out bench/PROFILE.md

Same data and settings as bench/train_vs_trl.py (30 invented terms, batch 8, LoRA r=16 all linear),
in the precision the loop would choose here (`--precision`); under bf16 the step runs as the loop
runs it: autocast, the frozen weights held in bf16, the attention kernel the loop picks.
Matrix products are told apart by shape: a dimension equal to the vocabulary is the LM head, an
inner dimension equal to the LoRA rank is LoRA, fewer rows than a batch's sequences could fill is
the shared prefix (run as a batch of one); the rest are the frozen projections over the suffixes.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phases import dataset  # noqa: E402

from lexitune.config import TrainConfig  # noqa: E402
from lexitune.models import load_model  # noqa: E402
from lexitune.train.adapters import prepare_model  # noqa: E402
from lexitune.train.data import collate, length_grouped_batches  # noqa: E402
from lexitune.train.precision import StepPrecision, choose_precision  # noqa: E402
from lexitune.train.shared_prefix import answer_loss_sum, shared_prefix_length  # noqa: E402

MATH_ATTENTION_OPS = {
    "aten::bmm",
    "aten::baddbmm",
    "aten::_softmax",
    "aten::_safe_softmax",
    "aten::_softmax_backward_data",
}
PREFIX_ROWS = 64  # a suffix batch has 8 rows x at least ~10 tokens; the prefix is one row of ~30


def kind(name: str, shapes: list, rank: int, vocab: int) -> str:
    if name == "aten::mm" and len(shapes) >= 2 and shapes[0] and shapes[1]:
        (m, k), (_, n) = shapes[0], shapes[1]
        if vocab in (m, k, n):
            return "LM head (answer positions only)"
        if rank in (k, n, m):
            return "LoRA matmuls (rank 16)"
        if m < PREFIX_ROWS:
            return "frozen projections, shared prefix (1 row)"
        return "frozen projections, suffixes"
    if name in ("aten::copy_", "aten::_to_copy"):
        return "copies and precision casts"
    # the math kernel's attention is batched products and a softmax (nothing else here uses bmm)
    if "scaled_dot_product" in name or name in MATH_ATTENTION_OPS:
        return "attention (SDPA)"
    if "Optimizer" in name or "adam" in name.lower() or name.startswith("aten::_foreach"):
        return "optimizer"
    return "elementwise, norms, autograd bookkeeping"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--share-prefix", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto")
    parser.add_argument("--out", type=Path)
    a = parser.parse_args()
    args = {"model": "default", "terms": 30, "seed": 0, "max_length": 256, "eval_limit": 1}
    tokenizer, _, _, _, examples = dataset(args)
    cfg = TrainConfig()
    torch.manual_seed(0)
    model = prepare_model(load_model("default"), cfg)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, foreach=True)
    batches = length_grouped_batches([len(e) for e in examples], cfg.batch_size, 0)
    precision = choose_precision(a.precision, torch.device("cpu"))
    in_precision = StepPrecision(model, precision, torch.device("cpu"), cfg.method)

    def step(ids: list[int]) -> None:
        batch = collate([examples[i] for i in ids], tokenizer.pad_token_id)
        with in_precision.around(batch["input_ids"].shape[1]):
            with in_precision.autocast:
                loss = answer_loss_sum(model, batch, share_prefix=a.share_prefix) / 100
            loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for ids in batches[:2]:  # warm-up: allocator, thread pools
        step(ids)
    measured = batches[2 : 2 + a.steps]
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for ids in measured:
            step(ids)
    vocab = model.get_base_model().get_output_embeddings().weight.shape[0]
    totals: dict[str, float] = defaultdict(float)
    for event in prof.key_averages(group_by_input_shape=True):
        totals[kind(event.key, event.input_shapes, cfg.lora.r, vocab)] += event.self_cpu_time_total / 1e6
    whole = sum(totals.values())
    prefixes = [shared_prefix_length(collate([examples[i] for i in ids], 0)) for ids in measured]
    lines = [
        f"Command: `python bench/profile_step.py {' '.join(sys.argv[1:])}`",
        "",
        f"{a.steps} training steps in {precision.name} ({precision.reason}; batch {cfg.batch_size}, shared prefix "
        f"{'on, ' + str(min(prefixes)) + '-' + str(max(prefixes)) + ' tokens' if a.share_prefix else 'off'}), "
        f"profiler self time {whole:.2f} s (the profiler adds overhead; shares are what matter):",
        "",
        "| where the time goes | seconds | share |",
        "|---|---|---|",
    ]
    for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {name} | {seconds:.2f} | {seconds / whole:.0%} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        a.out.write_text(text)


if __name__ == "__main__":
    main()
