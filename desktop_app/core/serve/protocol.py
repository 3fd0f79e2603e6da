"""What the served API reads and writes, apart from HTTP: the sampling fields of a request (OpenAI's names
with llama-server's additions and defaults), the errors in OpenAI's shape, a token's log-probabilities and
TokenDice's own data about it, and the bridge from the engine's thread to a request's coroutine."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from desktop_app.core.engine.session import (
    STOP_CANCELLED,
    STOP_CONTEXT_FULL,
    STOP_EOG,
    STOP_MAX_TOKENS,
    STOP_STRING,
    Step,
)
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.serve.worker import Failed, Finished, Job, Picked, QueueFull, ServeWorker

#: How a reply ended, in OpenAI's words.
FINISH = {
    STOP_EOG: "stop",
    STOP_STRING: "stop",
    STOP_CANCELLED: "stop",
    STOP_MAX_TOKENS: "length",
    STOP_CONTEXT_FULL: "length",
}
DEFAULT_MAX_TOKENS = 256


class ApiError(Exception):
    """A request the API refuses: the HTTP status and OpenAI's error fields."""

    def __init__(self, status: int, message: str, *, code: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param

    @property
    def kind(self) -> str:
        return {
            400: "invalid_request_error",
            401: "authentication_error",
            404: "invalid_request_error",
            413: "invalid_request_error",
            429: "rate_limit_error",
        }.get(self.status, "server_error")

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


def bad(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, message, code="invalid_request", param=param)


# --- a request's fields -----------------------------------------------------------------------------
def _number(body: Mapping[str, Any], name: str, *, whole: bool = False) -> float | int | None:
    value = body.get(name)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (whole and not isinstance(value, int))
    ):
        raise bad(f"{name} must be {'a whole number' if whole else 'a number'}, not {value!r}", name)
    if isinstance(value, float) and not math.isfinite(value):
        raise bad(f"{name} must be a finite number", name)
    return value


@dataclass(frozen=True)
class Sampling:
    settings: SamplerSettings
    max_tokens: int
    stop: tuple[str, ...]


def sampling(
    body: Mapping[str, Any], *, n_ctx: int, max_tokens_names: tuple[str, ...] = ("max_tokens",)
) -> Sampling:
    """The sampler settings, the length and the stop strings of a request; llama-server's defaults
    where a field is absent. A wrong field is a 400 that names it."""
    changes: dict[str, Any] = {}
    for name in ("temperature", "top_p", "min_p", "frequency_penalty", "presence_penalty", "repeat_penalty"):
        value = _number(body, name)
        if value is not None:
            changes[name] = float(value)
    for name in ("top_k", "repeat_last_n", "seed"):
        value = _number(body, name, whole=True)
        if value is not None:
            changes[name] = int(value)
    if body.get("ignore_eos") is not None:
        if not isinstance(body["ignore_eos"], bool):
            raise bad("ignore_eos must be true or false", "ignore_eos")
        changes["ban_eos"] = body["ignore_eos"]
    if "seed" in changes and changes["seed"] < 0:  # llama-server's -1: a random seed
        changes["seed"] = None
    try:
        settings = SamplerSettings().replace(**changes)
    except ValueError as exc:
        raise bad(str(exc).rstrip(".")) from None
    max_tokens: int | None = None
    for name in max_tokens_names:
        value = _number(body, name, whole=True)
        if value is not None:
            if value < 1 and not (name == "n_predict" and value == -1):
                raise bad(f"{name} must be 1 or more, not {value}", name)
            max_tokens = int(value) if value > 0 else n_ctx
            break
    stop = body.get("stop")
    if stop is None:
        stops: tuple[str, ...] = ()
    elif isinstance(stop, str):
        stops = (stop,) if stop else ()
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        stops = tuple(s for s in stop if s)
    else:
        raise bad("stop must be a string or a list of strings", "stop")
    return Sampling(settings, min(max_tokens or DEFAULT_MAX_TOKENS, n_ctx), stops)


def check_n(body: Mapping[str, Any]) -> None:
    n = _number(body, "n", whole=True)
    if n is not None and n != 1:
        raise bad("this server gives one choice per request (n = 1)", "n")


