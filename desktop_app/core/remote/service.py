"""The app's requests answered over a model on llama-server: the same requests and events as the local
``EngineService`` (see ``Backend`` in :mod:`desktop_app.core.engine.backend`), so a conversation (and
later the window) drives a server as it drives a local model.

The prompt is TokenDice's own rendering of the server's chat template (so the template inspector can say
where every character came from), tokenized by the server; every token of a reply is one request with
TokenDice's die (:class:`RemoteGeneration`), so step mode, branching at a token, " Wait" and slider
re-runs work as they do locally. Only llama-server's native API gives what that needs (token ids, its
tokenizer and template): any other server is refused on connect, with the reason.
"""

from __future__ import annotations

import logging

from desktop_app.core.engine.chat import ChatPrompt
from desktop_app.core.engine.chat_template import (
    GGUF_TEMPLATE_KEY,
    PLAIN_TEMPLATE,
    ChatTemplate,
    TemplateError,
)
from desktop_app.core.engine.compare import compare_answers
from desktop_app.core.engine.messages import (
    NO_MODEL,
    CompareRequest,
    CompareStep,
    FinishedEvent,
    GenerateRequest,
    LoadedModel,
    PromptEvent,
    StepEvent,
    portable,
    saved_tokens,
)
from desktop_app.core.engine.prompt_tokens import tokenize_segments
from desktop_app.core.remote.connection import Connection, RemoteError
from desktop_app.core.remote.load_request import ServerLoadRequest, server_model_id
from desktop_app.core.remote.remote_session import RemotePrompt, RemoteSession
from desktop_app.core.remote.server_info import NO_TEMPLATE, probe
from desktop_app.core.sampler_settings import SamplerSettings

log = logging.getLogger(__name__)

#: The stop reason of a reply the server stopped answering (the tokens that came are kept).
STOP_SERVER_FAILED = "server_failed"
NO_COMPARE = (
    "comparing answers needs TokenDice's die on token ids, which an OpenAI-compatible server does not give: "
    "use llama-server or a local model"
)
#: Where the chat template of an OpenAI-compatible server's model is: on the server, unseen.
SERVER_ORIGIN = "server"
NEEDS_DIE = (
    "this server is OpenAI-compatible: it samples every token itself and names tokens by their text, so "
    'step mode, picking or branching at a token and " Wait" need llama-server\'s native API; chat with '
    "them off"
)

NO_THINK_FORCING = (
    'the thinking budget and " Wait" at the end of thinking work on a model loaded here, not on a server: '
    "set them to off to chat with this one"
)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


class ServerVocabulary:
    """The pieces of a server's model that the app has seen (every reported candidate, every token
    the server split a prompt into): the window's labels. It grows as steps come; a token not yet seen
    has no piece (its id is shown)."""

    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def __len__(self) -> int:
        return self._session.info.n_vocab or 0

    def piece(self, token: int) -> bytes:
        return self._session.known_piece(token) or b""


