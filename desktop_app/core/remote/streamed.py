"""A reply sampled on the server, as it streams (:meth:`RemoteSession.stream`): llama-server's native
``/completion``, or an OpenAI-compatible ``/v1/chat/completions`` (a chat the server formats) or
``/v1/completions`` (a prompt), each token with the candidates the server reports for it.

llama-server holds back a token that ends inside a character and sends it with the next one as one event:
the probabilities of the first are not sent, and the event's bytes are the whole character's. A streamed
reply there has fewer steps than tokens where characters span tokens (Chinese on a small vocabulary); a
reply step by step (:class:`RemoteGeneration`) has every one."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from desktop_app.core.engine.session import (
    STOP_CANCELLED,
    STOP_EOG,
    STOP_MAX_TOKENS,
    STOP_STRING,
    GenerationResult,
    Step,
)
from desktop_app.core.engine.tokens import TextAssembler, TokenView
from desktop_app.core.remote.connection import RemoteError
from desktop_app.core.remote.reported import Reported, judge
from desktop_app.core.sampler_settings import SamplerSettings

if TYPE_CHECKING:
    from desktop_app.core.remote.remote_session import RemotePrompt, RemoteSession

#: What the servers' finish reasons mean in TokenDice's stop reasons (OpenAI's "stop" is the end token or
#: a stop string).
_STOPS = {
    "stop": STOP_EOG,
    "eos": STOP_EOG,
    "length": STOP_MAX_TOKENS,
    "limit": STOP_MAX_TOKENS,
    "word": STOP_STRING,
}


class StreamedReply:
    """Iterate for the steps; ``result`` holds the reply when done, kept up to the last token even when
    the stream is cut (the error is raised after the steps that arrived)."""

    def __init__(self, session: RemoteSession, settings: SamplerSettings, events: Iterator[dict], kind: str,
                 n_prompt: int) -> None:  # fmt: skip
        self.session, self.settings, self.kind = session, settings, kind
        self._events = events
        self.seed = settings.seed
        # The server applied the repeat penalty itself; the stages shown over what it reports leave it out.
        self._judging = settings.replace(repeat_penalty=1.0)
        self._assembler = TextAssembler()  # a native token's bytes may end mid-character
        self.result = GenerationResult(prompt_tokens=n_prompt)
        self.timings: dict[str, Any] | None = None  # the server's own (llama-server's last event)

    def __iter__(self) -> Iterator[Step]:
        session, r = self.session, self.result
        session.cancel_event.clear()
        started = time.perf_counter()
        try:
            for event in self._events:
                if isinstance(event.get("timings"), dict):
                    self.timings = event["timings"]
                for step, finish in self._steps(event):
                    if step is not None:
                        r.steps.append(step)
                        r.text += step.text
                        yield step
                    if finish:
                        r.stop_reason = _STOPS.get(finish, finish)
                if session.cancel_event.is_set():
                    r.stop_reason = STOP_CANCELLED
                    break
        finally:
            r.text += self._assembler.finish()  # a character the reply ended inside, as its bytes
            r.decode_ms = (time.perf_counter() - started) * 1000
            close = getattr(self._events, "close", None)
            if close is not None:
                close()  # closing the stream stops the reply on the server
        if not r.stop_reason:
            r.stop_reason = STOP_MAX_TOKENS

    def _steps(self, event: dict) -> Iterator[tuple[Step | None, str | None]]:
        if self.kind == "native":
            yield from self._native(event)
        else:
            yield from self._openai(event)

    def _native(self, event: dict) -> Iterator[tuple[Step | None, str | None]]:
        probs = event.get("completion_probabilities") or []
        finish = event.get("stop_type") if event.get("stop") else None
        if finish == "none":
            finish = None
        if not probs and event.get("content"):
            raise RemoteError("The server streamed a token without its probabilities.", kind="malformed")
        eog = self.session.info.eog_ids
        for i, p in enumerate(probs):
            rep = self.session._native_candidates(p.get("top_logprobs"))
            token = int(p["id"])
            piece = self.session._special_or(token, bytes(p.get("bytes") or str(p.get("token", "")).encode()))
            text = "" if token in eog else self._assembler.feed(piece)
            yield self._step(rep, token, piece, text), finish if i == len(probs) - 1 else None
        if not probs and finish:
            yield None, finish

    def _openai(self, event: dict) -> Iterator[tuple[Step | None, str | None]]:
        choices = event.get("choices") or [{}]
        choice = choices[0] if isinstance(choices[0], dict) else {}
        finish = choice.get("finish_reason")
        logprobs = choice.get("logprobs") or {}
        session = self.session
        entries: list[tuple[str, Any]] = []
        if isinstance(logprobs.get("content"), list):  # chat completions
            entries = [(str(c.get("token", "")), c.get("top_logprobs") or [c]) for c in logprobs["content"]]
        elif isinstance(logprobs.get("tokens"), list):  # completions
            tops = logprobs.get("top_logprobs") or [{}] * len(logprobs["tokens"])
            lps = logprobs.get("token_logprobs") or [None] * len(logprobs["tokens"])
            entries = [
                (str(t), top or {str(t): lp})
                for t, top, lp in zip(logprobs["tokens"], tops, lps, strict=False)
            ]
        text = (choice.get("delta") or {}).get("content") if "delta" in choice else choice.get("text")
        if not entries and text:
            raise RemoteError("The server streamed a token without its probabilities.", kind="malformed")
        for i, (token_text, top) in enumerate(entries):
            rep = session._text_candidates(top)
            step = self._step(rep, session.text_id(token_text), token_text.encode(), token_text)
            yield step, finish if i == len(entries) - 1 else None
        if not entries and finish:
            yield None, finish

    def _step(self, rep: Reported, token: int, piece: bytes, text: str) -> Step:
        info = self.session.info
        judged = judge(rep, self._judging, eog_ids=info.eog_ids, n_vocab=info.n_vocab or 0)
        d = judged.distribution(token, settings=self.settings, u=None, n_vocab=info.n_vocab or 0,
                                greedy=self.settings.greedy)  # fmt: skip  # the server rolled, unseen
        end = token in info.eog_ids
        position = self.result.prompt_tokens + len(self.result.steps)  # as the local Session counts
        return Step(position, TokenView(token, piece, end), "" if end else text, d, end=end)


def stream_reply(
    session: RemoteSession,
    settings: SamplerSettings,
    *,
    prompt: RemotePrompt | None,
    messages: Sequence[dict] | None,
    max_tokens: int,
    stop: Sequence[str],
    top_n: int,
) -> StreamedReply:
    info = session.info
    want = max(1, min(top_n, info.max_candidates))
    sampling = _sampling(settings, native=info.native)
    if info.native:
        if prompt is None:
            assert messages is not None
            prompt = session.prompt(session.render(messages), chat=True)
        assert prompt.tokens is not None
        body = session._body(prompt=list(prompt.tokens), n_predict=max_tokens, n_probs=want, stream=True,
                             stop=list(stop), return_tokens=True, cache_prompt=True, **sampling)  # fmt: skip
        return StreamedReply(session, settings, session.conn.stream("/completion", body), "native",
                             len(prompt.tokens))  # fmt: skip
    common = {"max_tokens": max_tokens, "stream": True, **({"stop": list(stop)} if stop else {}), **sampling}
    if messages is not None:
        body = session._body(messages=list(messages), logprobs=True, top_logprobs=want, **common)
        return StreamedReply(
            session, settings, session.conn.stream("/v1/chat/completions", body), "openai", 0
        )
    assert prompt is not None
    body = session._body(prompt=prompt.text, logprobs=want, **common)
    return StreamedReply(session, settings, session.conn.stream("/v1/completions", body), "openai", 0)


def _sampling(s: SamplerSettings, *, native: bool) -> dict[str, Any]:
    """TokenDice's settings in the server's words (OpenAI's names, plus llama.cpp's top_k, min_p and
    repeat penalty, which vLLM, SGLang and llama-cpp-python's server read too)."""
    out: dict[str, Any] = {
        "temperature": s.temperature,
        "top_p": s.top_p,
        "top_k": max(0, s.top_k),
        "min_p": s.min_p,
        "frequency_penalty": s.frequency_penalty,
        "presence_penalty": s.presence_penalty,
        "repeat_penalty": s.repeat_penalty,
    }
    if s.seed is not None:
        out["seed"] = s.seed
    if native:
        out["repeat_last_n"] = s.repeat_last_n
        out["ignore_eos"] = s.ban_eos
    return out
