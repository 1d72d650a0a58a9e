"""`lexitune push`: put a run on the Hugging Face Hub (or, with --dry-run, in the folder that would be uploaded).

The folder holds the chosen weights (adapter, merged safetensors or one GGUF), README.md (the model
card), metrics.json, and glossary.json only with --include-data. The token comes from HF_TOKEN (or
the user's saved login); `endpoint` points at another Hub (a mirror, or a test server).

    lexitune push runs/culinary --repo me/culinary-lora --private
    lexitune push runs/culinary --repo me/culinary-lora --dry-run --out /tmp/culinary-repo
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lexitune.errors import LexituneError
from lexitune.rundir import RunDir

WHAT = ("adapter", "merged", "gguf")


def check_repo(repo: str, what: str) -> None:
    """The repository id and what to upload, checked before any work (push and the UI's card preview)."""
    if what not in WHAT:
        raise LexituneError(f"--format {what}: choose one of {', '.join(WHAT)}")
    if "/" not in repo or repo.count("/") != 1 or not all(repo.split("/")):
        raise LexituneError(f"--repo {repo}: expected owner/name")


def build_repo_folder(
    run: RunDir, repo: str, what: str, out: Path, *, include_data: bool = False, quant: str | None = None
) -> Path:
    """Write the exact files of the repository into `out`."""
    from lexitune.export import export_run
    from lexitune.export.card import model_card

    check_repo(repo, what)
    export_run(run.root, what, out, quant=quant)
    gguf_file = next((p.name for p in out.glob("*.gguf")), None)
    model_card(run, repo, what, include_data=include_data, gguf_file=gguf_file).save(out / "README.md")
    if run.metrics.exists():
        shutil.copy2(run.metrics, out / "metrics.json")
    if include_data and run.glossary.exists():
        shutil.copy2(run.glossary, out / "glossary.json")
    return out


def push(
    run: RunDir,
    repo: str,
    what: str = "adapter",
    *,
    private: bool = False,
    include_data: bool = False,
    folder: Path,
    endpoint: str | None = None,
    token: str | None = None,
    quant: str | None = None,
) -> str:
    """Create the repo (visibility as asked; an existing one is reused) and upload the folder in one commit."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    build_repo_folder(run, repo, what, folder, include_data=include_data, quant=quant)
    api = HfApi(endpoint=endpoint or os.environ.get("HF_ENDPOINT") or None, token=token or os.environ.get("HF_TOKEN"))
    try:
        url = api.create_repo(repo, private=private, exist_ok=True, repo_type="model")
        commit = api.upload_folder(
            repo_id=repo,
            folder_path=folder,
            repo_type="model",
            commit_message=f"lexitune: upload {what} of run {run.root.name}",
        )
    except HfHubHTTPError as e:
        raise LexituneError(f"push to {repo}: {str(e).splitlines()[0]}") from None
    return f"{url} ({commit.oid[:8]})"
