"""Run the command on mimalloc rather than the C library's malloc: the same numbers, faster.

A training step allocates and frees thousands of tensors, from a few bytes to tens of megabytes
(the answer positions' logits over a 49k vocabulary). glibc's malloc serves that pattern slowly,
and ever more slowly as its heap fragments: on an AMX CPU, a robust culinary run trained its
third epoch at 280 tokens/s against 349 for its first, on the same rows. On Microsoft's mimalloc,
shipped as a wheel (`cmeel-mimalloc`) and told to keep freed pages, the same run trained at
474-501 tokens/s, in 267 s instead of 421 (docs/experiments.md, session 33). Tensors hold the same
values whichever allocator made them: the adapter is byte-identical.

An allocator must be in place before the process allocates, so the command line re-executes
itself once, at start, with the library in LD_PRELOAD (as Intel's PyTorch launcher does with
jemalloc). The re-executed process takes the library back out of LD_PRELOAD, so what it starts
(llama.cpp's server, a browser, a compiler) runs on its own allocator. Only Linux; a library
caller (`lexitune.pipeline.run`) keeps its interpreter's allocator; LEXITUNE_ALLOCATOR=system
turns it off.

    python -m lexitune.allocator     # the allocator this process runs on, and the library's path
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path

OPT_OUT = "LEXITUNE_ALLOCATOR"  # "system": keep the C library's malloc
_PRELOADED = "_LEXITUNE_PRELOADED"  # the library, for the re-executed process only: never twice


def mimalloc_library() -> Path | None:
    """The shared library of the installed `cmeel-mimalloc` wheel, if there is one."""
    try:
        files = metadata.files("cmeel-mimalloc") or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == "libmimalloc.so" and (path := Path(str(file.locate()))).exists():
            return path.resolve()
    return None


def current() -> str:
    """ "mimalloc" when this process runs on it, else "system"."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return "system"
    return "mimalloc" if "libmimalloc" in maps else "system"


def _without(preload: str, library: str) -> str:
    return " ".join(p for p in preload.replace(":", " ").split() if p != library)


def preload_and_reexec() -> None:
    """Re-execute this very command with mimalloc preloaded; returns when there is nothing to do.

    Called first thing by the command line, before any allocation that matters."""
    if (library := os.environ.pop(_PRELOADED, None)) is not None:
        # The re-executed process: mimalloc is in place (or the loader refused it and said so);
        # its children must not inherit it.
        if rest := _without(os.environ.get("LD_PRELOAD", ""), library):
            os.environ["LD_PRELOAD"] = rest
        else:
            os.environ.pop("LD_PRELOAD", None)
        return
    if sys.platform != "linux" or not sys.executable or os.environ.get(OPT_OUT, "").strip().lower() == "system":
        return
    library = mimalloc_library()
    # LD_PRELOAD splits on spaces and colons: such a path would only make the loader complain.
    if library is None or current() == "mimalloc" or any(c in str(library) for c in " :"):
        return
    env = dict(os.environ)
    env["LD_PRELOAD"] = " ".join(p for p in (str(library), env.get("LD_PRELOAD", "")) if p)
    env[_PRELOADED] = str(library)
    # mimalloc hands freed pages back to the kernel 10 ms after they empty, and a training step
    # empties and refills the same pages at every step: each comes back as a page fault. Keeping
    # them made a robust culinary run 0.63x as long as on glibc, against 0.87x with purging.
    env.setdefault("MIMALLOC_PURGE_DELAY", "-1")  # read by mimalloc only: harmless to the children
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)


if __name__ == "__main__":
    print(current(), mimalloc_library() or "(cmeel-mimalloc is not installed)")
