"""Model downloads for the GUI: a queue that runs one :func:`fetch_model` at a time on a worker thread.

The GUI thread owns every :class:`DownloadJob` (state, latest progress, error sentence, result); the
downloads run on a :class:`~desktop_app.ui.background.Background` with one thread (so one at a time, in
the order asked), which reports their start, progress and end back on the GUI thread. Progress is stored as
it comes and shown by a timer at most :data:`REDRAW_INTERVAL_MS` apart (``job_changed``), so a fast
download never redraws the page more often than the display can show.

Nothing here touches the library: a finished download is announced with ``download_finished`` and
registered by whoever owns the library, on the GUI thread (SQLite connections belong to the thread
that opened them). A cancelled or failed download keeps its ``.part`` files; :meth:`DownloadManager.resume`
queues it again and the downloader continues from there with a Range request.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

from desktop_app.core.models.acquire import (
    AcquireError,
    FetchedModel,
    ModelProgress,
    display_name,
    fetch_model,
    part_paths,
)
from desktop_app.core.models.download import Downloader, DownloadError
from desktop_app.core.models.hub import ModelFile
from desktop_app.ui.background import Background, Task

log = logging.getLogger(__name__)

REDRAW_INTERVAL_MS = 100
JobState = Literal["queued", "running", "cancelling", "done", "failed", "cancelled"]
ACTIVE: tuple[JobState, ...] = ("queued", "running", "cancelling")


@dataclass
class DownloadJob:
    """One model download as the page shows it. Only the GUI thread reads or writes it."""

    id: int
    repo_id: str
    model: ModelFile
    revision: str  # the commit the listing described: every part comes from the same version
    state: JobState = "queued"
    progress: ModelProgress | None = None
    error: str | None = None
    error_kind: str | None = None
    result: FetchedModel | None = None
    kept_bytes: int = 0  # on disk when the job (re)started: what a resume does not fetch again
    runs: int = 0

    @property
    def name(self) -> str:
        return display_name(self.model)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def resumable(self) -> bool:
        return self.state in ("failed", "cancelled")


class DownloadManager(QObject):
    """Queued model downloads, one at a time, on a worker thread started when there is work."""

    job_added = Signal(int)
    job_changed = Signal(int)  # state or progress (at most every REDRAW_INTERVAL_MS for progress)
    job_removed = Signal(int)
    download_finished = Signal(int, object)  # job id, FetchedModel

    def __init__(self, downloader: Downloader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.downloader = downloader
        self.jobs: dict[int, DownloadJob] = {}
        self._ids = itertools.count(1)
        self._background = Background(self, name="tokendice-model-download", threads=1, sentence=self._bug)
        self._tasks: dict[int, Task] = {}  # job id -> its latest run
        self._stopping = False
        self._dirty: set[int] = set()
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self._redraw)

    # --- asking ------------------------------------------------------------------------------------
    def find(self, repo_id: str, name: str) -> DownloadJob | None:
        """The latest job for this model, if any."""
        found = [j for j in self.jobs.values() if j.repo_id == repo_id and j.model.name == name]
        return found[-1] if found else None

    def submit(self, repo_id: str, model: ModelFile, revision: str = "main") -> int:
        """Queue a download of ``model``; a model already queued or running is not queued twice, and a
        cancelled or failed one is resumed. Returns the job id."""
        if self._stopping:
            raise RuntimeError("downloads are shut down")
        existing = self.find(repo_id, model.name)
        if existing is not None and existing.active:
            return existing.id
        if existing is not None and existing.resumable:
            self.resume(existing.id)
            return existing.id
        job = DownloadJob(next(self._ids), repo_id, model, revision)
        self.jobs[job.id] = job
        self.job_added.emit(job.id)
        self._enqueue(job)
        return job.id

    def cancel(self, job_id: int) -> None:
        """Stop a queued or running download; what was downloaded is kept for a resume."""
        job = self.jobs.get(job_id)
        task = self._tasks.get(job_id)
        if job is None or not job.active or task is None:
            return
        if task.cancel():  # still queued: it never runs
            job.state, job.error, job.error_kind = "cancelled", None, "cancelled"
        else:  # running: it stops at its next chunk, and says so (_on_failed)
            job.state = "cancelling"
        self.job_changed.emit(job_id)

    def resume(self, job_id: int) -> None:
        """Queue a cancelled or failed download again: it continues from the bytes it kept."""
        job = self.jobs.get(job_id)
        if job is None or not job.resumable or self._stopping:
            return
        self._enqueue(job)

    def remove(self, job_id: int) -> None:
        """Forget a finished, failed or cancelled download (its ``.part`` stays on disk)."""
        job = self.jobs.get(job_id)
        if job is None or job.active:
            return
        del self.jobs[job_id]
        self._tasks.pop(job_id, None)
        self._dirty.discard(job_id)
        self.job_removed.emit(job_id)

    def active(self) -> bool:
        return any(j.active for j in self.jobs.values())

    def kept_bytes(self, repo_id: str, model: ModelFile) -> int:
        """Bytes of ``model`` already on disk: finished parts and ``.part`` files (what a resume keeps)."""
        try:
            paths = part_paths(self.downloader, repo_id, model)
        except DownloadError:
            return 0
        total = 0
        for path in paths:
            for candidate in (path, path.with_name(path.name + ".part")):
                try:
                    total += candidate.stat().st_size
                    break
                except OSError:
                    continue
        return total

    def part_files(self, repo_id: str, model: ModelFile) -> list[Path]:
        """The ``.part`` files of ``model`` that are on disk now."""
        try:
            paths = part_paths(self.downloader, repo_id, model)
        except DownloadError:
            return []
        parts = [p.with_name(p.name + ".part") for p in paths]
        return [p for p in parts if p.exists()]

    # --- the queue ---------------------------------------------------------------------------------
    def _enqueue(self, job: DownloadJob) -> None:
        job.state, job.error, job.error_kind, job.progress = "queued", None, None, None
        job.kept_bytes = self.kept_bytes(job.repo_id, job.model)
        job_id, repo_id, model, revision = job.id, job.repo_id, job.model, job.revision
        downloader = self.downloader

        def work(task: Task) -> FetchedModel | AcquireError:
            try:
                return fetch_model(
                    repo_id,
                    model,
                    downloader=downloader,
                    revision=revision,
                    progress=task.report,
                    cancel=task.cancelled,
                )
            except AcquireError as exc:  # a refusal, a full disk, a cancel: an answer the page shows
                return exc

        self._tasks[job_id] = self._background.run(
            work,
            lambda answer: self._on_answer(job_id, answer),
            lambda error: self._on_bug(job_id, error),
            takes_task=True,
            on_start=lambda: self._on_started(job_id),
            on_progress=lambda progress: self._on_progress(job_id, progress),
        )
        self.job_changed.emit(job_id)

    def _bug(self, exc: BaseException) -> str:
        """An exception other than AcquireError is a bug: logged, and named in the job's sentence."""
        log.error("a model download failed unexpectedly", exc_info=exc)
        return str(exc)

    # --- reports, on the GUI thread ---------------------------------------------------------------
    def _on_started(self, job_id: int) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        job.runs += 1
        if job.state == "queued":
            job.state = "running"
        if not self._timer.isActive():
            self._timer.start()
        self.job_changed.emit(job_id)

    def _on_progress(self, job_id: int, progress: ModelProgress) -> None:
        job = self.jobs.get(job_id)
        if job is not None and job.active:
            job.progress = progress
            self._dirty.add(job_id)

    def _on_answer(self, job_id: int, answer: FetchedModel | AcquireError) -> None:
        if isinstance(answer, AcquireError):
            self._on_failed(job_id, answer.sentence, answer.kind)
        else:
            self._on_done(job_id, answer)

    def _on_bug(self, job_id: int, error: str) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        sentence = self.tr(
            "The download of {file} stopped on an unexpected error ({error}). "
            "Try again; if it happens again, please report it."
        ).format(file=job.model.filename, error=error)
        self._on_failed(job_id, sentence, "internal")

    def _on_done(self, job_id: int, fetched: FetchedModel) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        job.state, job.result, job.error, job.error_kind = "done", fetched, None, None
        self._settle(job_id)
        self.download_finished.emit(job_id, fetched)

    def _on_failed(self, job_id: int, sentence: str, kind: str) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        job.state = "cancelled" if kind == "cancelled" else "failed"
        job.error, job.error_kind = sentence, kind
        job.kept_bytes = self.kept_bytes(job.repo_id, job.model)
        self._settle(job_id)

    def _settle(self, job_id: int) -> None:
        self._dirty.discard(job_id)
        if not any(j.state in ("running", "cancelling") for j in self.jobs.values()):
            self._timer.stop()
        self.job_changed.emit(job_id)

    @Slot()
    def _redraw(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for job_id in sorted(dirty):
            if job_id in self.jobs:
                self.job_changed.emit(job_id)

    # --- the end -----------------------------------------------------------------------------------
    def shutdown(self, timeout: float = 1.5) -> bool:
        """Cancel everything (keeping the ``.part`` files) and wait up to ``timeout`` s for the worker.

        The worker's last reports are delivered before this returns. True when no thread is left."""
        self._stopping = True
        for job in self.jobs.values():
            task = self._tasks.get(job.id)
            if job.active and task is not None and task.cancel():
                job.state, job.error_kind = "cancelled", "cancelled"
        ended = self._background.wait_idle(timeout)
        QCoreApplication.sendPostedEvents(self._background)
        self._timer.stop()
        return self._background.shutdown(0) and ended
