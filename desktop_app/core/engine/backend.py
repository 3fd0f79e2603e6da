"""The one interface the app asks a model through (:class:`Backend`), and the service that answers it
over one Engine in this process (:class:`EngineService`).

Requests (:class:`LoadRequest`, :class:`GenerateRequest`, :class:`CompareRequest`, …; see
:mod:`messages`) go in; events come out through one callback, ``emit(kind, *args)``, whose kinds are the
names in :data:`EVENTS`. Every request and event is plain, picklable data, so the same service runs
behind any transport: called directly (CLI, tests), or in the engine process that the window talks to
(:mod:`engine_process`); a remote server can stand where that process stands, answering the same
requests with the same events.

A step crosses the boundary as compact data: its Distribution materialized (the candidates, the stages,
the roll, the entropy, the end mass), never the logits, which stay with the engine for slider re-runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol, TextIO, runtime_checkable

from desktop_app.core.engine.chat import chat_prompt, template_for
from desktop_app.core.engine.chat_template import TemplateError
from desktop_app.core.engine.compare import compare_answers
from desktop_app.core.engine.coverage import whole_share
from desktop_app.core.engine.engine import Engine, EngineError
from desktop_app.core.engine.gpu import BackendInfo, probe_backends
from desktop_app.core.engine.messages import (
    NO_MODEL,
    CompareRequest,
    CompareStep,
    FinishedEvent,
    GenerateRequest,
    LoadedModel,
    LoadRequest,
    PromptEvent,
    StepEvent,
    Vocabulary,
    portable,
    saved_tokens,
)
from desktop_app.core.engine.session import Session
from desktop_app.core.engine.thinking import CLOSE
from desktop_app.core.engine.turns import Turns
from desktop_app.core.sampler_settings import SamplerSettings

log = logging.getLogger(__name__)

Emit = Callable[..., None]


class Hosted(Protocol):
    """The model served over HTTP (see core/serve/hosted.py): where, and how to stop it."""

    address: str

    def stop(self) -> None: ...
    def project(self, on: bool) -> None: ...
    def cancel_shown(self, request_id: int) -> bool: ...


#: Starts serving: (the engine, the turns at it, where events go, the options) → the Hosted server.
ServeWith = Callable[[Engine, Turns, Emit, object], Hosted]


@runtime_checkable
class Backend(Protocol):
    """Everything the app asks of a model. Results and failures come back as events (the kinds of
    :data:`EVENTS`) through the callback the backend was made with, never as return values: an
    in-process backend (:class:`EngineService`) emits them before its method returns, one in another
    process (:class:`~desktop_app.core.engine.engine_process.EngineProcess`) or on a server later, from
    its reader thread. Step mode is :meth:`generate` with ``max_tokens=1``; :meth:`cancel` is safe from
    any thread."""

    def probe(self) -> object: ...
    def load(self, request: LoadRequest) -> object: ...
    def unload(self) -> object: ...
    def generate(self, request: GenerateRequest) -> object: ...
    def compare(self, request: CompareRequest) -> object: ...
    def redistribute(
        self, position: int, settings: SamplerSettings, generation: int | None = None
    ) -> object: ...
    def render(self, messages: tuple[dict, ...], plain: bool = False) -> object: ...
    def tokenize(self, text: str) -> object: ...
    def set_template_override(self, override: object) -> object: ...
    def stats(self) -> object: ...
    def cancel(self) -> object: ...
    def close(self) -> object: ...


class EngineService:
    """Answers requests over one loaded Engine; every result and failure goes out through ``emit``.

    One thread calls the request methods (the engine's owner); :meth:`cancel` is safe from any thread.
    ``vocab``: whether a load sends the model's pieces along (a window in another process needs them);
    ``full_steps``: every step computed whole at once (see :class:`Session`: each one is sent whole);
    ``pid``: the process id a load reports; ``log_echo``: where llama.cpp's log lines are written too.
    """

    def __init__(
        self,
        emit: Emit,
        *,
        vocab: bool = False,
        full_steps: bool = False,
        pid: int | None = None,
        log_echo: TextIO | None = None,
        serve_with: ServeWith | None = None,
    ) -> None:
        self.emit = emit
        # Serving the model to other programs (``serve_with`` starts it; see core/serve/hosted.py): the
        # window's requests and the served ones take turns at the engine, first come first served.
        self._serve_with = serve_with
        self._hosted: Hosted | None = None
        self._projecting = False  # the served requests are reported as they run (``incoming`` events)
        self.turns = Turns()
        self._full_steps = full_steps
        self._log_echo = log_echo
        self.engine: Engine | None = None
        self.session: Session | None = None
        self._send_vocab = vocab
        self._pid = pid
        self._override: str | None = None
        self._previous: tuple[int, ...] = ()
        self._cancel = threading.Event()

    # --- model -----------------------------------------------------------------------------------
    def probe(self) -> None:
        """Which backends and devices this llama.cpp build has."""
        try:
            info = probe_backends()
        except Exception as exc:  # a broken installation: the window says so and runs on the CPU
            log.exception("probing llama.cpp's backends failed")
            info = BackendInfo((), False, "", device_api=False, note=str(exc) or type(exc).__name__)
        self.emit("probed", info)

    def load(self, request: LoadRequest) -> None:
        self.emit("busy", True)
        try:
            try:
                engine = Engine(request.path, request.config, log_echo=self._log_echo)
            except EngineError as exc:
                self.emit("load_failed", str(exc))
                return
            except Exception as exc:  # an unexpected failure still reaches the user, with its reason
                log.exception("loading %s failed", request.path)
                self.emit("load_failed", f"{request.display_name} could not be loaded: {exc}")
                return
            self.stop_serving()  # the served model is the one being replaced
            old, self.engine = self.engine, engine
            if old is not None:
                old.close()
            self.session = Session(engine, full_steps=self._full_steps)
            self._previous = ()
            self._override = request.template_override
            try:
                template = template_for(engine, self._override)
            except TemplateError:  # a broken saved override: the inspector shows its error
                template = template_for(engine, None)
            self.emit(
                "loaded",
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
                    vocab=Vocabulary.of(engine) if self._send_vocab else None,
                    pid=self._pid,
                    zh_share=whole_share(lambda text: engine.tokenize(text, add_bos=False)),
                    think_close_ids=tuple(engine.tokenize(CLOSE, add_bos=False, special=True)),
                ),
            )
        finally:
            self.emit("busy", False)

    def set_template_override(self, override: object) -> None:
        self._override = override if isinstance(override, str) else None

    def unload(self) -> None:
        self.stop_serving()
        if self.engine is not None:
            self.engine.close()
        self.engine = self.session = None
        self._previous = ()
        self.emit("unloaded")

    def cancel(self) -> None:
        """Stop the running generation within one token (safe from any thread)."""
        session = self.session
        if session is not None:
            session.cancel()

    # --- generation ------------------------------------------------------------------------------
    def _serve(self, request_id: int, work: Callable[[Engine, Session], None]) -> None:
        """Run one request's ``work`` with the model: busy meanwhile, and every failure handed on as
        ``failed`` (never a caller left waiting for an answer that will not come)."""
        engine, session = self.engine, self.session
        if engine is None or session is None:
            self.emit("failed", request_id, NO_MODEL)
            return
        self.emit("busy", True)
        try:
            with self.turns.turn():  # behind the served requests that came first, if it serves
                work(engine, session)
        except TemplateError as exc:
            self.emit("template_failed", str(exc), exc.lineno)
            self.emit("failed", request_id, str(exc))
        except (EngineError, ValueError) as exc:
            self.emit("failed", request_id, str(exc))
        except Exception as exc:
            log.exception("a request to the engine failed")
            self.emit("failed", request_id, f"the reply could not be generated: {exc}")
        finally:
            self.emit("busy", False)

    def generate(self, request: GenerateRequest) -> None:
        self._serve(request.request_id, lambda engine, session: self._generate(engine, session, request))

    def _generate(self, engine: Engine, session: Session, request: GenerateRequest) -> None:
        template = template_for(engine, self._override, plain=request.plain)
        prompt = chat_prompt(engine, request.messages, template=template)
        self.emit("prompt_ready", PromptEvent(request.request_id, portable(prompt), self._previous))
        tokens = list(prompt.tokens) + list(request.prefix)
        gen = session.generate(
            tokens,
            request.settings,
            max_tokens=request.max_tokens,
            forced=request.forced,
            stop=template.stop_strings,
            reply_start=len(prompt.tokens),  # the kept tokens of a reply continued step by step are its own
        )
        for step in gen:
            self.emit("step", StepEvent(request.request_id, step))
        self._previous = tuple(prompt.tokens)
        # Every step is read in full once, here, after the last token: the reply's tokens with
        # their candidates for the database, and the logits references dropped for memory.
        saved = saved_tokens(gen.result.steps)
        n_prompt = len(prompt.tokens)
        self.emit("finished", FinishedEvent(request.request_id, gen.result, n_prompt, saved, template.origin))

    def render(self, messages: tuple[dict, ...], plain: bool = False) -> None:
        """The prompt the model would read for ``messages`` (for the template inspector; no decoding)."""
        if self.engine is None:
            return
        try:
            template = template_for(self.engine, self._override, plain=plain)
            prompt = chat_prompt(self.engine, messages, template=template, check_fits=False)
        except TemplateError as exc:
            self.emit("template_failed", str(exc), exc.lineno)
            return
        except (EngineError, ValueError) as exc:
            self.emit("template_failed", str(exc), None)
            return
        self.emit("rendered", PromptEvent(0, portable(prompt), self._previous))

    def tokenize(self, text: str) -> None:
        """How ``text`` is split into tokens (no special-token parsing, no BOS)."""
        if self.engine is None:
            return
        ids = self.engine.tokenize(text, add_bos=False, special=False) if text else []
        self.emit("tokenized", text, ids, [self.engine.piece(t) for t in ids])

    def compare(self, request: CompareRequest) -> None:
        """Several answers to one prompt (see ``compare_answers``), streamed as ``compare_step``."""
        self._serve(request.request_id, lambda engine, session: self._compare(engine, session, request))

    def _compare(self, engine: Engine, session: Session, request: CompareRequest) -> None:
        template = template_for(engine, self._override, plain=request.plain)
        prompt = chat_prompt(engine, request.messages, template=template)
        result = compare_answers(
            session,
            prompt.tokens,
            request.settings,
            request.answers,
            max_tokens=request.max_tokens,
            stop=template.stop_strings,
            on_step=lambda i, step: self.emit("compare_step", CompareStep(request.request_id, i, step)),
            cancel=session.cancel_event,
        )
        self._previous = ()
        self.emit("compared", request.request_id, result)

    def redistribute(self, position: int, settings: SamplerSettings, generation: int | None = None) -> None:
        """Re-run the sampler on a stored step with new settings (no model call); ``generation``: the
        step's, so that a step of an earlier reply is not re-run on the logits a later one left there."""
        if self.session is None:
            return
        try:
            d = self.session.redistribute(position, settings, generation=generation)
        except (KeyError, ValueError):  # that step's logits are no longer kept
            return
        d.materialize()  # here, not where it is shown
        self.emit("redistributed", position, d)

    def stats(self) -> None:
        """How much the engine has decoded (lets a test prove that a slider re-run calls no model)."""
        engine = self.engine
        self.emit(
            "stats",
            {
                "evaluated_tokens": engine.evaluated_tokens if engine else 0,
                "full_reevaluations": engine.full_reevaluations if engine else 0,
                "cached_tokens": len(engine.kv_tokens) if engine else 0,
            },
        )

    # --- serving the model to other programs -----------------------------------------------------
    def serve(self, options: object) -> None:
        """Serve the loaded model over HTTP (``options``: what ``serve_with`` takes: the address, the key,
        the limits); ``serving`` says where, or ``serve_failed`` why not."""
        if self.engine is None:
            self.emit("serve_failed", NO_MODEL)
            return
        if self._serve_with is None:
            self.emit("serve_failed", "this engine cannot serve the model")
            return
        self.stop_serving()
        try:
            self._hosted = self._serve_with(self.engine, self.turns, self.emit, options)
        except Exception as exc:  # a port in use, an address that is not this machine's: a sentence
            log.warning("serving the model failed: %s", exc)
            self.emit("serve_failed", str(exc))
            return
        self._hosted.project(self._projecting)
        self.emit("serving", self._hosted.address)

    def project(self, on: bool) -> None:
        """Report the served requests as they run (an ``incoming`` event, then the events of a reply, under
        a negative request id), now and whenever the model is served; safe from any thread."""
        self._projecting = bool(on)
        hosted = self._hosted
        if hosted is not None:
            hosted.project(self._projecting)

    def cancel_incoming(self, request_id: int) -> None:
        """Stop the served request reported as ``request_id`` within one token; safe from any thread."""
        hosted = self._hosted
        if hosted is not None:
            hosted.cancel_shown(request_id)

    def stop_serving(self) -> None:
        hosted, self._hosted = self._hosted, None
        if hosted is not None:
            hosted.stop()
            self.emit("serving", None)

    def close(self) -> None:
        self.unload()
