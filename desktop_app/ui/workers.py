"""The window's engine, adapted to Qt: requests go out as calls, results come back as queued signals.

llama.cpp runs in a child process (:class:`~desktop_app.core.engine.engine_process.EngineProcess`), one
per loaded model: the window's process never loads it. A model on a server is driven the same way, by a
:class:`~desktop_app.core.remote.remote_engine.RemoteEngine` (a thread that talks to the server) where
the process would stand. :class:`EngineClient` keeps the request signals
and the result signals (on :attr:`EngineClient.worker`) that the window and its controllers use, tracks
what the engine is doing, and turns the child's death into events the window already knows: the reply
being generated is finished with the stop reason ``engine_crashed`` (every streamed token kept), a
comparison or a load fails with a sentence, and ``died`` says what happened. The next reply restarts
the engine with the same model and settings; so does :meth:`EngineClient.restart`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from desktop_app.core.engine.engine_process import EngineDeath, EngineProcess, EngineStartError
from desktop_app.core.engine.messages import (
    NO_MODEL,
    SAVED_TOP_N,
    CompareRequest,
    CompareStep,
    FinishedEvent,
    GenerateRequest,
    IncomingEvent,
    LoadedModel,
    LoadRequest,
    Pieces,
    PromptEvent,
    StepEvent,
    saved_tokens,
)
from desktop_app.core.engine.session import STOP_CANCELLED, STOP_ENGINE_CRASHED, GenerationResult, Step
from desktop_app.core.remote.load_request import ServerLoadRequest, is_answer_to, loads_again
from desktop_app.ui.widgets.frames import FrameClock

if TYPE_CHECKING:
    from desktop_app.core.remote.remote_engine import RemoteEngine

log = logging.getLogger(__name__)

__all__ = [
    "SAVED_TOP_N",
    "CompareRequest",
    "CompareStep",
    "EngineClient",
    "EngineSignals",
    "FinishedEvent",
    "GenerateRequest",
    "LoadRequest",
    "LoadedModel",
    "PromptEvent",
    "StepEvent",
]

# How long a Stop may go unanswered before the engine process is ended.
STOP_GRACE_MS = 2000


class EngineSignals(QObject):
    """The engine's events, on the GUI thread."""

    loaded = Signal(object)  # LoadedModel
    load_failed = Signal(str)
    unloaded = Signal()
    prompt_ready = Signal(object)  # PromptEvent
    step = Signal(object)  # StepEvent
    steps = Signal(object)  # list[StepEvent]: those that came together, after each one's ``step``
    finished = Signal(object)  # FinishedEvent
    failed = Signal(int, str)  # request id, sentence
    redistributed = Signal(int, object)  # position, Distribution
    rendered = Signal(object)  # PromptEvent (request id 0): the prompt of a conversation, not generated
    compare_step = Signal(object)  # CompareStep
    tokenized = Signal(str, object, object)  # the text, its token ids, their pieces (bytes)
    compared = Signal(int, object)  # request id, Comparison
    template_failed = Signal(str, object)  # the template's error sentence, its line (int or None)
    busy = Signal(bool)
    stats = Signal(object)  # dict: what the engine has done (see EngineService.stats)
    probed = Signal(object)  # BackendInfo: the devices llama.cpp can use
    died = Signal(object)  # EngineDeath: the engine process ended without being asked to
    restarting = Signal()  # a new engine process is loading the model again
    serving = Signal(object)  # the address the model is served at (str), or None: not served any more
    serve_failed = Signal(str)  # why it could not be served
    serve_queue = Signal(object)  # QueueStatus: the served request running and how many wait
    incoming = Signal(object)  # IncomingEvent: a served request starts; its reply's events follow


# What the window's engine client runs a model with: a child process, or a thread and a server.
Engine: TypeAlias = "EngineProcess | RemoteEngine"
AnyLoad = LoadRequest | ServerLoadRequest


def _answered(kind: str, args: tuple) -> int:
    """The request a ``finished`` or ``failed`` event answers."""
    return args[0].request_id if kind == "finished" else args[0]


