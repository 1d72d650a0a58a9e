"""`--format ollama`: a folder with the GGUF and a Modelfile that asks the model exactly as it was taught.

The Modelfile's TEMPLATE is ChatML in Ollama's Go-template syntax. We only write it after checking
that the model's own (Jinja) chat template renders ChatML, so the two cannot silently disagree; the
default system prompt the Jinja template inserts (SmolLM2 has one) becomes the SYSTEM line unless the
run trained with its own system prompt.

    lexitune export runs/culinary --format ollama --out exports/culinary-ollama
    ollama create culinary -f exports/culinary-ollama/Modelfile && ollama run culinary "Que veut dire TEC ?"
"""

from __future__ import annotations

import json
from pathlib import Path

from lexitune.errors import LexituneError
from lexitune.export.gguf_file import write_gguf
from lexitune.export.merged import merged_model
from lexitune.rundir import RunDir

CHATML_TEMPLATE = """{{- if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}
{{- range .Messages }}
{{- if ne .Role "system" }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}
{{- end }}<|im_start|>assistant
"""


def chatml_default_system(tokenizer) -> str | None:
    """Check the model's chat template is ChatML; return the system prompt it adds by default, if any."""
    probe = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "U"},
        {"role": "assistant", "content": "A"},
        {"role": "user", "content": "V"},
    ]
    rendered = tokenizer.apply_chat_template(probe, tokenize=False, add_generation_prompt=True)
    chatml = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in probe) + "<|im_start|>assistant\n"
    if rendered.strip() != chatml.strip():
        raise LexituneError(
            "ollama export: the model's chat template is not ChatML; only ChatML models "
            "(SmolLM2, Qwen...) are supported for now — use --format gguf and write the TEMPLATE yourself"
        )
    bare = tokenizer.apply_chat_template([{"role": "user", "content": "U"}], tokenize=False, add_generation_prompt=True)
    head = "<|im_start|>system\n"
    if bare.startswith(head):
        return bare[len(head) : bare.index("<|im_end|>")]
    return None


def _quote(text: str) -> str:
    return '"""' + text.replace('"""', '\\"\\"\\"') + '"""'


def modelfile(
    gguf_file: str, system: str | None, stops: list[str], temperature: float = 0.0, num_ctx: int = 2048
) -> str:
    lines = [f"FROM ./{gguf_file}", "", f"TEMPLATE {_quote(CHATML_TEMPLATE)}", ""]
    if system:
        lines += [f"SYSTEM {_quote(system)}", ""]
    lines += [f"PARAMETER stop {json.dumps(s)}" for s in stops]
    # Greedy by default, as lexitune evaluated the model: a glossary answer should not vary between runs.
    lines += [f"PARAMETER temperature {temperature}", f"PARAMETER num_ctx {num_ctx}", ""]
    return "\n".join(lines)


def export_ollama(run: RunDir, out: Path, quant: str = "q8_0") -> Path:
    from lexitune.export.card import resolve_license
    from lexitune.export.gguf_export import gguf_name

    model, tokenizer, config = merged_model(run)
    default_system = chatml_default_system(tokenizer)
    gguf_path = write_gguf(
        model, tokenizer, out / gguf_name(run, quant), quant=quant, name=config.name, license=resolve_license(config)
    )
    stops = ["<|im_end|>", "<|im_start|>"]
    if tokenizer.eos_token and tokenizer.eos_token not in stops:
        stops.append(tokenizer.eos_token)
    num_ctx = min(int(getattr(model.config, "max_position_embeddings", 2048)), 8192)
    text = modelfile(gguf_path.name, config.generate.system_prompt or default_system, stops, num_ctx=num_ctx)
    (out / "Modelfile").write_text(text, encoding="utf-8")
    return out


def create_command(out: Path, name: str) -> str:
    return f"ollama create {name} -f {out / 'Modelfile'}"
