"""Export a finished run: the adapter alone, merged weights, a GGUF file, or a ready Ollama folder.

One module per format; each exporter takes the run folder and a target folder and returns what it
wrote. Adding a format is one module and one line in `EXPORTERS`.

    lexitune export runs/culinary --format merged --out exports/culinary-merged
    python -c "from lexitune.export import export_run; export_run('runs/culinary', 'adapter', 'out/')"
"""

from __future__ import annotations

from pathlib import Path

from lexitune.errors import LexituneError
from lexitune.export.adapter import export_adapter
from lexitune.export.gguf_export import export_gguf
from lexitune.export.merged import export_merged
from lexitune.export.ollama import export_ollama
from lexitune.rundir import RunDir, atomic_dir

EXPORTERS = {"adapter": export_adapter, "merged": export_merged, "gguf": export_gguf, "ollama": export_ollama}


DEFAULT_QUANT = {"gguf": "f16", "ollama": "q8_0"}


def export_run(run_dir: Path | str, fmt: str, out: Path | str, quant: str | None = None) -> Path:
    if fmt not in EXPORTERS:
        raise LexituneError(f"--format {fmt}: choose one of {', '.join(EXPORTERS)}")
    run = RunDir(run_dir)
    run.load_config()  # a clear error for a folder that is not a run
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise LexituneError(f"--out {out}: is a file; exports are written to a folder")
    if out.exists() and any(out.iterdir()):
        raise LexituneError(f"--out {out}: folder exists and is not empty")
    # Written beside --out and renamed into place when complete: a failed or interrupted export
    # leaves nothing that blocks the rerun, and never a half-written model at --out.
    with atomic_dir(out) as tmp:
        written = EXPORTERS[fmt](run, tmp, quant=quant or DEFAULT_QUANT.get(fmt, "f16"))
    return out / Path(written).relative_to(tmp) if Path(written) != tmp else out