def count(body: Mapping[str, Any], name: str, cap: int) -> int:
    """A number of candidates a request asks for (0 when absent), within the server's cap."""
    value = _number(body, name, whole=True)
    if value is None:
        return 0
    if not 0 <= value <= cap:
        raise bad(f"{name} must be between 0 and {cap} on this server, not {value}", name)
    return int(value)


# --- a token's numbers ----------------------------------------------------------------------------
def ln(p: float) -> float:
    return math.log(p) if p > 0 else -9999.0  # JSON has no -inf; OpenAI's servers write -9999 too


def text_of(piece: bytes) -> str:
    return piece.decode("utf-8", errors="replace")


def top_candidates(step: Step, n: int, piece_of) -> list[tuple[int, bytes, float]]:
    """The ``n`` most likely tokens of the step, by the model's own probability: (id, bytes, p)."""
    d = step.distribution
    if d is None or n <= 0:
        return []
    ids, p = d.candidates, d.p_raw  # in the order of the model's probability
    return [(int(ids[i]), piece_of(int(ids[i])), float(p[i])) for i in range(min(n, ids.size))]


def tokendice_data(step: Step) -> dict[str, Any] | None:
    """TokenDice's own numbers for a token: its probability before and after the sampler, the roll,
    the chance to end there, and its probability after each stage."""
    d = step.distribution
    if d is None:
        return None
    i = d.chosen_index
    return {
        "id": step.token.id,
        "p_raw": float(d.p_raw[i]),
        "p_final": float(d.p_final[i]),
        "u": d.u,
        "end_p_raw": float(d.eos_p_raw),
        "end_p_final": float(d.eos_p_final),
        "stages": [{"name": s.name, "p": float(s.p[i])} for s in d.stages],
    }


def chosen_p_raw(step: Step) -> float:
    d = step.distribution
    return float(d.chosen_p_raw) if d is not None else 1.0


class StreamedText:
    """The text of a streamed reply with its stop strings kept out: text that may be the start of a stop
    string is held back until the next token says whether it is (as llama-server does); the text from a
    stop string on is never sent."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = tuple(s for s in stops if s)
        self.held = ""
        self.sent = 0  # characters sent so far (OpenAI's text_offset)
        self.stopped = False

    def feed(self, text: str) -> str:
        """What may be sent now of the reply's text so far plus ``text``."""
        if self.stopped:
            return ""
        held = self.held + text
        hits = [held.find(s) for s in self.stops if s in held]
        if hits:
            out, self.held = held[: min(hits)], ""
            self.stopped = True  # the reply stops here: nothing more is sent
            return self._sent(out)
        keep = 0
        for stop in self.stops:
            for k in range(min(len(stop) - 1, len(held)), keep, -1):
                if held.endswith(stop[:k]):
                    keep = k
                    break
        out, self.held = held[: len(held) - keep], held[len(held) - keep :]
        return self._sent(out)

    def finish(self, stop_reason: str) -> str:
        """The text still held when the reply ended (none when a stop string ended it)."""
        out, self.held = ("" if self.stopped or stop_reason == STOP_STRING else self.held), ""
        return self._sent(out)

    def _sent(self, text: str) -> str:
        self.sent += len(text)
        return text


# --- the engine's thread to a request's coroutine -------------------------------------------------
class Submitted:
    """A job queued for the engine (429 at once when the queue is full), whose deliveries a request's
    coroutine reads as they come: its steps, then Finished, Picked or Failed. :meth:`abandon` (the client
    went away) cancels it and ends the reading."""

    def __init__(self, worker: ServeWorker, job_fields: Mapping[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        self._items: asyncio.Queue[object] = asyncio.Queue()
        self._worker = worker

        def deliver(item: object) -> None:
            loop.call_soon_threadsafe(self._items.put_nowait, item)

        self.job = Job(deliver=deliver, **job_fields)
        self.done = False
        try:
            worker.submit(self.job)
        except QueueFull as exc:
            raise ApiError(429, str(exc), code="queue_full") from None

    async def items(self) -> AsyncIterator[object]:
        try:
            while not self.done:
                item = await self._items.get()
                if isinstance(item, Finished | Picked | Failed):
                    self.done = True
                yield item
        finally:
            if not self.done:  # the reader left early: the client went away
                self.abandon()

    def abandon(self) -> None:
        if not self.done:
            self._worker.cancel(self.job)
            self._items.put_nowait(Failed("the client went away", 499))
