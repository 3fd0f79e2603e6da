"""One engine, many clients: the requests of a served model wait in one queue, first come first served,
and run one at a time on the thread that owns the engine (:class:`ServeWorker`).

A request is a :class:`Job`: its prompt tokens, its settings, and where its steps go. The HTTP side
(:mod:`desktop_app.core.serve.app`) submits it and reads its steps as they come; a client that goes away
cancels its job, which then stops within one token (or never starts, if it was still waiting). The
queue's length and the running request can be read at any time (:meth:`ServeWorker.status`), and a full
queue refuses a new request at once (:class:`QueueFull`) rather than keeping it waiting without end.

With a projector (:attr:`ServeWorker.projector`, the window's event callback when it shows incoming
requests), each request that a client can be shown for (:attr:`Job.shown`) is reported as it runs: an
``incoming`` event, its prompt, its steps and its end, under the negative of the job's id, the same events
the window's own replies make, so the window draws a student's request as it draws its own.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from desktop_app.core.engine.chat import ChatPrompt
from desktop_app.core.engine.engine import Engine
from desktop_app.core.engine.messages import (
    SAVED_TOP_N,
    FinishedEvent,
    IncomingEvent,
    PromptEvent,
    StepEvent,
    portable,
    saved_tokens,
)
from desktop_app.core.engine.session import GenerationResult, Session
from desktop_app.core.engine.turns import Turns
from desktop_app.core.sampler_settings import SamplerSettings

log = logging.getLogger(__name__)

#: The items a job's ``deliver`` receives: each Step, then one Finished (or one Failed).
Deliver = Callable[[object], None]
#: Where a projected request's events go: ``emit(kind, *args)``, as an EngineService emits them.
Emit = Callable[..., None]
_IDS = itertools.count(1)


class QueueFull(RuntimeError):
    """Too many requests are waiting; the sentence says how many."""


@dataclass(frozen=True)
class Finished:
    result: GenerationResult


@dataclass(frozen=True)
class Picked:
    """The token a ``pick_excluding`` job drew, its bytes and the model's log-probability of it."""

    token: int
    piece: bytes
    logprob: float


@dataclass(frozen=True)
class Failed:
    sentence: str
    status: int = 500


@dataclass(frozen=True)
class Shown:
    """What the window shows of a request when it projects it: who sent it and what it asked."""

    source: str  # the client's address
    messages: tuple[dict, ...]  # a chat's messages; a completion's prompt as one user message
    plain: bool = False  # a completion: no chat template
    prompt: ChatPrompt | None = None  # a chat's rendered prompt, for the template inspector
    template_origin: str = ""
    prompt_ids: tuple[int, ...] = ()  # a completion's prompt tokens


@dataclass
class Job:
    """One request for the engine: ``prompt`` tokens continued with ``settings``. ``deliver`` receives
    its steps, then a :class:`Finished` or :class:`Failed`, on the engine's thread. ``pick_excluding``:
    instead of a reply, one token drawn with only the temperature applied from the tokens not in it (what
    llama-server does with ``logit_bias`` bans; TokenDice's remote die asks for it when its roll falls in
    the part a server did not report)."""

    prompt: Sequence[int]
    settings: SamplerSettings
    deliver: Deliver
    max_tokens: int = 256
    stop: tuple[str, ...] = ()
    top_n: int = 50
    what: str = "a request"  # shown while it runs, e.g. "chat completion for 127.0.0.1"
    pick_excluding: frozenset[int] | None = None
    shown: Shown | None = None  # what a projector shows of it (None: not shown)
    cancel: threading.Event = field(default_factory=threading.Event)
    id: int = field(default_factory=lambda: next(_IDS))


@dataclass(frozen=True)
class QueueStatus:
    running: str | None  # what the running job is, None when idle
    waiting: int