@dataclass
class _Reply:
    """The reply being generated, as far as the window has received it."""

    request: GenerateRequest
    process: Engine
    steps: list[Step] = field(default_factory=list)
    prompt_tokens: int = 0
    template_origin: str = ""
    prompt_at: float = 0.0  # when the prompt was rendered, and when the last step came (perf_counter)
    last_step_at: float = 0.0


class EngineClient(QObject):
    """The window's handle on its engine process; the GUI talks to it through the request signals."""

    request_probe = Signal()
    request_load = Signal(object)
    request_unload = Signal()
    request_generate = Signal(object)
    request_redistribute = Signal(int, object, object)  # position, settings, the step's generation
    request_render = Signal(object, bool)
    request_compare = Signal(object)
    request_tokenize = Signal(str)
    request_template_override = Signal(object)
    request_stats = Signal()
    request_serve = Signal(object)  # ServeOptions: serve the loaded model to other programs
    request_stop_serving = Signal()
    _event = Signal(object, object, object)  # the process, the kind, its arguments (from its reader)

    def __init__(self, parent: QObject | None = None, *, log_path: Path) -> None:
        super().__init__(parent)
        self.worker = EngineSignals(self)
        self.log_path = log_path
        self.process: Engine | None = None
        self.model: LoadedModel | None = None  # the model the engine holds
        self.vocab: Pieces | None = None
        self._current: AnyLoad | None = None  # what the engine holds: what a restart loads again
        self._override: object = None
        self._loading: tuple[AnyLoad, Engine] | None = None  # a load under way, and where
        self._reply: _Reply | None = None
        self._incoming: dict[int, _Reply] = {}  # served requests shown as they run, by request id
        self._projecting = False  # served requests are shown (sent to every new engine process)
        self._compare: tuple[int, Engine] | None = None  # its request id, and who answers it
        self._started: list[Engine] = []  # every engine not known to have ended
        self._stop_timer = QTimer(self, singleShot=True, interval=STOP_GRACE_MS)
        self._stop_timer.timeout.connect(self._stop_overdue)
        self._event.connect(self._dispatch)
        self._clock = FrameClock.shared()
        self._clock.interval_changed.connect(self._pace)
        self.request_probe.connect(lambda: self._send("probe", start=True))
        self.request_load.connect(self.load)
        self.request_unload.connect(self.unload)
        self.request_generate.connect(self.generate)
        self.request_redistribute.connect(lambda pos, s, g: self._send("redistribute", pos, s, g))
        self.request_render.connect(lambda messages, plain: self._send("render", messages, plain))
        self.request_compare.connect(self.compare)
        self.request_tokenize.connect(lambda text: self._send("tokenize", text))
        self.request_template_override.connect(self.set_template_override)
        self.request_stats.connect(lambda: self._send("stats"))
        self.request_serve.connect(self.serve)
        self.request_stop_serving.connect(lambda: self._send("stop_serving"))

    # --- the processes -------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        """The engine process that holds (or is loading) the model."""
        proc = self._target()
        return proc.pid if proc is not None and proc.running else None

    @property
    def can_restart(self) -> bool:
        """Whether there is a model to load again."""
        return self._current is not None

    def _target(self) -> Engine | None:
        """Where requests go: the process loading a model (they wait behind the load), else the current."""
        if self._loading is not None:
            return self._loading[1]
        return self.process if self.process is not None and self.process.running else None

    def _spawn(self, remote: bool = False) -> Engine:
        """A new engine: a child process for a local model, a thread talking to the server for a model
        on one (``remote``)."""
        proc: Engine
        if remote:
            # Imported with the first server: its HTTP client and template engine are not needed to start.
            from desktop_app.core.remote.remote_engine import RemoteEngine

            proc = RemoteEngine(lambda kind, args: self._event.emit(proc, kind, args), log_path=self.log_path)
        else:
            proc = EngineProcess(
                lambda kind, args: self._event.emit(proc, kind, args), log_path=self.log_path, batches=True
            )
        proc.start()
        proc.pace(self._clock.interval_ms / 1000)  # steps come as often as the window draws
        if isinstance(proc, EngineProcess) and self._projecting:
            proc.project(True)
        self._started = [p for p in self._started if p.alive] + [proc]
        return proc

    def _pace(self, interval_s: float) -> None:
        """The window draws at a new rate: the engines send steps at it."""
        for proc in self._started:
            if proc.running:
                proc.pace(interval_s)

    def _retire(self, proc: Engine | None) -> None:
        """Let ``proc`` finish what it sends (a stopped reply's end) and exit; ended if it lingers."""
        if proc is not None and proc.running:
            proc.shutdown()
            QTimer.singleShot(STOP_GRACE_MS, lambda: proc.kill(stopped_by_us=False))

    def _send(self, kind: str, *args: object, start: bool = False) -> bool:
        proc = self._target()
        if proc is None and start:
            try:
                proc = self.process = self._spawn()
            except EngineStartError as exc:
                self.worker.load_failed.emit(str(exc))
                return False
        return proc is not None and bool(getattr(proc, kind)(*args))  # a Backend request

    # --- requests ------------------------------------------------------------------------------------
    def load(self, request: AnyLoad) -> None:
        """Load ``request``'s model in a fresh engine process (an idle one that holds no model is used),
        or connect to its server (:class:`ServerLoadRequest`). The current model keeps its engine until
        the new one has loaded: a load that fails leaves it."""
        if self._loading is not None:  # a newer load supersedes it: each process loads one model
            superseded = self._loading[1]
            self._retire(superseded)
            if superseded is self.process:
                self.process = None
        self._loading = None
        current = self.process if self.process is not None and self.process.running else None
        remote = isinstance(request, ServerLoadRequest)
        try:
            idle = current is not None and self.model is None and isinstance(current, EngineProcess)
            if idle and not remote and current is not None:
                proc = current  # the idle process started with the window
            else:
                proc = self._spawn(remote)
                if current is None:
                    self.process = proc
        except EngineStartError as exc:
            self.worker.load_failed.emit(str(exc))
            return
        self._loading = (request, proc)
        self._override = request.template_override
        proc.during = f"loading {request.display_name}"
        proc.load(request)

    def restart(self) -> bool:
        """Start the engine again with the model it held and its settings; False when there is none."""
        if self._current is None:
            return False
        request = replace(self._current, template_override=self._override)
        self.worker.restarting.emit()
        self.load(request)
        return True

    def unload(self) -> None:
        """Unload the model: its process exits, and all its memory with it."""
        if self._loading is not None:
            self._retire(self._loading[1])
        self._retire(self.process)
        self.process = self._loading = self._current = None
        self.model = self.vocab = None
        self.worker.unloaded.emit()

    def set_template_override(self, override: object) -> None:
        self._override = override
        self._send("set_template_override", override)

    def _ensure_engine(self) -> Engine | None:
        """Where the next request goes; a crashed engine restarts (same model, same settings) first.
        None when there is no model to restart or its process could not start."""
        if self._target() is None and not self.restart():
            return None
        return self._target()

    def generate(self, request: GenerateRequest) -> None:
        target = self._ensure_engine()
        if target is not None:
            self._reply = _Reply(request, target)
            target.during = "generating a reply"
            if self._send("generate", request):
                return
            self._reply = None
        self.worker.failed.emit(request.request_id, self._no_model())

    def compare(self, request: CompareRequest) -> None:
        target = self._ensure_engine()
        if target is not None:
            self._compare = (request.request_id, target)
            target.during = "comparing answers"
            if self._send("compare", request):
                return
            self._compare = None
        self.worker.failed.emit(request.request_id, self._no_model())

    def serve(self, options: object) -> None:
        """Serve the loaded model to other programs from its engine process (a model on a server is that
        server's to serve)."""
        proc = self._target()
        if proc is None or self.model is None:
            self.worker.serve_failed.emit(self._no_model())
        elif not isinstance(proc, EngineProcess):
            self.worker.serve_failed.emit(self.tr("a model on a server is served by that server already"))
        else:
            proc.serve(options)

    def project(self, on: bool) -> None:
        """Show the requests of other programs to the served model as they run (``incoming``), or not."""
        self._projecting = bool(on)
        for proc in self._started:
            if isinstance(proc, EngineProcess) and proc.running:
                proc.project(self._projecting)

    def cancel_incoming(self, request_id: int) -> None:
        """Stop the served request shown as ``request_id`` within one token (its client gets what was
        made)."""
        reply = self._incoming.get(request_id)
        if reply is not None and isinstance(reply.process, EngineProcess):
            reply.process.cancel_incoming(request_id)

    def _answering(self) -> list[Engine]:
        """The running processes that owe the window a reply or a comparison."""
        owners = [self._reply.process if self._reply else None, self._compare[1] if self._compare else None]
        return [proc for proc in dict.fromkeys(owners) if proc is not None and proc.running]

    def cancel(self) -> None:
        """Stop the running generation within one token; an engine that does not answer within
        ``STOP_GRACE_MS`` is ended (what it streamed is kept) and started again."""
        for proc in self._answering():
            proc.cancel()
            self._stop_timer.start()

    def _stop_overdue(self) -> None:
        for proc in self._answering():
            log.warning("the engine did not stop within %d ms: ending it", STOP_GRACE_MS)
            proc.kill(stopped_by_us=True)

    def _no_model(self) -> str:
        return self.tr("no model is loaded: load one on the Models page")

    def piece(self, token: int) -> bytes:
        """The bytes of a token of the loaded model (empty without one)."""
        return self.vocab.piece(token) if self.vocab is not None else b""

    def stop(self, timeout_ms: int = 2000) -> bool:
        """Cancel, let the engine close its model and exit (ended after ``timeout_ms``). Events it sent
        meanwhile (the last reply's ``finished``) are delivered before this returns."""
        self.process = self._loading = None
        self._stop_timer.stop()
        procs, self._started = self._started, []
        for proc in procs:
            proc.request_stop()
        deadline = time.monotonic() + timeout_ms / 1000
        clean = all([proc.finish_stop(deadline) for proc in procs])
        QCoreApplication.sendPostedEvents(self)
        return clean

    # --- events --------------------------------------------------------------------------------------
    def _dispatch(self, proc: Engine, kind: str, args: tuple) -> None:
        """One event of an engine process (or a batch of steps), on the GUI thread: tracked, then handed
        on. Steps go out one by one (``step``), then together (``steps``): a view that shows only the
        latest step does its work once for a batch."""
        if kind == "batch":
            steps = []
            for event in args[0]:
                self._handle(proc, *event)
                if event[0] == "step":
                    steps.append(event[1][0])
            if steps:
                self.worker.steps.emit(steps)
            return
        self._handle(proc, kind, args)
        if kind == "step":
            self.worker.steps.emit([args[0]])

    def _handle(self, proc: Engine, kind: str, args: tuple) -> None:
        loading = self._loading is not None and self._loading[1] is proc
        if kind in ("died", "exited"):
            self._ended(proc, args[0] if args else None, loading)
            return
        if kind == "loaded":
            request = self._loading[0] if loading and self._loading is not None else None
            if request is None or not is_answer_to(request, args[0]):
                return  # a load that a newer one superseded
            self._loading = None
            if proc is not self.process:
                self._retire(self.process)
                self.process = proc
            self._current, self.model, self.vocab = loads_again(request, args[0]), args[0], args[0].vocab
            proc.during = ""
        elif kind == "load_failed" and loading:
            self._loading = None
            if proc is not self.process:
                self._retire(proc)  # the current model stays
            proc.during = ""
        elif kind == "unloaded":
            return  # a process closing its model as it exits: the window said so when it asked
        elif kind in ("serving", "serve_failed", "serve_queue") and proc is not self.process:
            return  # a retired process stopping the server it had: the window forgot it with its model
        elif kind == "incoming":
            event: IncomingEvent = args[0]
            self._incoming[event.request_id] = _Reply(event.as_request(), proc, prompt_at=time.perf_counter())
        elif kind == "prompt_ready":
            reply = self._streaming(args[0].request_id)
            if reply is not None:
                reply.prompt_tokens = len(args[0].prompt.tokens)
                reply.prompt_at = time.perf_counter()
                reply.template_origin = args[0].prompt.template.origin
        elif kind == "step":
            reply = self._streaming(args[0].request_id)
            if reply is not None:
                reply.steps.append(args[0].step)
                reply.last_step_at = time.perf_counter()
        elif kind in ("finished", "failed") and _answered(kind, args) in self._incoming:
            reply = self._incoming.pop(_answered(kind, args))
            if kind == "finished":
                args[0].result.steps = reply.steps  # the engine sends the steps once, as they stream
        elif kind in ("finished", "failed", "compared"):
            request_id = args[0].request_id if kind == "finished" else args[0]
            reply = self._reply
            if kind == "finished" and reply is not None and reply.request.request_id == request_id:
                args[0].result.steps = reply.steps  # the engine sends the steps once, as they stream
            if self._reply is not None and self._reply.request.request_id == request_id:
                self._reply = None
            if self._compare is not None and self._compare[0] == request_id:
                self._compare = None
            if self._reply is None and self._compare is None:
                self._stop_timer.stop()
                proc.during = ""
        if kind == "failed" and args[1] == NO_MODEL:
            args = (args[0], self._no_model())
        getattr(self.worker, kind).emit(*args)

    def _streaming(self, request_id: int) -> _Reply | None:
        """The reply streaming as ``request_id``: the window's own, or a served request shown."""
        reply = self._reply
        if reply is not None and reply.request.request_id == request_id:
            return reply
        return self._incoming.get(request_id)

    def _ended(self, proc: Engine, death: EngineDeath | None, loading: bool) -> None:
        """An engine process has gone: finish what it left unanswered, and say why if it crashed.
        ``death`` is None when it exited as asked."""
        stopped = death is None or death.stopped_by_us
        if self._reply is not None and self._reply.process is proc:
            reply, self._reply = self._reply, None
            self._finish_reply(reply, STOP_CANCELLED if stopped else STOP_ENGINE_CRASHED)
        for request_id, reply in list(self._incoming.items()):  # a served request shown: kept as far as made
            if reply.process is proc:
                del self._incoming[request_id]
                self._finish_reply(reply, STOP_CANCELLED if stopped else STOP_ENGINE_CRASHED)
        compare = None
        if self._compare is not None and self._compare[1] is proc:
            compare, self._compare = self._compare[0], None
        if death is None or (proc is not self.process and not loading):
            if compare is not None:  # a retired process, or the window is closing
                self.worker.failed.emit(compare, "the engine was stopped")
            return
        sentence = death.sentence()
        if compare is not None:
            self.worker.failed.emit(compare, sentence)
        self._stop_timer.stop()
        self.worker.busy.emit(False)
        if loading:
            self._loading = None
            if proc is not self.process:  # a new model crashed its engine; the current one is fine
                self.worker.load_failed.emit(f"{sentence} Details: {death.log_path}")
                return
        self.process = None  # the model and its pieces stay known: the chart still shows its steps
        if loading:
            self._current = None  # a model that crashes the engine as it loads is not loaded again
            self.worker.load_failed.emit(sentence)
        if death.stopped_by_us and not loading:
            self.restart()  # it only failed to stop in time: carry on as if it had
            return
        self.worker.died.emit(death)

    def _finish_reply(self, reply: _Reply, reason: str) -> None:
        """The reply as far as it streamed, finished with ``reason``: saved like any other."""
        steps = reply.steps
        text = "".join(s.text for s in steps)
        decode_ms = max(0.0, reply.last_step_at - reply.prompt_at) * 1000 if steps else 0.0
        result = GenerationResult(
            steps=steps, text=text, stop_reason=reason, prompt_tokens=reply.prompt_tokens, decode_ms=decode_ms
        )
        event = FinishedEvent(
            reply.request.request_id, result, reply.prompt_tokens, saved_tokens(steps), reply.template_origin
        )
        self.worker.finished.emit(event)
