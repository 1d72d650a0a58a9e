"""One benchmark phase per process, so each trainer's peak memory is its own: peak, lexitune, trl.

Run by bench/train_vs_trl.py; alone:

    python bench/phases.py peak '{}' /tmp/peak.json
"""

from __future__ import annotations

import json
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import invented_glossary  # noqa: E402

from lexitune.config import EvalConfig, GenerateConfig, TrainConfig  # noqa: E402
from lexitune.evaluate.metrics import contains_definition  # noqa: E402
from lexitune.generate import generate_conversations  # noqa: E402
from lexitune.inference.generation import answer_questions  # noqa: E402
from lexitune.models import load_model, load_tokenizer  # noqa: E402
from lexitune.train.data import collate, tokenize_all  # noqa: E402

EVAL_BATCH = EvalConfig().batch_size  # lexitune's default, for both trainers' evaluation


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def matmul_gflops(dtype: torch.dtype, size: int = 2048, seconds: float = 3.0) -> float:
    """This machine's dense matmul rate: the MFU denominator, measured, not looked up."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        runs += 1
    return 2 * size**3 * runs / (time.perf_counter() - start) / 1e9


def peak(args: dict) -> dict:
    return {
        "threads": torch.get_num_threads(),
        "fp32_gflops": matmul_gflops(torch.float32),
        "bf16_gflops": matmul_gflops(torch.bfloat16, size=512),  # emulated bf16 is ~100x slower: keep it short
    }


def dataset(args: dict):
    """The same conversations, tokenisation and held-out questions for every trainer."""
    tokenizer = load_tokenizer(args["model"])
    terms = invented_glossary(args["terms"], args["seed"])
    train_set, test_set = generate_conversations(terms, GenerateConfig(language="en"), args["seed"])
    examples = tokenize_all(tokenizer, train_set, args["max_length"])
    return tokenizer, terms, train_set, test_set[: args["eval_limit"]], examples


def recall(model, tokenizer, terms, questions, batch_size: int, max_new_tokens: int) -> tuple[float, list[str], float]:
    """lexitune's exact_recall on the held-out questions, the answers, and the seconds it took."""
    by_term = {t.term: t.definition for t in terms}
    start = time.perf_counter()
    answers = answer_questions(
        model, tokenizer, [q.prompt_messages() for q in questions], batch_size=batch_size, max_new_tokens=max_new_tokens
    )
    seconds = time.perf_counter() - start
    hits = [contains_definition(a, by_term[q.term]) for a, q in zip(answers, questions, strict=True)]
    return sum(hits) / len(hits), answers, seconds


def _counted_tokens(examples, epochs: float, steps: int, batch: int) -> int:
    """DESIGN.md's train.tokens for a run of `steps` optimiser steps (whole epochs: lengths x epochs)."""
    per_epoch = math.ceil(len(examples) / batch)
    total = sum(len(e) for e in examples)
    full, rest = divmod(steps, per_epoch)
    return total * full + (round(total * rest / per_epoch) if rest else 0)


def computed_work(examples, cfg: TrainConfig, seed: int, steps: int) -> dict:
    """What the loop actually computes: suffix tokens after the shared prefix, and answer positions."""
    from lexitune.train.loop import _step_groups, _steps_per_epoch
    from lexitune.train.shared_prefix import shared_prefix_length

    per_epoch = _steps_per_epoch(len(examples), cfg)
    computed = answers = 0
    for step in range(steps):
        epoch, position = divmod(step, per_epoch)
        for ids in _step_groups(examples, cfg, seed, epoch)[position]:
            batch = collate([examples[i] for i in ids], 0)
            prefix = shared_prefix_length(batch) if cfg.share_prefix else 0
            computed += int(batch["attention_mask"].sum()) - prefix * (len(ids) - 1)
            answers += int((batch["labels"][:, 1:] != -100).sum())
    return {"computed_tokens": computed, "answer_positions": answers}


def model_sizes(model) -> dict:
    """Parameters a token touches: decoder linear weights (frozen), LoRA's (trained), the LM head."""
    base = model.get_base_model()
    body = sum(m.base_layer.weight.numel() for m in model.modules() if hasattr(m, "base_layer"))
    lora = sum(p.numel() for p in model.parameters() if p.requires_grad)
    head = base.get_output_embeddings().weight.numel()
    return {
        "body_params": body,
        "lora_params": lora,
        "head_params": head,
        "all_params": sum(p.numel() for p in base.parameters()),
    }


