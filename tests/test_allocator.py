"""The command line runs on mimalloc: it re-executes itself once with the library preloaded, and
what it starts in turn runs on its own allocator (lexitune/allocator.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lexitune import allocator

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the allocator is preloaded on Linux only")

# What a command sees once main() has run its first line, then what a child process it starts sees.
PROBE = """
import json, os, subprocess, sys
from lexitune.allocator import current, preload_and_reexec
preload_and_reexec()
child = "from lexitune.allocator import current; import os; print(current(), repr(os.environ.get('LD_PRELOAD', '')))"
print(json.dumps({
    "allocator": current(),
    "preload": os.environ.get("LD_PRELOAD", ""),
    "purge_delay": os.environ.get("MIMALLOC_PURGE_DELAY"),
    "pid": os.getpid(),
    "argv": sys.argv[1:],
    "child": subprocess.run([sys.executable, "-c", child], capture_output=True, text=True).stdout.strip(),
}))
"""


def _probe(**env) -> tuple[dict, int]:
    drop = ("LD_PRELOAD", "MIMALLOC_PURGE_DELAY", allocator.OPT_OUT)
    environ = {k: v for k, v in os.environ.items() if k not in drop} | env
    process = subprocess.Popen(
        [sys.executable, "-c", PROBE, "an", "argument"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return json.loads(out), process.pid


def test_the_shipped_library_is_installed():
    library = allocator.mimalloc_library()
    assert library is not None and library.name.startswith("libmimalloc.so")


def test_a_command_reexecutes_itself_on_mimalloc_once_and_its_children_do_not_inherit_it():
    seen, started = _probe()
    assert seen["allocator"] == "mimalloc"
    assert seen["pid"] == started  # the process itself, replaced in place: a signal to it still reaches it
    assert seen["argv"] == ["an", "argument"]  # the same command line
    assert seen["preload"] == ""  # taken back out of LD_PRELOAD after the re-execution
    assert seen["purge_delay"] == "-1"  # freed pages kept for the next step
    assert seen["child"] == "system ''"


def test_a_users_own_settings_are_kept_and_passed_on():
    # A library the user preloads (here libc itself, which is always there) stays preloaded, and a
    # mimalloc option the user set is theirs.
    libc = next(line.split()[-1] for line in open("/proc/self/maps") if "/libc.so" in line)
    seen, _ = _probe(LD_PRELOAD=libc, MIMALLOC_PURGE_DELAY="10")
    assert (seen["allocator"], seen["preload"], seen["purge_delay"]) == ("mimalloc", libc, "10")
    assert seen["child"] == f"system {libc!r}"


def test_lexitune_allocator_system_keeps_the_c_librarys_malloc():
    seen, _ = _probe(**{allocator.OPT_OUT: "system"})
    assert (seen["allocator"], seen["preload"], seen["purge_delay"]) == ("system", "", None)


def test_a_library_path_the_loader_would_split_is_not_preloaded(monkeypatch):
    calls = []
    monkeypatch.setattr(allocator.os, "execve", lambda *args: calls.append(args))
    monkeypatch.setattr(allocator, "current", lambda: "system")
    monkeypatch.delenv(allocator.OPT_OUT, raising=False)
    for path in ("/a folder/libmimalloc.so", "/a:b/libmimalloc.so", "/opt/lib/libmimalloc.so"):
        monkeypatch.setattr(allocator, "mimalloc_library", lambda path=path: Path(path))
        allocator.preload_and_reexec()
    assert [args[2]["LD_PRELOAD"].split()[0] for args in calls] == ["/opt/lib/libmimalloc.so"]
