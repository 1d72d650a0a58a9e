"""The UI's job queue: runs, data previews and exports, one at a time on this machine.

Each job is the CLI itself (`python -m lexitune.cli run|generate|export ...`) in a child process,
so the UI does exactly what the terminal does, a cancel is a signal, and a crash of one job cannot
take the UI with it. The queue is a JSON file in the runs folder, rewritten atomically on every
change: a reload, a closed tab or a restart of `lexitune ui` loses nothing. When the UI stops, the
running job is stopped too (it keeps its last checkpoint); the next start shows it as interrupted,
and `resume` continues it with `--resume`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from lexitune.errors import LexituneError
from lexitune.rundir import read_json, write_json

Kind = Literal["run", "generate", "export"]
State = Literal["queued", "running", "done", "failed", "cancelled", "interrupted"]
FINAL = ("done", "failed", "cancelled", "interrupted")


@dataclass
class Job:
    id: str
    kind: Kind
    args: list[str]  # the CLI's arguments after `lexitune`
    folder: str  # the run (or export) folder it writes
    title: str
    state: State = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    ended: float | None = None
    returncode: int | None = None
    error: str = ""

    @property
    def resumable(self) -> bool:
        """A run stopped before its end: `--resume` continues it from its last checkpoint."""
        return self.kind == "run" and self.state in ("cancelled", "interrupted", "failed")


class JobQueue:
    """Jobs in order; one worker thread runs them one after the other."""

    def __init__(self, home: Path):
        self.home = Path(home)
        self.file = self.home / "jobs.json"
        self.logs = self.home / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._child: subprocess.Popen | None = None
        self._cancel: set[str] = set()
        self.jobs: list[Job] = [Job(**row) for row in read_json(self.file)] if self.file.exists() else []
        for job in self.jobs:  # a job the last UI was running when it stopped
            if job.state == "running":
                job.state, job.ended = "interrupted", time.time()
        self._save()
        self._worker = threading.Thread(target=self._loop, name="lexitune-ui-jobs", daemon=True)
        self._worker.start()

    # --- what the pages call
    def submit(self, kind: Kind, args: list[str], folder: Path, title: str) -> Job:
        with self._lock:
            if any(j.folder == str(folder) and j.state in ("queued", "running") for j in self.jobs):
                raise LexituneError(f"{folder}: a job for it is already queued or running")
            job = Job(uuid.uuid4().hex[:12], kind, [str(a) for a in args], str(folder), title)
            self.jobs.append(job)
            self._save()
        self._wake.set()
        return job

    def get(self, job_id: str) -> Job:
        for job in self.jobs:
            if job.id == job_id:
                return job
        raise LexituneError(f"no job {job_id}")

    def cancel(self, job_id: str) -> Job:
        child = None
        with self._lock:
            job = self.get(job_id)
            if job.state == "queued":
                job.state, job.ended = "cancelled", time.time()
                self._save()
            elif job.state == "running":
                self._cancel.add(job.id)
                child = self._child
        if child is not None:  # outside the lock: the worker needs it to record the end
            _stop(child)
        return job

    def resume(self, job_id: str) -> Job:
        """A new job that continues a stopped run from its last checkpoint."""
        job = self.get(job_id)
        if not job.resumable:
            raise LexituneError(f"job {job_id} ({job.state}) cannot be resumed")
        folder = Path(job.folder)
        args = ["run", str(folder / "config.yaml"), "--out", str(folder), "--resume"]
        return self.submit("run", args, folder, job.title)

    def log_tail(self, job: Job, lines: int = 12) -> str:
        path = self.logs / f"{job.id}.log"
        if not path.exists():
            return ""
        with path.open("rb") as f:  # the end only: a long run's log can be large
            f.seek(max(0, path.stat().st_size - 16384))
            text = f.read().decode("utf-8", "replace")
        return "\n".join(text.replace("\r", "\n").splitlines()[-lines:])

    def close(self, timeout: float = 30.0) -> None:
        """Stop the worker; a running job is stopped and will show as interrupted next time."""
        self._stopping = True
        self._wake.set()
        child = self._child
        if child is not None:
            _stop(child)
        self._worker.join(timeout)

    # --- the worker
    def _save(self) -> None:
        write_json(self.file, [asdict(j) for j in self.jobs])

    def _next(self) -> Job | None:
        with self._lock:
            return next((j for j in self.jobs if j.state == "queued"), None)

    def _loop(self) -> None:
        while not self._stopping:
            job = self._next()
            if job is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            try:
                self._run(job)
            except OSError as e:  # the child could not start (no memory, no such interpreter...)
                with self._lock:
                    self._child = None
                    job.state, job.ended, job.error = "failed", time.time(), f"could not start: {e}"
                    self._save()

    def _run(self, job: Job) -> None:
        log = (self.logs / f"{job.id}.log").open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
        with self._lock:
            job.state, job.started = "running", time.time()
            self._save()
            self._child = subprocess.Popen(
                [sys.executable, "-m", "lexitune.cli", *job.args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # a Ctrl-C in the UI's terminal reaches the UI, which stops it
            )
        code = self._child.wait()
        log.close()
        with self._lock:
            self._child = None
            job.returncode, job.ended = code, time.time()
            if job.id in self._cancel:
                job.state = "cancelled"
            elif self._stopping:
                job.state = "interrupted"
            elif code == 0:
                job.state = "done"
            else:
                job.state = "failed"
                job.error = _last_error(self.log_tail(job, 40))
            self._save()


def _stop(child: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 10 s: the run keeps its last (atomically written) checkpoint."""
    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _last_error(log: str) -> str:
    """The CLI's one-line error ("error: ..."), or the log's last line."""
    lines = [line for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error")]
    return (errors or lines or ["exited with an error"])[-1][:500]