def lexitune(args: dict) -> dict:
    from rich.console import Console

    from lexitune.train.adapters import prepare_model
    from lexitune.train.loop import train

    tokenizer, terms, _, questions, examples = dataset(args)
    cfg = TrainConfig(
        epochs=args["epochs"],
        batch_size=args["batch_size"],
        learning_rate=args["lr"],
        max_length=args["max_length"],
        share_prefix=args.get("share_prefix", True),
        compile=args.get("compile", False),
        max_steps=args.get("max_steps"),
    )
    torch.manual_seed(args["seed"])
    model = prepare_model(load_model(args["model"]), cfg)
    with tempfile.TemporaryDirectory() as tmp:
        result = train(
            model,
            examples,
            cfg,
            Path(tmp),
            pad_id=tokenizer.pad_token_id,
            seed=args["seed"],
            console=Console(stderr=True, quiet=True),
        )
    out = {
        "seconds": result.seconds,
        "steps": result.steps,
        "tokens": result.tokens,
        "tokens_per_second": result.tokens / result.seconds,
        "precision": result.precision,
        "final_loss": result.final_loss,
        "peak_rss_mb": peak_rss_mb(),
        **model_sizes(model),
        **computed_work(examples, cfg, args["seed"], result.steps),
    }
    out["recall"], answers, out["eval_seconds"] = recall(
        model, tokenizer, terms, questions, EVAL_BATCH, args["max_new_tokens"]
    )
    if args.get("generation"):
        out.update(generation(model, tokenizer, questions[: args["generation"]], args["max_new_tokens"]))
    return out


def generation(model, tokenizer, questions, max_new_tokens: int) -> dict:
    """Batched greedy decoding with a KV cache vs one question at a time: same answers, how much faster."""
    prompts = [q.prompt_messages() for q in questions]
    start = time.perf_counter()
    one = answer_questions(model, tokenizer, prompts, batch_size=1, max_new_tokens=max_new_tokens)
    single = time.perf_counter() - start
    start = time.perf_counter()
    batched = answer_questions(model, tokenizer, prompts, batch_size=EVAL_BATCH, max_new_tokens=max_new_tokens)
    many = time.perf_counter() - start
    return {
        "gen_questions": len(prompts),
        "gen_single_seconds": single,
        "gen_batched_seconds": many,
        "gen_identical": sum(a == b for a, b in zip(one, batched, strict=True)),
        "gen_batch": EVAL_BATCH,
    }


def trl(args: dict) -> dict:
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    tokenizer, terms, train_set, questions, examples = dataset(args)
    # Prompt/completion format: TRL's completion-only loss, the same answer-only loss lexitune takes.
    rows = [{"prompt": c.prompt_messages(), "completion": [c.messages[-1].model_dump()]} for c in train_set]
    torch.manual_seed(args["seed"])
    model = load_model(args["model"])
    with tempfile.TemporaryDirectory() as tmp:
        sft = SFTConfig(
            output_dir=tmp,
            per_device_train_batch_size=args["batch_size"],
            gradient_accumulation_steps=1,
            num_train_epochs=args["epochs"],
            max_steps=args.get("max_steps") or -1,
            learning_rate=args["lr"],
            lr_scheduler_type="cosine",
            warmup_steps=0.1,
            weight_decay=0.0,
            max_length=args["max_length"],
            completion_only_loss=True,
            packing=False,
            padding_free=False,
            gradient_checkpointing=False,
            bf16=args["trl_bf16"],
            use_cpu=True,
            train_sampling_strategy="group_by_length",
            save_strategy="no",
            report_to=[],
            logging_steps=10,
            seed=args["seed"],
            dataloader_num_workers=0,
            disable_tqdm=True,
        )
        lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")
        trainer = SFTTrainer(
            model=model, args=sft, train_dataset=Dataset.from_list(rows), processing_class=tokenizer, peft_config=lora
        )
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    steps = trainer.state.global_step
    tokens = _counted_tokens(examples, args["epochs"], steps, args["batch_size"])
    trl_tokens = sum(len(x["input_ids"]) for x in trainer.train_dataset)
    out = {
        "seconds": seconds,
        "steps": steps,
        "tokens": tokens,
        "tokens_per_second": tokens / seconds,
        "trl_tokens_per_epoch": trl_tokens,
        "lexitune_tokens_per_epoch": sum(len(e) for e in examples),
        "precision": "bf16" if args["trl_bf16"] else "fp32",
        "peak_rss_mb": peak_rss_mb(),
        "final_loss": trainer.state.log_history[-1].get("train_loss"),
    }
    model = trainer.model
    out["recall"], _, out["eval_seconds"] = recall(
        model, tokenizer, terms, questions, EVAL_BATCH, args["max_new_tokens"]
    )
    return out


PHASES = {"peak": peak, "lexitune": lexitune, "trl": trl}

if __name__ == "__main__":
    name, raw, target = sys.argv[1:4]
    Path(target).write_text(json.dumps(PHASES[name](json.loads(raw))))
