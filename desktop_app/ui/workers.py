"""The engine's owner thread, adapted to Qt: requests go in as queued signals, results come out as signals.

llama.cpp's ``Llama`` is not thread-safe, so exactly one thread (an :class:`EngineThread`) creates, uses
and closes the engine. The GUI never calls the engine's decoding methods; it emits requests, and cancels
with :meth:`EngineThread.cancel`, which is safe from any thread (it sets the session's stop flag, checked
every token and between prompt chunks). Reading token pieces (``Engine.piece``) from the GUI thread is
safe: it only reads the vocabulary.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from desktop_app.core.engine.chat import ChatPrompt, chat_prompt, template_for
from desktop_app.core.engine.chat_template import TemplateError
from desktop_app.core.engine.compare import compare_answers
from desktop_app.core.engine.distribution import Distribution
from desktop_app.core.engine.engine import Engine, EngineConfig, EngineError
from desktop_app.core.engine.gpu import BackendInfo, LoadReport, probe_backends
from desktop_app.core.engine.sampler import SamplerSettings
from desktop_app.core.engine.session import GenerationResult, Session, Step
from desktop_app.core.store.chats import ReplyToken

log = logging.getLogger(__name__)

#: Candidates kept per saved token (the chart shows at most 50).
SAVED_TOP_N = 50
_REQUEST_IDS = itertools.count(1)  # one sequence for every kind of request, so ids never collide


@dataclass(frozen=True)
class LoadRequest:
    path: Path
    config: EngineConfig
    model_id: str
    display_name: str
    template_override: str | None = None


@dataclass(frozen=True)
class LoadedModel:
    model_id: str
    display_name: str
    path: Path
    n_ctx: int
    n_vocab: int
    eog_ids: frozenset[int]
    report: LoadReport
    template_source: str
    template_origin: str
    has_template: bool


@dataclass(frozen=True)
class GenerateRequest:
    messages: tuple[dict, ...]  # the conversation so far, ending with the user's message
    settings: SamplerSettings
    max_tokens: int = 512
    forced: tuple[int, ...] = ()  # tokens to take instead of rolls (picking a bar in the chart)
    prefix: tuple[int, ...] = ()  # reply tokens kept before forced ones (branching mid-reply)
    plain: bool = False  # no chat template: the model continues the joined texts
    request_id: int = field(default_factory=lambda: next(_REQUEST_IDS))


@dataclass(frozen=True)
class CompareRequest:
    messages: tuple[dict, ...]
    settings: SamplerSettings
    answers: int = 3
    max_tokens: int = 48
    plain: bool = False
    request_id: int = field(default_factory=lambda: next(_REQUEST_IDS))


@dataclass(frozen=True)
class CompareStep:
    request_id: int
    answer: int
    step: Step


@dataclass(frozen=True)
class StepEvent:
    request_id: int
    step: Step


@dataclass(frozen=True)
class PromptEvent:
    request_id: int
    prompt: ChatPrompt
    previous_tokens: tuple[int, ...]


@dataclass(frozen=True)
class FinishedEvent:
    request_id: int
    result: GenerationResult
    prompt_tokens: int
    tokens: tuple[ReplyToken, ...]  # the reply's tokens with their candidates, ready to be saved
    template_origin: str


class EngineWorker(QObject):
    """Lives in the engine thread; its slots run there."""

    loaded = Signal(object)  # LoadedModel
    load_failed = Signal(str)
    unloaded = Signal()
    prompt_ready = Signal(object)  # PromptEvent
    step = Signal(object)  # StepEvent
    finished = Signal(object)  # FinishedEvent
    failed = Signal(int, str)  # request id, sentence
    redistributed = Signal(int, object)  # position, Distribution
    rendered = Signal(object)  # PromptEvent (request id 0): the prompt of a conversation, not generated
    compare_step = Signal(object)  # CompareStep
    tokenized = Signal(str, object, object)  # the text, its token ids, their pieces (bytes)
    compared = Signal(int, object)  # request id, Comparison
    template_failed = Signal(str, object)  # the template's error sentence, its line (int or None)
    busy = Signal(bool)
    probed = Signal(object)  # BackendInfo: the devices llama.cpp can use

    def __init__(self) -> None:
        super().__init__()
        self.engine: Engine | None = None
        self.session: Session | None = None
        self._override: str | None = None
        self._previous: tuple[int, ...] = ()

    # --- model -----------------------------------------------------------------------------------
    @Slot()
    def probe(self) -> None:
        """Which backends and devices this llama.cpp build has (the window asks once, at its start: on
        this thread, which imports llama.cpp's bindings to load a model anyway)."""
        try:
            info = probe_backends()
        except Exception as exc:  # a broken installation: the window says so and runs on the CPU
            log.exception("probing llama.cpp's backends failed")
            info = BackendInfo((), False, "", device_api=False, note=str(exc) or type(exc).__name__)
        self.probed.emit(info)

    @Slot(object)
    def load(self, request: LoadRequest) -> None:
        self.busy.emit(True)
        try:
            try:
                engine = Engine(request.path, request.config)
            except EngineError as exc:
                self.load_failed.emit(str(exc))
                return
            except Exception as exc:  # an unexpected failure still reaches the user, with its reason
                log.exception("loading %s failed", request.path)
                text = self.tr("{name} could not be loaded: {error}")
                self.load_failed.emit(text.format(name=request.display_name, error=exc))
                return
            old, self.engine = self.engine, engine
            if old is not None:
                old.close()
            self.session = Session(engine)
            self._previous = ()
            self._override = request.template_override
            try:
                template = template_for(engine, self._override)
            except TemplateError:  # a broken saved override: the inspector shows its error
                template = template_for(engine, None)
            self.loaded.emit(
                LoadedModel(
                    model_id=request.model_id,
                    display_name=request.display_name,
                    path=request.path,
                    n_ctx=engine.n_ctx,
                    n_vocab=engine.n_vocab,
                    eog_ids=engine.eog_ids,
                    report=engine.load_report,
                    template_source=template.source_text,
                    template_origin=template.origin,
                    has_template=engine.metadata.has_chat_template,
                )
            )
        finally:
            self.busy.emit(False)

    @Slot(object)
    def set_template_override(self, override: object) -> None:
        self._override = override if isinstance(override, str) else None

    @Slot()
    def unload(self) -> None:
        if self.engine is not None:
            self.engine.close()
        self.engine = self.session = None
        self._previous = ()
        self.unloaded.emit()

    # --- generation ------------------------------------------------------------------------------
    def _serve(self, request_id: int, work: Callable[[], None]) -> None:
        """Run one request's ``work`` with the model: busy meanwhile, and every failure handed to the
        window as ``failed`` (never a window left waiting for an answer that will not come)."""
        if self.engine is None or self.session is None:
            self.failed.emit(request_id, self.tr("no model is loaded: load one on the Models page"))
            return
        self.busy.emit(True)
        try:
            work()
        except TemplateError as exc:
            self.template_failed.emit(str(exc), exc.lineno)
            self.failed.emit(request_id, str(exc))
        except (EngineError, ValueError) as exc:
            self.failed.emit(request_id, str(exc))
        except Exception as exc:
            log.exception("a request to the engine failed")
            text = self.tr("the reply could not be generated: {error}")
            self.failed.emit(request_id, text.format(error=exc))
        finally:
            self.busy.emit(False)

    @Slot(object)
    def generate(self, request: GenerateRequest) -> None:
        self._serve(request.request_id, lambda: self._generate(request))

    def _generate(self, request: GenerateRequest) -> None:
        template = template_for(self.engine, self._override, plain=request.plain)
        prompt = chat_prompt(self.engine, request.messages, template=template)
        self.prompt_ready.emit(PromptEvent(request.request_id, prompt, self._previous))
        tokens = list(prompt.tokens) + list(request.prefix)
        gen = self.session.generate(
            tokens,
            request.settings,
            max_tokens=request.max_tokens,
            forced=request.forced,
            stop=template.stop_strings,
        )
        for step in gen:
            self.step.emit(StepEvent(request.request_id, step))
        self._previous = tuple(prompt.tokens)
        # Every step is read in full once, here, after the last token: the reply's tokens with
        # their candidates for the database, and the logits references dropped for memory.
        saved = []
        for step in gen.result.steps:
            saved.append(ReplyToken.from_step(step, SAVED_TOP_N))
            if step.distribution is not None:
                step.distribution.release()
        n_prompt = len(prompt.tokens)
        event = FinishedEvent(request.request_id, gen.result, n_prompt, tuple(saved), template.origin)
        self.finished.emit(event)

    @Slot(object, bool)
    def render(self, messages: tuple[dict, ...], plain: bool = False) -> None:
        """The prompt the model would read for ``messages`` (for the template inspector; no decoding)."""
        if self.engine is None:
            return
        try:
            template = template_for(self.engine, self._override, plain=plain)
            prompt = chat_prompt(self.engine, messages, template=template, check_fits=False)
        except TemplateError as exc:
            self.template_failed.emit(str(exc), exc.lineno)
            return
        except (EngineError, ValueError) as exc:
            self.template_failed.emit(str(exc), None)
            return
        self.rendered.emit(PromptEvent(0, prompt, self._previous))

    @Slot(str)
    def tokenize(self, text: str) -> None:
        """How ``text`` is split into tokens (no special-token parsing, no BOS)."""
        if self.engine is None:
            return
        ids = self.engine.tokenize(text, add_bos=False, special=False) if text else []
        self.tokenized.emit(text, ids, [self.engine.piece(t) for t in ids])

    @Slot(object)
    def compare(self, request: CompareRequest) -> None:
        """Several answers to one prompt (see ``compare_answers``), streamed as ``compare_step``."""
        self._serve(request.request_id, lambda: self._compare(request))

    def _compare(self, request: CompareRequest) -> None:
        template = template_for(self.engine, self._override, plain=request.plain)
        prompt = chat_prompt(self.engine, request.messages, template=template)
        result = compare_answers(
            self.session,
            prompt.tokens,
            request.settings,
            request.answers,
            max_tokens=request.max_tokens,
            stop=template.stop_strings,
            on_step=lambda i, step: self.compare_step.emit(CompareStep(request.request_id, i, step)),
            cancel=self.session.cancel_event,
        )
        self._previous = ()
        self.compared.emit(request.request_id, result)

    @Slot(int, object)
    def redistribute(self, position: int, settings: SamplerSettings) -> None:
        """Re-run the sampler on a stored step with new settings (no model call)."""
        if self.session is None:
            return
        try:
            d: Distribution = self.session.redistribute(position, settings)
        except (KeyError, ValueError):  # that step's logits are no longer kept
            return
        d.materialize()  # here, not on the GUI thread
        self.redistributed.emit(position, d)

    @Slot()
    def shutdown(self) -> None:
        self.unload()


class EngineThread(QObject):
    """Owns the QThread and the worker; the GUI talks to it through the request signals below."""

    request_probe = Signal()
    request_load = Signal(object)
    request_unload = Signal()
    request_generate = Signal(object)
    request_redistribute = Signal(int, object)
    request_render = Signal(object, bool)
    request_compare = Signal(object)
    request_tokenize = Signal(str)
    request_template_override = Signal(object)
    request_shutdown = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("engine")
        self.worker = EngineWorker()
        self.worker.moveToThread(self.thread)
        self.request_probe.connect(self.worker.probe)
        self.request_load.connect(self.worker.load)
        self.request_unload.connect(self.worker.unload)
        self.request_generate.connect(self.worker.generate)
        self.request_redistribute.connect(self.worker.redistribute)
        self.request_render.connect(self.worker.render)
        self.request_compare.connect(self.worker.compare)
        self.request_tokenize.connect(self.worker.tokenize)
        self.request_template_override.connect(self.worker.set_template_override)
        self.request_shutdown.connect(self.worker.shutdown)
        self.thread.start()

    def cancel(self) -> None:
        """Stop the running generation within one token (safe from any thread)."""
        session = self.worker.session
        if session is not None:
            session.cancel()

    def stop(self, timeout_ms: int = 10_000) -> bool:
        """Cancel, close the engine in its own thread, quit and wait: no thread left running. Events the
        worker sent meanwhile (the last reply's ``finished``) are delivered before this returns."""
        if not self.thread.isRunning():
            return True
        self.cancel()
        self.request_shutdown.emit()
        self.thread.quit()
        done = self.thread.wait(timeout_ms)
        QCoreApplication.sendPostedEvents()
        return done
