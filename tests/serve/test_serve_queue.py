"""The served model's one queue: many clients at once each get their answer, one at a time on the engine,
first come first served; a client that goes away mid-stream gives the engine back at once."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx2
import pytest

from tests.serve.serving import BUNDLED_ID, Served, sse, wait_until

LONG_CHAT = "Write a very long story about a dragon who learns to bake bread."
CLIENTS = 8
#: How long a request may wait beyond the requests ahead of it (its own prompt included) on an idle
#: machine. On a busy one (other tests' models on the same cores) llama.cpp's threads stall now and then,
#: the prompt's as much as a token's, so the allowance grows with the slowest token (:func:`allowance`).
SLACK_S = 1.0
#: How far apart two clients' clocks of one moment may read: each client's thread notes when it *read*
#: a chunk, a few milliseconds after the server sent it.
JITTER_S = 0.1


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


@dataclass
class Timed:
    """When a streamed reply's tokens arrived, and how it ended."""

    token_at: list[float] = field(default_factory=list)
    finish: str | None = None
    error: BaseException | None = None


def _stream_chat(url: str, body: dict, timed: Timed) -> None:
    try:
        with httpx2.Client(timeout=120) as http, http.stream("POST", url + "/v1/chat/completions",
                                                           json=body) as answer:  # fmt: skip
            assert answer.status_code == 200, answer.read()
            for chunk in sse(answer):
                choice = chunk["choices"][0] if chunk["choices"] else {}
                if (choice.get("logprobs") or {}).get("content"):
                    timed.token_at.append(time.monotonic())
                if choice.get("finish_reason"):
                    timed.finish = choice["finish_reason"]
    except BaseException as exc:  # the test's thread reads it
        timed.error = exc


def allowance(*replies: Timed) -> float:
    """:data:`SLACK_S`, plus five times the longest wait between two tokens of these replies."""
    gaps = [b - a for r in replies for a, b in zip(r.token_at, r.token_at[1:], strict=False)]
    return SLACK_S + 5 * max(gaps, default=0.0)


def _body(text: str, max_tokens: int) -> dict:
    return {"model": BUNDLED_ID, "messages": user(text), "max_tokens": max_tokens, "temperature": 0,
            "stream": True, "logprobs": True}  # fmt: skip


@pytest.mark.slow
def test_eight_clients_at_once_are_served_one_at_a_time_in_the_order_they_came(served: Served):
    blocker = Timed()
    blocker_thread = threading.Thread(target=_stream_chat, args=(served.url, _body(LONG_CHAT, 200), blocker))
    blocker_thread.start()
    wait_until(lambda: served.health()["running"] == 1, 10, "the first request runs")

    clients = [Timed() for _ in range(CLIENTS)]
    threads = [
        threading.Thread(
            target=_stream_chat, args=(served.url, _body(f"Say the number {i}.", 12), clients[i])
        )
        for i in range(CLIENTS)
    ]
    seen_waiting = []
    for i, thread in enumerate(threads):
        thread.start()  # each one after the one before is in the queue: the order they came is known
        wait_until(lambda i=i: served.health()["waiting"] == i + 1, 5, f"client {i} waits behind {i} others")
        seen_waiting.append(i + 1)
    assert not blocker.finish, "the first request ended before every client was queued: make it longer"

    while any(t.is_alive() for t in threads):
        health = served.health()
        assert health["running"] in (0, 1) and health["waiting"] <= CLIENTS, health
        time.sleep(0.02)
    blocker_thread.join(60)
    for thread in threads:
        thread.join(60)

    for i, c in enumerate([blocker, *clients]):
        assert c.error is None, (i, c.error)
        assert c.token_at and c.finish in ("length", "stop"), (i, c)
    starts = [c.token_at[0] for c in clients]
    ends = [c.token_at[-1] for c in [blocker, *clients]]
    assert starts == sorted(starts), "the clients did not start in the order they came"
    slack = allowance(*clients)
    for i, start in enumerate(starts):
        ahead_ended = ends[i]  # the one before it: the blocker for client 0
        assert start >= ahead_ended - JITTER_S, f"client {i} started before the one ahead of it ended"
        waited = start - ahead_ended
        assert waited <= slack, f"client {i} waited {waited:.2f} s beyond the one ahead of it ({slack:.2f} s)"
    # The engine marks itself free just after it hands over an answer's end: a client may read it first.
    wait_until(lambda: served.health()["running"] == 0, 2, "the engine is free after the last answer")
    assert served.health() | {"model": None} == {"status": "ok", "model": None, "running": 0, "waiting": 0}


def _long_request(path: str) -> dict:
    if path == "/completion":  # llama-server's: the end token ignored, so it cannot end by itself
        return {"prompt": "Once upon a time", "n_predict": 2000, "ignore_eos": True, "stream": True,
                "n_probs": 3}  # fmt: skip
    if path == "/v1/completions":
        return {"model": BUNDLED_ID, "prompt": "Once upon a time", "max_tokens": 2000, "temperature": 0,
                "stream": True, "logprobs": 3}  # fmt: skip
    return _body(LONG_CHAT, 2000)


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/completions", "/completion"])
def test_a_client_that_goes_away_mid_stream_frees_the_engine(served: Served, path: str):
    with httpx2.Client(timeout=60) as http, http.stream("POST", served.url + path,
                                                       json=_long_request(path)) as answer:  # fmt: skip
        assert answer.status_code == 200, answer.read()
        events = sse(answer)
        for _ in range(4):
            next(events)
        assert served.health()["running"] == 1
        answer.close()  # mid-stream: the connection goes
    took = wait_until(lambda: served.health()["running"] == 0, 5, "the engine is free")
    assert took <= 2.0, f"the engine was still busy {took:.2f} s after the client went away"
    assert served.health()["waiting"] == 0


def test_the_next_request_starts_within_a_second_of_a_client_going_away(served: Served):
    waiting = Timed()
    with httpx2.Client(timeout=60) as http, http.stream("POST", served.url + "/v1/chat/completions",
                                                       json=_body(LONG_CHAT, 2000)) as answer:  # fmt: skip
        assert answer.status_code == 200, answer.read()
        events = sse(answer)
        for _ in range(4):
            next(events)
        thread = threading.Thread(target=_stream_chat, args=(served.url, _body("Hi!", 8), waiting))
        thread.start()
        wait_until(lambda: served.health()["waiting"] == 1, 5, "the second request waits")
        answer.close()
    # Out of the queue is on the engine: when it starts, not when its prompt is read (a busy machine's
    # pace).
    took = wait_until(lambda: served.health()["waiting"] == 0, 10, "the waiting request starts")
    assert took <= 2.0, f"the waiting request started {took:.2f} s after the first client went"
    thread.join(60)
    assert waiting.error is None and waiting.finish in ("length", "stop") and waiting.token_at, waiting
    wait_until(lambda: served.health()["running"] == 0, 5, "the engine is free again")
