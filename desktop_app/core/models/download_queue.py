"""A one-thread download queue over :class:`~desktop_app.core.models.download.Downloader`.

No Qt here: the GUI adapts ``on_event`` to a signal.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from desktop_app.core.models.download import Downloader, Progress
from desktop_app.core.models.download_errors import DownloadError, DownloadRequest

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed", "cancelled"]


@dataclass(frozen=True)
class DownloadEvent:
    """A change of one queued download: its state, and progress / path / error where they apply."""

    job_id: int
    request: DownloadRequest
    state: JobState
    progress: Progress | None = None
    path: Path | None = None
    error: DownloadError | None = None


@dataclass
class _Job:
    id: int
    request: DownloadRequest
    cancel: threading.Event


class DownloadQueue:
    """Downloads run one at a time, in order, on one worker thread the queue owns.

    ``on_event`` receives every DownloadEvent: on the worker thread for running (with progress), done,
    failed and cancelled-while-running; on the caller's thread for queued (``submit``) and for a job
    cancelled before it started (``cancel``). Call ``close()`` (or use ``with``) to stop and join.
    """

    def __init__(self, downloader: Downloader, on_event: Callable[[DownloadEvent], None] | None = None):
        self.downloader = downloader
        self._on_event = on_event
        self._cond = threading.Condition()
        self._pending: deque[_Job] = deque()
        self._running: _Job | None = None
        self._states: dict[int, JobState] = {}
        self._ids = itertools.count(1)
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> DownloadQueue:
        with self._cond:
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._work, name="tokendice-downloads", daemon=True)
                self._thread.start()
        return self

    def submit(self, request: DownloadRequest) -> int:
        """Queue a download; returns its job id."""
        with self._cond:
            if self._stopping:
                raise RuntimeError("the download queue is closed")
            job = _Job(next(self._ids), request, threading.Event())
            self._pending.append(job)
            self._states[job.id] = "queued"
            self._cond.notify_all()
        self._emit(DownloadEvent(job.id, request, "queued"))
        return job.id

    def cancel(self, job_id: int) -> bool:
        """Cancel a queued or running job (a running one keeps its .part for a later resume)."""
        with self._cond:
            if self._running is not None and self._running.id == job_id:
                if self._states[job_id] != "running":
                    return False  # it has just finished
                self._running.cancel.set()
                return True
            job = next((j for j in self._pending if j.id == job_id), None)
            if job is None:
                return False
            self._pending.remove(job)
            self._states[job_id] = "cancelled"
            self._cond.notify_all()
        self._emit(DownloadEvent(job.id, job.request, "cancelled"))
        return True

    def cancel_all(self) -> None:
        with self._cond:
            ids = [j.id for j in self._pending] + ([self._running.id] if self._running else [])
        for job_id in ids:
            self.cancel(job_id)

    def state(self, job_id: int) -> JobState | None:
        with self._cond:
            return self._states.get(job_id)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and self._running is None, timeout)

    def stop(self, *, cancel: bool = True) -> None:
        """Accept no more jobs. With ``cancel`` the running and queued jobs are cancelled; without, the
        worker finishes the queue first."""
        if cancel:
            self.cancel_all()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def join(self, timeout: float | None = None) -> bool:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def close(self, timeout: float | None = None) -> bool:
        self.stop(cancel=True)
        return self.join(timeout)

    def __enter__(self) -> DownloadQueue:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopping)
                if not self._pending:
                    return
                job = self._pending.popleft()
                self._running = job
                self._states[job.id] = "running"
            self._emit(DownloadEvent(job.id, job.request, "running"))
            event = self._run(job)
            with self._cond:
                self._states[job.id] = event.state
            self._emit(event)
            with self._cond:  # idle only after the final event went out
                self._running = None
                self._cond.notify_all()

    def _run(self, job: _Job) -> DownloadEvent:
        def report(p: Progress) -> None:
            self._emit(DownloadEvent(job.id, job.request, "running", progress=p))

        try:
            path = self.downloader.download(job.request, progress=report, cancel=job.cancel)
            return DownloadEvent(job.id, job.request, "done", path=path)
        except DownloadError as exc:
            state: JobState = "cancelled" if exc.kind == "cancelled" else "failed"
            return DownloadEvent(job.id, job.request, state, error=exc)
        except Exception as exc:  # a bug must not kill the worker: it reaches the user as a failed job
            log.exception("download of %s failed unexpectedly", job.request)
            error = DownloadError(
                f"The download of {job.request.filename} stopped on an unexpected error ({exc}). "
                "Try again; if it happens again, please report it.",
                "internal",
            )
            return DownloadEvent(job.id, job.request, "failed", error=error)

    def _emit(self, event: DownloadEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a broken listener must not stop the downloads; it is logged, not hidden
            log.exception("download queue listener failed on %s", replace(event, progress=None))


__all__ = ["DownloadEvent", "DownloadQueue", "JobState"]
