"""Write a Llama-family model (SmolLM2, Llama, Llama-2, Mistral-shaped) or a Qwen2 model as one GGUF
file with the `gguf` library.

This follows what llama.cpp's `convert_hf_to_gguf.py` writes for `LlamaForCausalLM` (and
`Qwen2ForCausalLM`: no q/k permutation, attention biases, Qwen2's pre-tokenizer), so llama.cpp,
Ollama and transformers' GGUF loader read it: tensor names from `gguf`'s own name map, the q/k rows
permuted as llama.cpp's rotary embedding expects, 1-D tensors in f32, and the tokenizer carried in
full (byte-level BPE with its merges, or SentencePiece with its scores and byte tokens; token types,
BOS/EOS/UNK/PAD ids, chat template). Losing the
chat template or the end-of-turn token is the usual way a GGUF export goes wrong, so both are read
back by the tests.

    lexitune export runs/culinary --format gguf --quant q8_0 --out exports/culinary-gguf
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lexitune.errors import LexituneError

# quant name → (type of 2-D weights, llama.cpp file type)
QUANTS = {"f16": ("F16", "MOSTLY_F16"), "q8_0": ("Q8_0", "MOSTLY_Q8_0"), "q4_0": ("Q4_0", "MOSTLY_Q4_0")}
# transformers model_type -> (gguf architecture, q/k rows permuted for llama.cpp's rotary layout).
# llama.cpp's convert_hf_to_gguf.py permutes for Llama-family models only: Qwen2's rotary
# embedding is computed in the NeoX (halves) layout HF already uses, and its q/k/v carry biases.
_ARCHS = {"llama": ("LLAMA", True), "mistral": ("LLAMA", True), "qwen2": ("QWEN2", False)}


def _permute(weights: np.ndarray, n_head: int) -> np.ndarray:
    """HF's rotary layout (halves) → llama.cpp's (interleaved pairs); transformers undoes it on load."""
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


_BLOCK = re.compile(r"^blk\.(\d+)\.")


def _tensor_type(name: str, array: np.ndarray, quant: str, tied: bool, n_blocks: int):
    import gguf

    if array.ndim == 1:
        return gguf.GGMLQuantizationType.F32
    output = name == "output.weight" or (tied and name == "token_embd.weight")
    block = _BLOCK.match(name)
    last_third = block is not None and int(block[1]) >= n_blocks - n_blocks // 3
    if quant == "q8_0" and (output or last_third):
        # The output projection and the blocks nearest it pick each greedy token, and a tuned
        # model's near-tied choices (an answer's phrasing, a definition or a decline) flip under
        # 8-bit rounding there. Measured in llama.cpp on a culinary robust run (bench/GGUF.md):
        # every 2-D tensor in q8_0, 38 of 45 answers kept their text; the output projection in
        # f16, 41 of 45 (robust v1), but 34 of 45 and recall 0.91 against 0.98 on robust v2;
        # the last third of the blocks in f16 too, 42 of 45 and recall 0.98, for 195 MB
        # against 163 (f16: 258). Keeping the first third instead gave 40 of 45, recall 0.93.
        return gguf.GGMLQuantizationType.F16
    wanted = getattr(gguf.GGMLQuantizationType, QUANTS[quant][0])
    if quant == "q4_0" and name == "token_embd.weight":
        wanted = gguf.GGMLQuantizationType.Q8_0  # as llama.cpp does: 4-bit embeddings hurt every token
    size = gguf.GGML_QUANT_SIZES[wanted][0]
    # A row that is not a whole number of blocks cannot be quantized; keep it in f16 like llama.cpp.
    return wanted if array.shape[-1] % size == 0 else gguf.GGMLQuantizationType.F16


_BYTE_TOKEN = re.compile(r"<0x[0-9A-Fa-f]{2}>")


@dataclass
class Vocab:
    """What llama.cpp needs of a tokenizer: `model` "gpt2" (byte-level BPE: merges) or "llama"
    (SentencePiece: scores, byte-fallback tokens, the "▁" word prefix)."""

    model: str
    tokens: list[str]
    types: list[int]
    merges: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    space_prefix: bool = False


def _vocab(tokenizer) -> Vocab:
    """The tokenizer's own JSON, read as llama.cpp's converter reads it: byte-level BPE as "gpt2";
    SentencePiece BPE (byte fallback, as Llama-2 and Mistral v1 ship it in tokenizer.json) as
    "llama"."""
    import gguf

    state = json.loads(tokenizer.backend_tokenizer.to_str())
    model = state["model"]
    kind = model.get("type")
    if kind != "BPE":
        raise LexituneError(f"gguf export: tokenizer type {kind} is not supported (BPE or SentencePiece BPE only)")
    sentencepiece = bool(model.get("byte_fallback"))
    added = {t["id"]: t for t in state.get("added_tokens", [])}
    # A SentencePiece BPE model merges the highest-scored pair first; tokenizer.json keeps the
    # pieces in score order, so minus the id ranks them as SentencePiece did.
    pieces = {i: (t, -float(i)) for t, i in model["vocab"].items()}
    by_id = {i: p for i, (p, _) in pieces.items()} | {i: t["content"] for i, t in added.items()}
    size = max(len(tokenizer), max(by_id) + 1)
    unk = tokenizer.unk_token_id
    tokens, types, scores = [], [], []
    for i in range(size):
        token = by_id.get(i)
        scores.append(pieces[i][1] if i in pieces and sentencepiece else 0.0)
        if token is None:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        tokens.append(token)
        if sentencepiece and i == unk:
            types.append(gguf.TokenType.UNKNOWN)
        elif sentencepiece and _BYTE_TOKEN.fullmatch(token):
            types.append(gguf.TokenType.BYTE)
        elif added.get(i, {}).get("special"):
            types.append(gguf.TokenType.CONTROL)
        elif i in added:
            types.append(gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL)
    types = [int(t) for t in types]
    if sentencepiece:
        return Vocab("llama", tokens, types, scores=scores, space_prefix=_space_prefix(state))
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    return Vocab("gpt2", tokens, types, merges=merges)


def _space_prefix(state: dict) -> bool:
    """Whether llama.cpp must put "▁" before the text after each special token, as a Prepend
    normalizer (Llama-2) or a Metaspace pre-tokenizer prepending "always" does. A Metaspace
    prepending only to the "first" piece of text adds nothing after a special token, and a chat
    prompt starts with one (BOS or a turn marker): no prefix then, as for Gemma."""
    text = json.dumps([state.get("normalizer"), state.get("pre_tokenizer")])
    return '"Prepend"' in text or '"prepend_scheme": "always"' in text


def _pre_tokenizer(tokens: list[str], model_type: str) -> str:
    """llama.cpp picks its pre-tokenizer regex by name: Qwen2's for Qwen2 models; SmolLM2's
    vocabulary is recognised by its first tokens; GPT-2's otherwise."""
    if model_type == "qwen2":
        return "qwen2"
    return "smollm" if tokens[:3] == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] else "gpt2"