class ServeWorker:
    """The served model's engine and the queue in front of it (see the module's docstring). Call
    :meth:`close` to stop it; a job still waiting then fails with a sentence."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_waiting: int = 32,
        on_change: Callable[[], None] | None = None,
        turns: Turns | None = None,
    ):
        self.turns = turns or Turns()  # shared with the window's own requests when it serves its model
        self.engine = engine
        self.session = Session(engine)
        self.max_waiting = max_waiting
        self._on_change = on_change
        self._lock = threading.Lock()
        self._waiting: deque[Job] = deque()
        self._wake = threading.Condition(self._lock)
        self._running: Job | None = None
        self._closed = False
        #: Where requests are reported as they run (see the module's docstring); None: nowhere. Read once
        #: as each request starts, so a request shown is shown to its end.
        self.projector: Emit | None = None
        self._thread = threading.Thread(target=self._run, name="tokendice-serve-engine", daemon=True)
        self._thread.start()

    # --- the queue -------------------------------------------------------------------------------
    def submit(self, job: Job) -> int:
        """Queue ``job``; returns how many jobs are ahead of it (the running one included)."""
        with self._lock:
            if self._closed:
                raise QueueFull("the server is stopping")
            if len(self._waiting) >= self.max_waiting:
                raise QueueFull(
                    f"{len(self._waiting)} requests are already waiting for the model; try again shortly"
                )
            ahead = len(self._waiting) + (self._running is not None)
            self._waiting.append(job)
            self._wake.notify()
        self._changed()
        return ahead

    def cancel(self, job: Job) -> None:
        """The client went away: a waiting job is dropped, a running one stops within one token."""
        job.cancel.set()
        with self._lock:
            if job in self._waiting:
                self._waiting.remove(job)
                dropped = True
            else:
                dropped = False
                if self._running is job:
                    self.session.cancel()
        if dropped:
            self._changed()

    def cancel_shown(self, request_id: int) -> bool:
        """Stop the request projected as ``request_id`` (the window's Stop); False if it is not running."""
        with self._lock:
            job = self._running
        if job is None or -job.id != request_id:
            return False
        self.cancel(job)
        return True

    def status(self) -> QueueStatus:
        with self._lock:
            running = self._running
            return QueueStatus(running.what if running else None, len(self._waiting))

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            waiting, self._waiting = list(self._waiting), deque()
            if self._running is not None:
                self.session.cancel()
            self._wake.notify()
        for job in waiting:
            job.deliver(Failed("the server is stopping", 503))
        self._thread.join(timeout)

    def _changed(self) -> None:
        if self._on_change is not None:
            try:
                self._on_change()
            except Exception:
                log.exception("the queue's observer failed")

    # --- the engine's thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._waiting and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                job = self._running = self._waiting.popleft()
            self._changed()
            projector = None
            try:
                with self.turns.turn():
                    if job.cancel.is_set():  # its client went while it waited: answered, never run
                        job.deliver(Failed("the request was cancelled before it started", 499))
                    else:
                        projector = self._projected(job)
                        self._serve(job, projector)
            except Exception as exc:  # the client gets a sentence; the next job still runs
                log.exception("a served request failed")
                job.deliver(Failed(f"the model could not answer: {exc}", 500))
                if projector is not None:
                    _emit(projector, "failed", -job.id, f"the model could not answer: {exc}")
            finally:
                with self._lock:
                    self._running = None
                self._changed()

    def _projected(self, job: Job) -> Emit | None:
        """Where ``job``'s events go when it is shown (its ``incoming`` and prompt reported), else None."""
        emit = self.projector
        if emit is None or job.shown is None or job.pick_excluding is not None:
            return None
        shown = job.shown
        incoming = IncomingEvent(
            -job.id, shown.source, shown.messages, shown.plain, job.settings, job.max_tokens, shown.prompt_ids
        )
        if not _emit(emit, "incoming", incoming):
            return None
        if shown.prompt is not None:
            _emit(emit, "prompt_ready", PromptEvent(-job.id, portable(shown.prompt), ()))
        return emit

    def _serve(self, job: Job, shown: Emit | None = None) -> None:
        if job.pick_excluding is not None:
            job.deliver(self._pick_excluding(job))
            return
        # A shown request keeps as many candidates per step as the window's chart and database do.
        top_n = max(job.top_n, SAVED_TOP_N) if shown is not None else job.top_n
        gen = self.session.generate(
            job.prompt, job.settings, max_tokens=job.max_tokens, stop=job.stop, top_n=top_n
        )
        for step in gen:
            if job.cancel.is_set():
                self.session.cancel()  # the generation ends before its next token
            job.deliver(step)
            if shown is not None:
                _emit(shown, "step", StepEvent(-job.id, step))
        job.deliver(Finished(gen.result))
        if shown is not None:
            result = gen.result
            origin = job.shown.template_origin if job.shown is not None else ""
            saved = saved_tokens(result.steps)  # every step read in full (the client may still read them)
            _emit(shown, "finished", FinishedEvent(-job.id, result, len(job.prompt), saved, origin))

    def _pick_excluding(self, job: Job) -> Picked:
        """One token after ``job.prompt`` drawn from those not excluded, the temperature only applied."""
        self.session.distribution_now(job.prompt, job.settings, top_n=1)  # the prompt decoded, as usual
        logits = self.engine.logits(None).astype(np.float64)
        banned = np.fromiter(job.pick_excluding or (), dtype=np.int64)
        banned = banned[(banned >= 0) & (banned < logits.size)]
        raw = logits - logits.max()
        log_z = float(np.log(np.exp(raw).sum()))
        x = raw / max(job.settings.temperature, 1e-3)
        x[banned] = -np.inf
        p = np.exp(x - x.max())
        p /= p.sum()
        token = int(np.random.default_rng(job.settings.seed).choice(p.size, p=p))
        return Picked(token, self.engine.piece(token), float(raw[token] - log_z))


def _emit(emit: Emit, kind: str, *args: object) -> bool:
    """Report to the projector; a window that has gone does not stop the client's request."""
    try:
        emit(kind, *args)
    except Exception:
        log.warning("the window could not be shown a served request's %s", kind, exc_info=True)
        return False
    return True
