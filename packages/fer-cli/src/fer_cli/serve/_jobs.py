"""Video jobs: a bounded queue, N worker threads, progress, cancel, and cleanup after a TTL.

A job owns a folder ``<jobs>/<id>/`` (its input and its outputs); ``id`` is random. Jobs run in
threads of this process, so they go on when the client that posted them goes away; a job
cancelled while it runs stops at its next frame (fer-temporal removes its partial outputs).
A job that has ended (done, failed, cancelled) is removed, folder and all, ``ttl`` seconds later.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fer_cli.serve._errors import ApiError
from fer_cli.serve._uploads import new_name

log = logging.getLogger("fer_cli.serve")

ENDED = ("done", "failed", "cancelled")


class Cancelled(Exception):
    """Raised inside a running job (from its progress callback) when it was cancelled."""


@dataclass
class Job:
    """One video analysis: its state, progress and, when done, its output files."""

    id: str
    folder: Path
    input: Path
    filename: str | None
    status: str = "queued"
    frames_done: int = 0
    frames_total: int | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    ended: float | None = None
    outputs: dict[str, Path] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    cancel: threading.Event = field(default_factory=threading.Event)

    def progress(self, frames_done: int) -> None:
        """Called per frame by the runner: counts, and stops a cancelled job there."""
        self.frames_done = frames_done
        if self.cancel.is_set():
            raise Cancelled(self.id)

    def to_json(self, ttl: float) -> dict[str, Any]:
        fraction = None
        if self.status == "done":
            fraction = 1.0
        elif self.frames_total:
            fraction = min(1.0, self.frames_done / self.frames_total)
        out: dict[str, Any] = {
            "id": self.id, "status": self.status, "filename": self.filename,
            "progress": {"frames": self.frames_done, "total": self.frames_total, "fraction": fraction},
            "created": self.created, "started": self.started, "ended": self.ended,
            "expires": self.ended + ttl if self.ended is not None else None,
            "error": self.error,
            "files": {kind: f"/v1/jobs/{self.id}/files/{kind}" for kind in self.outputs}}
        if self.result:
            out["result"] = self.result
        return out


#: ``runner(job) -> (outputs by kind, result summary)``; raises Cancelled, an ApiError-like
#: FerError for a bad input, anything else for a bug
Runner = Callable[[Job], tuple[dict[str, Path], dict[str, Any]]]


class JobManager:
    """The queue and its workers (see the module docstring)."""

    def __init__(self, root: Path, runner: Runner, *, workers: int = 1, queue_size: int = 8,
                 ttl: float = 3600.0,
                 describe_error: Callable[[Job, BaseException], str | None] | None = None) -> None:
        self.root = root
        self.runner = runner
        self.ttl = ttl
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=queue_size)
        self._describe_error = describe_error
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, name=f"fer-serve-job-{i}", daemon=True)
                         for i in range(workers)]
        self._janitor = threading.Thread(target=self._sweep_loop, name="fer-serve-jobs-ttl", daemon=True)
        root.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        for t in self._threads:
            t.start()
        self._janitor.start()

    def stop(self) -> None:
        """Cancel every job, stop the workers (each after its current frame), remove every job."""
        self._stop.set()
        with self._lock:
            for job in self.jobs.values():
                job.cancel.set()
        for _ in self._threads:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break
        for t in self._threads:
            if t.is_alive():
                t.join(timeout=10)
        with self._lock:
            for job in list(self.jobs.values()):
                self._remove(job)

    # -- the API's operations -----------------------------------------------------------------

    def new_folder(self) -> tuple[str, Path]:
        """A fresh job id and its (new, empty) folder, for the upload to stream into."""
        job_id = new_name()
        folder = self.root / job_id
        folder.mkdir()
        return job_id, folder

    def submit(self, job_id: str, folder: Path, input_path: Path, filename: str | None,
               frames_total: int | None) -> Job:
        job = Job(job_id, folder, input_path, filename, frames_total=frames_total)
        with self._lock:
            try:
                self._queue.put_nowait(job)
            except queue.Full:
                raise ApiError(503, f"the job queue is full ({self._queue.maxsize} videos waiting): "
                                    f"try again later", {"Retry-After": "30"}) from None
            self.jobs[job.id] = job
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"no job {job_id!r} (never made, or removed {self.ttl:g} s after it ended)")
        return job

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job, or delete an ended one (its files go at once)."""
        job = self.get(job_id)
        with self._lock:
            job.cancel.set()
            if job.status == "queued":
                self._end(job, "cancelled")
            elif job.status in ENDED:
                self._remove(job)
        return job

    def counts(self) -> dict[str, int]:
        with self._lock:
            out = dict.fromkeys(("queued", "running", *ENDED), 0)
            for job in self.jobs.values():
                out[job.status] += 1
            return out

    # -- workers ------------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stop.is_set():
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job.status != "queued":  # cancelled while it waited
                    continue
                job.status, job.started = "running", time.time()
            try:
                outputs, result = self.runner(job)
            except Cancelled:
                with self._lock:
                    self._end(job, "cancelled")
                continue
            except Exception as exc:
                message = self._describe_error(job, exc) if self._describe_error else None
                if message is None:
                    log.exception("job %s failed", job.id)
                    message = "internal error while analyzing the video (logged on the server)"
                with self._lock:
                    job.error = message
                    self._end(job, "failed")
                continue
            with self._lock:
                if job.cancel.is_set():
                    self._end(job, "cancelled")
                    continue
                job.outputs, job.result = outputs, result
                self._end(job, "done")

    def _end(self, job: Job, status: str) -> None:
        """(Under the lock.) Mark a job ended; a cancelled or failed one keeps no files."""
        job.status, job.ended = status, time.time()
        job.input.unlink(missing_ok=True)
        if status != "done":
            job.outputs = {}
            shutil.rmtree(job.folder, ignore_errors=True)

    def _remove(self, job: Job) -> None:
        """(Under the lock.) Forget a job and remove its folder."""
        self.jobs.pop(job.id, None)
        shutil.rmtree(job.folder, ignore_errors=True)

    def sweep(self, now: float | None = None) -> int:
        """Remove the jobs that ended more than ``ttl`` seconds ago; returns how many."""
        now = time.time() if now is None else now
        with self._lock:
            old = [j for j in self.jobs.values() if j.ended is not None and now - j.ended >= self.ttl]
            for job in old:
                self._remove(job)
        return len(old)

    def _sweep_loop(self) -> None:
        interval = min(30.0, max(0.2, self.ttl / 4))
        while not self._stop.wait(interval):
            self.sweep()