def write_gguf(
    model, tokenizer, path: Path, *, quant: str = "f16", name: str = "model", license: str | None = None
) -> Path:
    """Write `model` (a plain transformers Llama, adapters already merged) and its tokenizer to `path`."""
    import gguf

    if quant not in QUANTS:
        raise LexituneError(f"--quant {quant}: choose one of {', '.join(QUANTS)}")
    cfg = model.config
    if cfg.model_type not in _ARCHS:
        raise LexituneError(f"gguf export supports {', '.join(sorted(_ARCHS))} models; this one is {cfg.model_type}")
    arch_name, permute = _ARCHS[cfg.model_type]
    arch = getattr(gguf.MODEL_ARCH, arch_name)
    rope = getattr(cfg, "rope_parameters", None) or {"rope_theta": getattr(cfg, "rope_theta", 10000.0)}
    if rope.get("rope_type", "default") != "default":
        raise LexituneError(f"gguf export: rope scaling {rope.get('rope_type')} is not supported yet")
    n_head, n_kv = cfg.num_attention_heads, cfg.num_key_value_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // n_head

    writer = gguf.GGUFWriter(str(path), gguf.MODEL_ARCH_NAMES[arch])
    writer.add_type("model")
    writer.add_name(name)
    if license:
        writer.add_license(license)
    writer.add_context_length(cfg.max_position_embeddings)
    writer.add_embedding_length(cfg.hidden_size)
    writer.add_block_count(cfg.num_hidden_layers)
    writer.add_feed_forward_length(cfg.intermediate_size)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_kv)
    writer.add_rope_freq_base(float(rope["rope_theta"]))
    writer.add_layer_norm_rms_eps(float(cfg.rms_norm_eps))
    writer.add_rope_dimension_count(head_dim)
    writer.add_file_type(getattr(gguf.LlamaFileType, QUANTS[quant][1]))
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)

    vocab = _vocab(tokenizer)
    writer.add_vocab_size(len(vocab.tokens))
    writer.add_tokenizer_model(vocab.model)
    if vocab.model == "gpt2":
        writer.add_tokenizer_pre(_pre_tokenizer(vocab.tokens, cfg.model_type))
    writer.add_token_list(vocab.tokens)
    writer.add_token_types(vocab.types)
    if vocab.model == "gpt2":
        writer.add_token_merges(vocab.merges)
    else:
        writer.add_token_scores(vocab.scores)
    for token, add in [
        (tokenizer.bos_token_id, writer.add_bos_token_id),
        (tokenizer.unk_token_id, writer.add_unk_token_id),
        (tokenizer.pad_token_id, writer.add_pad_token_id),
    ]:
        if token is not None:
            add(token)
    eos = model.generation_config.eos_token_id if model.generation_config is not None else None
    eos_ids = eos if isinstance(eos, list) else [eos] if eos is not None else []
    writer.add_eos_token_id(tokenizer.eos_token_id if tokenizer.eos_token_id is not None else eos_ids[0])
    # llama.cpp ends a turn at EOT as well as EOS; for ChatML models both are <|im_end|>.
    writer.add_eot_token_id(tokenizer.eos_token_id if tokenizer.eos_token_id is not None else eos_ids[0])
    writer.add_add_bos_token(bool(getattr(tokenizer, "add_bos_token", False)))
    writer.add_add_space_prefix(vocab.space_prefix)
    if tokenizer.chat_template:
        writer.add_chat_template(tokenizer.chat_template)

    names = gguf.get_tensor_name_map(arch, cfg.num_hidden_layers)
    tied = bool(getattr(cfg, "tie_word_embeddings", False))
    for hf_name, tensor in model.state_dict().items():
        if tied and hf_name == "lm_head.weight":
            continue  # no output.weight: readers tie it to token_embd, as the model does
        if "rotary_emb" in hf_name:
            continue
        base, _, suffix = hf_name.rpartition(".")
        mapped = names.get_name(base)
        if mapped is None:
            raise LexituneError(f"gguf export: no GGUF name for tensor {hf_name}")
        array = tensor.detach().to(torch.float32).numpy()
        if permute and hf_name.endswith("q_proj.weight"):
            array = _permute(array, n_head)
        elif permute and hf_name.endswith("k_proj.weight"):
            array = _permute(array, n_kv)
        gguf_name = f"{mapped}.{suffix}"
        kind = _tensor_type(gguf_name, array, quant, tied, cfg.num_hidden_layers)
        if kind == gguf.GGMLQuantizationType.F32:
            writer.add_tensor(gguf_name, array.astype(np.float32))
        elif kind == gguf.GGMLQuantizationType.F16:
            writer.add_tensor(gguf_name, array.astype(np.float16))
        else:
            writer.add_tensor(gguf_name, gguf.quants.quantize(array, kind), raw_dtype=kind)

    path.parent.mkdir(parents=True, exist_ok=True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
