"""lexitune's training loop vs TRL's SFTTrainer on the same work, plus MFU and batched generation.

Each phase runs in its own process, one after the other (so each peak RSS is that trainer's own):
the machine's matmul peak, lexitune, lexitune without prefix sharing (the ablation), then TRL. Both
trainers get the same base model, the same conversations from an invented glossary, LoRA r=16
alpha=32 on all linear layers, the same learning rate, epochs, batch and max length, and the same
held-out evaluation (lexitune's exact_recall). Tokens are counted as DESIGN.md says (conversation
tokens x epochs, prompt and answer, no padding), identically for both.

    python bench/train_vs_trl.py --quick                 # ~3-5 minutes on 2 CPU cores
    python bench/train_vs_trl.py --out bench/RESULTS.md  # the full run: 30 terms, 3 epochs
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_phase(name: str, args: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "out.json"
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, str(HERE / "phases.py"), name, json.dumps(args), str(target)],
            check=True,
            stdout=subprocess.DEVNULL if not args.get("verbose") else None,
        )
        out = json.loads(target.read_text())
    out["phase_seconds"] = time.perf_counter() - start
    print(
        f"  {name}: {json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()})}",
        file=sys.stderr,
    )
    return out


def mfu(lex: dict, trl: dict, peak_gflops: float) -> dict:
    """Model FLOPs utilisation, two ways (formulas in the report)."""
    body, lora, head = lex["body_params"], lex["lora_params"], lex["head_params"]
    honest = ((4 * body + 6 * lora) * lex["computed_tokens"] + 4 * head * lex["answer_positions"]) / lex["seconds"]
    convention = 6 * (body + lora) * lex["tokens"] / lex["seconds"]
    trl_honest = (4 * body + 6 * lora + 4 * head) * trl["tokens"] / trl["seconds"]
    trl_convention = 6 * (body + lora) * trl["tokens"] / trl["seconds"]
    peak = peak_gflops * 1e9
    return {
        "lexitune_computed": honest / peak,
        "lexitune_convention": convention / peak,
        "trl_computed": trl_honest / peak,
        "trl_convention": trl_convention / peak,
        "lexitune_gflops": honest / 1e9,
        "trl_gflops": trl_honest / 1e9,
    }


def report(
    cfg: dict, peak: dict, lex: dict, ablation: dict | None, compiled: dict | None, trl: dict, command: str
) -> str:
    peak_gflops = peak["fp32_gflops"] if lex["precision"] == "fp32" else peak["bf16_gflops"]
    m = mfu(lex, trl, peak_gflops)
    speedup = lex["tokens_per_second"] / trl["tokens_per_second"]
    lines = [
        f"Command: `{command}`",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch threads "
        f"{peak['threads']}, Python {platform.python_version()}; 1-minute load average at the start "
        f"{cfg['load_start']} (it lags: jobs that ended in the last minutes still count).",
        f"Work: {cfg['terms']} invented terms, {cfg['terms'] * 8} training conversations, {lex['tokens']}"
        f" counted tokens ({cfg['epochs']} epochs x {lex['tokens'] / cfg['epochs']:.0f}), batch {cfg['batch_size']}, "
        f"lr {cfg['lr']}, max length {cfg['max_length']}, LoRA r=16 alpha=32 all linear, dropout 0, "
        f"held-out questions {cfg['eval_limit']}.",
        "",
        "| trainer | precision | steps | wall time (s) | tokens/s | peak RSS (MB) | held-out exact_recall |",
        "|---|---|---|---|---|---|---|",
        f"| lexitune | {lex['precision']} | {lex['steps']} | {lex['seconds']:.1f} | {lex['tokens_per_second']:.0f} | "
        f"{lex['peak_rss_mb']:.0f} | {lex['recall']:.3f} |",
    ]
    if ablation:
        lines.append(
            f"| lexitune, no prefix sharing (ablation, {ablation['steps']} steps) | {ablation['precision']} | "
            f"{ablation['steps']} | {ablation['seconds']:.1f} | {ablation['tokens_per_second']:.0f} | "
            f"{ablation['peak_rss_mb']:.0f} | (not evaluated) |"
        )
    if compiled:
        lines.append(
            f"| lexitune + `train.compile` (MLP and norms, compile time included) | {compiled['precision']} | "
            f"{compiled['steps']} | {compiled['seconds']:.1f} | {compiled['tokens_per_second']:.0f} | "
            f"{compiled['peak_rss_mb']:.0f} | {compiled['recall']:.3f} |"
        )
    lines += [
        f"| TRL SFTTrainer | {trl['precision']} | {trl['steps']} | {trl['seconds']:.1f} | "
        f"{trl['tokens_per_second']:.0f} | {trl['peak_rss_mb']:.0f} | {trl['recall']:.3f} |",
        "",
        f"**Speed-up: {speedup:.2f}x TRL's tokens/s** (target >= 2.5x) at recall {lex['recall']:.3f} vs "
        f"{trl['recall']:.3f}.",
        "",
        f"TRL settings: {trl['precision']} (matmul here: fp32 {peak['fp32_gflops']:.1f} GFLOP/s, bf16 "
        f"{peak['bf16_gflops']:.1f} GFLOP/s, so the faster one), prompt/completion dataset with "
        "completion_only_loss, no gradient checkpointing, group_by_length sampling; no packing and no "
        "padding_free: TRL supports both only with FlashAttention 2/3 (position-id resets), which does not "
        "run on CPU, and with SDPA they would let sequences attend to each other. TRL tokenises the same "
        f"conversations to {trl['trl_tokens_per_epoch']} tokens per epoch, lexitune to "
        f"{trl['lexitune_tokens_per_epoch']}.",
        "",
        "Compute efficiency (peak = this machine's measured torch.mm rate (2048x2048 fp32, 512x512 bf16) in the training "
        f"precision, {peak_gflops:.1f} GFLOP/s, same run):",
        "",
        "| MFU | lexitune | TRL |",
        "|---|---|---|",
        f"| computed: (4 x frozen linear params + 6 x LoRA params) x computed tokens + 4 x LM-head params x "
        f"answer positions | {m['lexitune_computed']:.1%} ({m['lexitune_gflops']:.1f} GFLOP/s) | "
        f"{m['trl_computed']:.1%} ({m['trl_gflops']:.1f} GFLOP/s, head on every non-pad token) |",
        f"| convention: 6 x (linear + LoRA params) x counted tokens | {m['lexitune_convention']:.1%} | "
        f"{m['trl_convention']:.1%} |",
        "",
        f"Params: frozen decoder linear weights {lex['body_params'] / 1e6:.1f}M, LoRA {lex['lora_params'] / 1e6:.2f}M, "
        f"LM head (tied embedding) {lex['head_params'] / 1e6:.1f}M, whole model {lex['all_params'] / 1e6:.1f}M. "
        "Computed = forward 2N + activation gradient 2N for frozen weights (they need no weight gradient), "
        "forward + both gradients (6) for LoRA; lexitune computes "
        f"{lex['computed_tokens']} of {lex['tokens']} counted tokens (the shared prefix once per batch) and "
        f"projects {lex['answer_positions']} answer positions to the vocabulary. Attention scores "
        "(~5% at these lengths) and elementwise work are not counted. The 6 x params x tokens convention "
        "credits a weight gradient frozen weights never need and tokens the prefix sharing never "
        "computes, so it overstates; the computed row is the honest one.",
    ]
    if "gen_questions" in lex:
        lines += [
            "",
            "| evaluation generation | questions | seconds | speed-up | identical answers |",
            "|---|---|---|---|---|",
            f"| one question at a time | {lex['gen_questions']} | {lex['gen_single_seconds']:.1f} | 1.0x | |",
            f"| batched ({lex['gen_batch']}) greedy, KV cache | {lex['gen_questions']} | {lex['gen_batched_seconds']:.1f} | "
            f"{lex['gen_single_seconds'] / lex['gen_batched_seconds']:.1f}x | "
            f"{lex['gen_identical']}/{lex['gen_questions']} |",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings for reviewers and CI")
    parser.add_argument("--model", default="default", help="base model (default: shipped SmolLM2-135M-Instruct)")
    parser.add_argument("--terms", type=int)
    parser.add_argument("--epochs", type=float)
    parser.add_argument("--generation", type=int, help="questions for the generation bench (0: skip)")
    parser.add_argument("--no-ablation", action="store_true", help="skip lexitune without prefix sharing")
    parser.add_argument("--compile", action="store_true", help="also run lexitune with train.compile")
    parser.add_argument("--out", type=Path, help="write the markdown report here")
    a = parser.parse_args()
    cfg = {
        "model": a.model,
        "seed": 0,
        "max_length": 256,
        "batch_size": 8,
        "lr": 2e-3,
        "max_new_tokens": 48,
        "terms": a.terms or (6 if a.quick else 30),
        "epochs": a.epochs or (2 if a.quick else 3),
        "load_start": f"{os.getloadavg()[0]:.2f}",
    }
    cfg["eval_limit"] = 3 * cfg["terms"]
    cfg["generation"] = a.generation if a.generation is not None else (16 if a.quick else 64)
    command = "python bench/train_vs_trl.py " + " ".join(sys.argv[1:])
    print("peak matmul ...", file=sys.stderr)
    peak = run_phase("peak", cfg)
    cfg["trl_bf16"] = peak["bf16_gflops"] > peak["fp32_gflops"]
    print("lexitune ...", file=sys.stderr)
    lex = run_phase("lexitune", cfg)
    ablation = None
    if not a.no_ablation:
        print("lexitune without prefix sharing (one epoch) ...", file=sys.stderr)
        one_epoch = math.ceil(cfg["terms"] * 8 / cfg["batch_size"])
        ablation = run_phase(
            "lexitune", {**cfg, "share_prefix": False, "max_steps": one_epoch, "eval_limit": 4, "generation": 0}
        )
    compiled = None
    if a.compile:
        print("lexitune with train.compile ...", file=sys.stderr)
        compiled = run_phase("lexitune", {**cfg, "compile": True, "generation": 0})
    print("TRL ...", file=sys.stderr)
    trl = run_phase("trl", cfg)
    text = report(cfg, peak, lex, ablation, compiled, trl, command)
    print(text)
    if a.out:
        a.out.write_text(text)


if __name__ == "__main__":
    main()