class RemoteService:
    """Answers requests over one server's model; every result and failure goes out through ``emit``.
    One thread calls the request methods; :meth:`cancel` is safe from any thread."""

    def __init__(self, emit) -> None:
        self.emit = emit
        self.session: RemoteSession | None = None
        self._override: str | None = None
        self._previous: tuple[int, ...] = ()

    # --- the model ---------------------------------------------------------------------------------
    def probe(self) -> None:
        """Nothing to probe on this machine: the server's devices are its own."""

    def load(self, request: ServerLoadRequest) -> None:
        self.emit("busy", True)
        try:
            self._load(request)
        finally:
            self.emit("busy", False)

    def _load(self, request: ServerLoadRequest) -> None:
        conn = Connection(request.address)
        try:
            info = probe(conn, request.model)
        except RemoteError as exc:
            conn.close()
            self.emit("load_failed", str(exc))
            return
        self.close_session()
        self.session = RemoteSession(conn, info)
        self._previous = ()
        self._override = request.template_override
        if not info.native:  # the server formats the chat with a template it does not show
            source, origin = "", SERVER_ORIGIN
        else:
            try:
                template = self._template(plain=False)
            except TemplateError:  # a broken saved override: the inspector shows its error
                self._override = None
                template = self._template(plain=False)
                self._override = request.template_override
            source, origin = template.source_text, template.origin
        base = request.address.base
        self.emit(
            "loaded",
            LoadedModel(
                model_id=server_model_id(base, info.model or (info.models[0] if info.models else None)),
                display_name=f"{info.model_name} @ {base}",
                path=None,
                n_ctx=info.n_ctx or 0,
                n_vocab=info.n_vocab or 0,
                eog_ids=info.eog_ids,
                report=None,
                template_source=source,
                template_origin=origin,
                has_template=bool(info.chat_template),
                vocab=ServerVocabulary(self.session),
                server=base,
                unavailable=tuple(info.missing.items()),
            ),
        )

    def set_template_override(self, override: object) -> None:
        self._override = override if isinstance(override, str) else None

    def unload(self) -> None:
        self.close_session()
        self.emit("unloaded")

    def close_session(self) -> None:
        if self.session is not None:
            self.session.conn.close()
        self.session = None

    def close(self) -> None:
        self.unload()

    def cancel(self) -> None:
        session = self.session
        if session is not None:
            session.cancel()

    def cancel_incoming(self, request_id: int) -> None:
        """Nothing to stop: a model on a server serves no requests through this app."""

    # --- prompts -----------------------------------------------------------------------------------
    def _template(self, *, plain: bool) -> ChatTemplate:
        assert self.session is not None
        info = self.session.info
        return ChatTemplate.for_model(
            {GGUF_TEMPLATE_KEY: info.chat_template or ""},
            override=self._override,
            bos_token=info.bos_text,
            eos_token=info.eos_text,
            plain=plain,
        )

    def _prompt(self, messages: tuple[dict, ...], *, plain: bool) -> ChatPrompt:
        session = self.session
        assert session is not None
        template = self._template(plain=plain)
        rendered = template.render(messages)

        def tokenize(data: bytes, add_bos: bool, special: bool) -> list[int]:
            return session.tokenize(data.decode("utf-8", "replace"), special=special, add_bos=add_bos)

        segments = tokenize_segments(rendered, tokenize, add_bos=session.info.add_bos)
        tokens = tuple(t for s in segments for t in s.token_ids)
        kinds = tuple(k for s in segments for k in s.token_kinds)
        n_ctx = session.info.n_ctx
        if n_ctx and len(tokens) >= n_ctx:
            raise ValueError(
                f"the conversation is {len(tokens):,} tokens long and the server's context holds {n_ctx:,}: "
                "start a new chat or delete earlier messages"
            )
        return ChatPrompt(rendered, tokens, kinds, template)

    def render(self, messages: tuple[dict, ...], plain: bool = False) -> None:
        if self.session is None:
            return
        if not self.session.info.native:
            self.emit("template_failed", _sentence(NO_TEMPLATE), None)
            return
        try:
            prompt = self._prompt(messages, plain=plain)
        except TemplateError as exc:
            self.emit("template_failed", str(exc), exc.lineno)
            return
        except (RemoteError, ValueError) as exc:
            self.emit("template_failed", str(exc), None)
            return
        self.emit("rendered", PromptEvent(0, portable(prompt), self._previous))

    def tokenize(self, text: str) -> None:
        if self.session is None or not self.session.info.native:
            return  # an OpenAI-compatible server does not split text for others
        try:
            split = self.session.tokenize_pieces(text, special=False) if text else []
        except RemoteError as exc:
            log.warning("tokenizing on the server failed: %s", exc)
            return
        self.emit("tokenized", text, [t for t, _ in split], [p for _, p in split])

    # --- generation --------------------------------------------------------------------------------
    def generate(self, request: GenerateRequest) -> None:
        session = self.session
        if session is None:
            self.emit("failed", request.request_id, NO_MODEL)
            return
        if request.settings.think_wait or request.settings.think_budget:
            self.emit("failed", request.request_id, NO_THINK_FORCING)
            return
        self.emit("busy", True)
        try:
            if session.info.native:
                self._generate(session, request)
            else:
                self._stream(session, request)
        finally:
            self.emit("busy", False)

    def _generate(self, session: RemoteSession, request: GenerateRequest) -> None:
        rid = request.request_id
        try:
            prompt = self._prompt(request.messages, plain=request.plain)
        except TemplateError as exc:
            self.emit("template_failed", str(exc), exc.lineno)
            self.emit("failed", rid, str(exc))
            return
        except (RemoteError, ValueError) as exc:
            self.emit("failed", rid, str(exc))
            return
        self.emit("prompt_ready", PromptEvent(rid, portable(prompt), self._previous))
        tokens = list(prompt.tokens) + list(request.prefix)
        gen = session.generate(
            tokens,
            request.settings,
            max_tokens=request.max_tokens,
            stop=prompt.template.stop_strings,
            forced=request.forced,
            reply_start=len(prompt.tokens),
        )
        try:
            for step in gen:
                self.emit("step", StepEvent(rid, step))
        except RemoteError as exc:
            if not gen.result.steps:
                self.emit("failed", rid, str(exc))
                return
            gen.result.stop_reason = STOP_SERVER_FAILED  # what came is kept and saved
            log.warning("the server stopped a reply after %d tokens: %s", len(gen.result.steps), exc)
        except ValueError as exc:  # a setting the server's report cannot serve (the repeat penalty)
            self.emit("failed", rid, str(exc))
            return
        self._previous = tuple(prompt.tokens)
        saved = saved_tokens(gen.result.steps)
        self.emit(
            "finished", FinishedEvent(rid, gen.result, len(prompt.tokens), saved, prompt.template.origin)
        )

    def _stream(self, session: RemoteSession, request: GenerateRequest) -> None:
        """A reply sampled by an OpenAI-compatible server as it streams, each token with the candidates
        it reports: what such a server can give. What needs token ids is refused with the reason."""
        rid = request.request_id
        s = request.settings
        if request.prefix or request.forced or s.wait_count or s.ban_eos:
            self.emit("failed", rid, NEEDS_DIE)
            return
        want = session.info.max_candidates
        if request.plain:
            text = ChatTemplate(PLAIN_TEMPLATE, origin="plain").render(list(request.messages)).text
            reply = session.stream(s, prompt=RemotePrompt(text), max_tokens=request.max_tokens, top_n=want)
        else:
            reply = session.stream(s, messages=request.messages, max_tokens=request.max_tokens, top_n=want)
        result = reply.result
        try:
            for step in reply:
                self.emit("step", StepEvent(rid, step))
        except RemoteError as exc:
            if not result.steps:
                self.emit("failed", rid, str(exc))
                return
            result.stop_reason = STOP_SERVER_FAILED
            log.warning("the server stopped a reply after %d tokens: %s", len(result.steps), exc)
        self._previous = ()
        saved = saved_tokens(result.steps)
        self.emit("finished", FinishedEvent(rid, result, result.prompt_tokens, saved, SERVER_ORIGIN))

    def redistribute(self, position: int, settings: SamplerSettings, generation: int | None = None) -> None:
        """Re-run TokenDice's stages on a kept step's report with new settings (no request)."""
        if self.session is None:
            return
        try:
            d = self.session.redistribute(position, settings, generation=generation)
        except (KeyError, ValueError):
            return
        self.emit("redistributed", position, d)

    def compare(self, request: CompareRequest) -> None:
        """Several answers to one prompt, each token one request with TokenDice's die (llama-server)."""
        session, rid = self.session, request.request_id
        if session is None:
            self.emit("failed", rid, NO_MODEL)
            return
        if not session.info.native:
            self.emit("failed", rid, NO_COMPARE)
            return
        self.emit("busy", True)
        try:
            prompt = self._prompt(request.messages, plain=request.plain)
            result = compare_answers(
                session,
                prompt.tokens,
                request.settings,
                request.answers,
                max_tokens=request.max_tokens,
                stop=prompt.template.stop_strings,
                on_step=lambda i, step: self.emit("compare_step", CompareStep(rid, i, step)),
                cancel=session.cancel_event,
            )
        except TemplateError as exc:
            self.emit("template_failed", str(exc), exc.lineno)
            self.emit("failed", rid, str(exc))
        except (RemoteError, ValueError) as exc:
            self.emit("failed", rid, str(exc))
        else:
            self._previous = ()
            self.emit("compared", rid, result)
        finally:
            self.emit("busy", False)

    def stats(self) -> None:
        self.emit("stats", {"evaluated_tokens": 0, "full_reevaluations": 0, "cached_tokens": 0})
