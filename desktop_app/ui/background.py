"""Run a blocking call off the GUI thread and hear its answer on it: :class:`Background`.

Each owner (hub calls, imports, downloads, library lookups) has a :class:`Background` of its own, with
worker threads of its own that carry its name (``top -H`` and debuggers show it). It runs calls side by
side where that helps (a search is not kept waiting behind a slow listing), or one at a time in the order
asked where that matters (``threads=1``: imports, downloads). A worker is started when a call comes and no
worker of this owner is free, up to ``threads``; it takes calls from the owner's queue, oldest first, and
ends once the queue is empty, so an idle owner holds no thread.

Why Python daemon threads, and not Qt's :class:`~PySide6.QtCore.QThreadPool` or
:class:`concurrent.futures.ThreadPoolExecutor`: some calls cannot be interrupted (a hub request, within its
HTTP timeout; llama.cpp's check of a file, within its time limit), and closing the window must end the
process at once all the same. A pool's C++ destructor waits for its calls, and so does an executor's
exit hook; the interpreter does not wait for a daemon thread. A call still running when the process ends
is simply cut off: its answer was dropped by :meth:`Background.shutdown` already, and the file work that
may be running then writes to a ``.part`` file that is renamed only when complete.

How an answer travels: the worker only emits this object's private signals, connected queued to its
own slots; the object lives on the GUI thread, so the slots run there, and only there are the caller's
callbacks called (``on_done``, ``on_error``, ``on_start``, ``on_progress``): a callback may be a lambda
and may touch widgets. An exception becomes a sentence there too (the ``sentence`` given to the
constructor). The worker touches nothing but the callable and its :class:`Task`.

Cancelling: :meth:`Task.cancel` keeps a call that has not started from ever running (nothing is
answered), and sets :attr:`Task.cancelled` for one that runs; a callable that takes its task
(``takes_task=True``) looks at that event and stops, and what it then returns or raises is answered as
usual. A newer call of the same ``kind`` cancels the older ones and drops their answers, so a slow search
never overwrites a newer one.

The end: :meth:`Background.shutdown` cancels everything, drops every answer still to come, and waits up
to its timeout for the threads. A call that outlives that wait is abandoned: it ends on its own, answering
nobody, or with the process. The same happens when the owner is destroyed without a shutdown.
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)


class _Worker(threading.Thread):
    """A worker thread of some :class:`Background` (its class is how :func:`running_threads` finds it)."""

    def __init__(self, gate: _Gate, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._gate = gate

    def run(self) -> None:
        try:
            _name_native_thread(self.name)
        finally:  # the queue is served even if the system refused the name
            self._gate.serve()


def _name_native_thread(name: str) -> None:
    """Give the calling thread ``name`` in the system too, where ``top -H`` and debuggers read it.

    Python does so itself from 3.14 on; before, a thread is named only inside Python. The name is a
    convenience: where the system refuses it, the thread runs under its inherited name."""
    if sys.version_info >= (3, 14):
        return
    encoded = name.encode("utf-8", "replace")
    if sys.platform.startswith("linux"):
        pr_set_name = 15  # Linux keeps 15 bytes of it
        ctypes.CDLL(None).prctl(pr_set_name, ctypes.c_char_p(encoded[:15]), 0, 0, 0)
    elif sys.platform == "darwin":
        ctypes.CDLL(None).pthread_setname_np(ctypes.c_char_p(encoded[:63]))


def running_threads() -> int:
    """Worker threads of every :class:`Background` still alive (for tests: 0 once all are shut down;
    an abandoned call counts until it has returned)."""
    return sum(1 for t in threading.enumerate() if isinstance(t, _Worker) and t.is_alive())


@dataclass(frozen=True)
class _Call:
    task: Task
    fn: Callable[..., Any]
    takes_task: bool


class _Gate:
    """What the worker threads share with the GUI thread: the queue of calls, the workers, and whether
    answers are still wanted. Workers emit only through :meth:`emit`, under the lock, so once
    :meth:`close` returns (on shutdown, or when the owner is destroyed) no worker touches the owner again.
    """

    def __init__(self, owner: Background, name: str, threads: int) -> None:
        self.lock = threading.Lock()
        self.owner: Background | None = owner
        self._name = name
        self._most = max(1, threads)
        self._queue: deque[_Call] = deque()
        self._running: set[Task] = set()
        self._workers: list[_Worker] = []
        self._serving = 0  # workers that will still look at the queue before they end

    def emit(self, signal: str, *args: object) -> None:
        with self.lock:
            if self.owner is not None:
                getattr(self.owner, signal).emit(*args)

    def submit(self, call: _Call) -> None:
        """From the GUI thread: queue ``call``, and start a worker when none is free to take it."""
        with self.lock:
            if self.owner is None:
                raise RuntimeError(f"{self._name} is shut down")
            self._queue.append(call)
            if self._serving - len(self._running) >= len(self._queue) or self._serving >= self._most:
                return
            self._serving += 1
            self._workers = [w for w in self._workers if w.is_alive()]
            worker = _Worker(self, self._name)
            self._workers.append(worker)
        worker.start()

    def serve(self) -> None:
        """On a worker thread: run the queued calls until none is left (or the gate closed)."""
        while True:
            with self.lock:
                if self.owner is None or not self._queue:
                    self._serving -= 1
                    return
                call = self._queue.popleft()
                if call.task.cancelled.is_set():  # cancelled before it started: it never runs
                    continue
                call.task._started = True
                self._running.add(call.task)
            try:
                self._run(call)
            finally:
                with self.lock:
                    self._running.discard(call.task)

    def _run(self, call: _Call) -> None:
        task = call.task
        self.emit("_began", task.id)
        try:
            value = call.fn(task) if call.takes_task else call.fn()
            ok = True
        except BaseException as exc:  # every failure is answered (as a sentence), none ends the thread
            value, ok = exc, False
        self.emit("_answered", task.id, ok, value)

    def close(self, *_args: object) -> None:
        """No answer is wanted any more: queued calls never run, running ones are told to stop."""
        with self.lock:
            self.owner = None
            for call in self._queue:
                call.task.cancelled.set()
            self._queue.clear()
            for task in self._running:
                task.cancelled.set()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for every worker to end; True when none is left."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self.lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        with self.lock:
            self._workers = [w for w in self._workers if w.is_alive()]
            return not self._workers


class Task:
    """One call: the GUI thread may :meth:`cancel` it; the callable (with ``takes_task=True``) reads
    :attr:`cancelled` and may :meth:`report` progress, which reaches ``on_progress`` on the GUI thread."""

    def __init__(self, task_id: int, kind: str | None, gate: _Gate) -> None:
        self.id = task_id
        self.kind = kind
        self.cancelled = threading.Event()
        self._gate = gate
        self._started = False  # read and written under the gate's lock

    def cancel(self) -> bool:
        """Ask the call to stop. True when it had not started: it never runs and answers nothing."""
        with self._gate.lock:
            self.cancelled.set()
            unstarted = not self._started
        owner = self._gate.owner
        if unstarted and owner is not None:
            owner._forget(self.id)
        return unstarted

    def report(self, value: object) -> None:
        """From the worker: hand ``value`` to ``on_progress`` (queued; each value arrives, in order)."""
        self._gate.emit("_progressed", self.id, value)


@dataclass(frozen=True)
class _Callbacks:
    task: Task
    on_done: Callable[[Any], None]
    on_error: Callable[[str], None]
    on_start: Callable[[], None] | None
    on_progress: Callable[[Any], None] | None


def plain_sentence(exc: BaseException) -> str:
    """The default sentence for an exception: its own text (logged with its traceback)."""
    log.error("a background call failed", exc_info=exc)
    return str(exc) or type(exc).__name__


class Background(QObject):
    """Runs callables on worker threads; calls back on the GUI thread (see the module's docstring)."""

    busy_changed = Signal(bool)  # whether some answer is awaited
    # From the workers, to this object's own slots (queued onto the GUI thread).
    _began = Signal(int)
    _progressed = Signal(int, object)
    _answered = Signal(int, bool, object)  # task id, ok, the value or the exception

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        name: str = "tokendice-background",
        threads: int = 4,
        sentence: Callable[[BaseException], str] = plain_sentence,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._gate = _Gate(self, name, threads)
        self._sentence = sentence
        self._ids = itertools.count(1)
        self._pending: dict[int, _Callbacks] = {}
        self._latest: dict[str, Task] = {}
        self._closed = False
        self._began.connect(self._on_began, Qt.ConnectionType.QueuedConnection)
        self._progressed.connect(self._on_progressed, Qt.ConnectionType.QueuedConnection)
        self._answered.connect(self._on_answered, Qt.ConnectionType.QueuedConnection)
        # Destroyed without a shutdown (its parent went): workers still running must not emit on it.
        self.destroyed.connect(self._gate.close)

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    @property
    def closed(self) -> bool:
        return self._closed

    def run(
        self,
        fn: Callable[..., Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
        *,
        kind: str | None = None,
        takes_task: bool = False,
        on_start: Callable[[], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
    ) -> Task:
        """Run ``fn()`` (``fn(task)`` with ``takes_task``) on a worker thread; later, on this thread,
        ``on_done(value)`` or ``on_error(sentence)``; ``on_start()`` when a worker takes it up and
        ``on_progress(value)`` for each :meth:`Task.report`. A ``kind`` supersedes the earlier calls of
        that kind."""
        if self._closed:
            raise RuntimeError(f"{self.objectName()} is shut down")
        task = Task(next(self._ids), kind, self._gate)
        was_busy = self.busy
        if kind is not None:
            older = self._latest.get(kind)
            if older is not None:  # its answer is dropped: forgotten first, so busy does not flicker
                self._pending.pop(older.id, None)
                older.cancel()
            self._latest[kind] = task
        self._pending[task.id] = _Callbacks(task, on_done, on_error, on_start, on_progress)
        self._gate.submit(_Call(task, fn, takes_task))
        if not was_busy:
            self.busy_changed.emit(True)
        return task

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait up to ``timeout`` s for every call to end and its thread with it (the answers then arrive
        as events); True when none runs. For tests, scripts and :meth:`shutdown`; the GUI thread waits
        meanwhile."""
        return self._gate.join(timeout)

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Cancel every call, drop every answer still to come, and wait up to ``timeout`` s for the
        threads; True when they all ended (see the module's docstring for one that did not)."""
        self._closed = True
        self._gate.close()
        self._pending.clear()
        self._latest.clear()
        return self.wait_idle(timeout)

    # --- answers, on the GUI thread ----------------------------------------------------------------
    def _forget(self, task_id: int) -> None:
        if self._pending.pop(task_id, None) is not None and not self._pending:
            self.busy_changed.emit(False)

    @Slot(int)
    def _on_began(self, task_id: int) -> None:
        callbacks = self._pending.get(task_id)
        if callbacks is not None and callbacks.on_start is not None:
            callbacks.on_start()

    @Slot(int, object)
    def _on_progressed(self, task_id: int, value: object) -> None:
        callbacks = self._pending.get(task_id)
        if callbacks is not None and callbacks.on_progress is not None:
            callbacks.on_progress(value)

    @Slot(int, bool, object)
    def _on_answered(self, task_id: int, ok: bool, value: object) -> None:
        callbacks = self._pending.get(task_id)
        if callbacks is None:  # cancelled before it started, superseded, or shut down
            return
        self._forget(task_id)
        task = callbacks.task
        if task.kind is not None and self._latest.get(task.kind) is task:
            del self._latest[task.kind]
        if ok:
            callbacks.on_done(value)
        else:
            callbacks.on_error(self._sentence(cast(BaseException, value)))
