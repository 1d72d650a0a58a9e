"""Write a Llama-family model (SmolLM2, Llama, Mistral-shaped) or a Qwen2 model as one GGUF file with
the `gguf` library.

This follows what llama.cpp's `convert_hf_to_gguf.py` writes for `LlamaForCausalLM` (and
`Qwen2ForCausalLM`: no q/k permutation, attention biases, Qwen2's pre-tokenizer), so llama.cpp,
Ollama and transformers' GGUF loader read it: tensor names from `gguf`'s own name map, the q/k rows
permuted as llama.cpp's rotary embedding expects, 1-D tensors in f32, and the tokenizer carried in
full (byte-level BPE vocabulary, token types, merges, BOS/EOS/UNK/PAD ids, chat template). Losing the
chat template or the end-of-turn token is the usual way a GGUF export goes wrong, so both are read
back by the tests.

    lexitune export runs/culinary --format gguf --quant q8_0 --out exports/culinary-gguf
"""

from __future__ import annotations

import json
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


def _tensor_type(name: str, array: np.ndarray, quant: str):
    import gguf

    if array.ndim == 1:
        return gguf.GGMLQuantizationType.F32
    wanted = getattr(gguf.GGMLQuantizationType, QUANTS[quant][0])
    if quant == "q4_0" and name == "token_embd.weight":
        wanted = gguf.GGMLQuantizationType.Q8_0  # as llama.cpp does: 4-bit embeddings hurt every token
    block = gguf.GGML_QUANT_SIZES[wanted][0]
    # A row that is not a whole number of blocks cannot be quantized; keep it in f16 like llama.cpp.
    return wanted if array.shape[-1] % block == 0 else gguf.GGMLQuantizationType.F16


def _vocab(tokenizer) -> tuple[list[str], list[int], list[str]]:
    """Tokens by id, their llama.cpp types, and the BPE merges, from the tokenizer's own JSON."""
    import gguf

    state = json.loads(tokenizer.backend_tokenizer.to_str())
    model = state["model"]
    if model.get("type") != "BPE":
        raise LexituneError(f"gguf export: tokenizer type {model.get('type')} is not supported (byte-level BPE only)")
    added = {t["id"]: t for t in state.get("added_tokens", [])}
    by_id = {i: t for t, i in model["vocab"].items()} | {i: t["content"] for i, t in added.items()}
    size = max(len(tokenizer), max(by_id) + 1)
    tokens, types = [], []
    for i in range(size):
        if i not in by_id:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        else:
            tokens.append(by_id[i])
            types.append(
                gguf.TokenType.CONTROL
                if added.get(i, {}).get("special")
                else gguf.TokenType.USER_DEFINED
                if i in added
                else gguf.TokenType.NORMAL
            )
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    return tokens, [int(t) for t in types], merges


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

    tokens, types, merges = _vocab(tokenizer)
    writer.add_vocab_size(len(tokens))
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(_pre_tokenizer(tokens, cfg.model_type))
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
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
    writer.add_add_space_prefix(False)
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
        kind = _tensor_type(gguf_name, array, quant)
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
