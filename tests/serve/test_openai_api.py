"""``tokendice serve`` through the official OpenAI client: chat and text completions, streamed and not,
with log-probabilities that are the local engine's own (``tokendice probs``), seeds, limits, stop strings
and TokenDice's per-token extension."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import httpx2
import pytest

from desktop_app.core.engine.distribution import STAGE_NAMES
from tests.serve.serving import BUNDLED_ID, Served, server_env, sse, wait_until

CHAT_TEXT = "What is the capital of France?"
PLAIN_TEXT = "The capital of France is"
LONG_CHAT = "Write a very long story about a dragon who learns to bake bread."
COUNTING = "1, 2, 3, 4,"
TOKENDICE_KEYS = {"id", "p_raw", "p_final", "u", "end_p_raw", "end_p_final", "stages"}


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def local_probs(tmp_path_factory) -> dict[str, list[dict]]:
    """``tokendice probs --json --top 5`` of the chat question and of the plain prompt: the local
    engine's candidates for the first token, best first."""
    home = tmp_path_factory.mktemp("probs-home")
    out = {}
    for name, args in (("chat", ["--chat", CHAT_TEXT]), ("plain", [PLAIN_TEXT])):
        done = subprocess.run([sys.executable, "-m", "desktop_app", "probs", "--json", "--top", "5", *args],
                              capture_output=True, text=True, timeout=120, env=server_env(home))  # fmt: skip
        assert done.returncode == 0, done.stderr
        out[name] = json.loads(done.stdout)["candidates"][:5]
        assert len(out[name]) == 5
    return out


def _top_bytes(item: dict) -> bytes:
    return bytes(item["bytes"]) if item.get("bytes") is not None else item["token"].encode()


def _assert_same_candidates(top: list[dict], local: list[dict]) -> None:
    """The server's top_logprobs (OpenAI chat shape) are the local candidates, in order, p within 1e-4."""
    assert len(top) == 5, top
    for got, want in zip(top, local, strict=True):
        assert _top_bytes(got) == bytes.fromhex(want["bytes"]), (got, want)
        assert abs(math.exp(got["logprob"]) - want["p_raw"]) <= 1e-4, (got, want)


def _assert_extension(entry_logprob: float, td: dict, *, greedy: bool) -> None:
    """TokenDice's fields of one token: all there, p_raw the logprob's own, probabilities in range."""
    assert set(td) >= TOKENDICE_KEYS, td
    assert isinstance(td["id"], int) and td["id"] >= 0, td
    assert abs(td["p_raw"] - math.exp(entry_logprob)) <= 1e-6, (td, entry_logprob)
    for key in ("p_raw", "p_final", "end_p_raw", "end_p_final"):
        assert 0.0 <= td[key] <= 1.0, (key, td)
    assert td["p_final"] > 0, td  # the die picked it among the survivors
    if greedy:
        assert td["u"] is None, td
    else:
        assert 0.0 <= td["u"] < 1.0, td
    assert isinstance(td["stages"], list), td
    for stage in td["stages"]:
        assert stage["name"] in STAGE_NAMES and 0.0 <= stage["p"] <= 1.0, stage


def _detokenize(served: Served, ids: list[int]) -> str:
    answer = httpx2.post(served.url + "/detokenize", json={"tokens": ids}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["content"]


# --- the model ---------------------------------------------------------------------------------------
def test_the_bundled_model_is_served_under_its_library_id(served, client):
    assert served.model == BUNDLED_ID
    assert [m.id for m in client.models.list()] == [BUNDLED_ID]
    listing = httpx2.get(served.v1 + "/models", timeout=10).json()
    assert listing["object"] == "list"
    (model,) = listing["data"]
    assert model["id"] == BUNDLED_ID and model["object"] == "model" and model["owned_by"] == "tokendice"
    assert isinstance(model["created"], int)
    assert model["meta"] == {"n_vocab": 49152, "n_ctx": 2048}
    wait_until(lambda: served.health()["running"] == 0, 2, "the engine is free after earlier answers")
    assert served.health() == {"status": "ok", "model": BUNDLED_ID, "running": 0, "waiting": 0}


@pytest.mark.parametrize("model", ["default", BUNDLED_ID, None])
def test_the_model_may_be_named_default_or_by_its_id_or_left_out(served, model):
    body = {"messages": user("Hi"), "max_tokens": 2, "temperature": 0} | ({"model": model} if model else {})
    answer = httpx2.post(served.v1 + "/chat/completions", json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json()["model"] == BUNDLED_ID


# --- log-probabilities: the local engine's -----------------------------------------------------------
def test_chat_logprobs_are_the_local_engine_s(served, client, local_probs):
    answer = client.chat.completions.create(
        model=served.model, messages=user(CHAT_TEXT), max_tokens=3, temperature=0,
        logprobs=True, top_logprobs=5,
    )  # fmt: skip
    data = answer.model_dump()
    assert data["object"] == "chat.completion" and data["model"] == BUNDLED_ID
    choice = data["choices"][0]
    assert choice["index"] == 0 and choice["message"]["role"] == "assistant"
    entries = choice["logprobs"]["content"]
    assert len(entries) == data["usage"]["completion_tokens"] <= 3
    first = entries[0]
    _assert_same_candidates(first["top_logprobs"], local_probs["chat"])
    assert first["token"] == first["top_logprobs"][0]["token"]  # greedy: the most likely
    assert first["logprob"] == pytest.approx(first["top_logprobs"][0]["logprob"], abs=1e-9)
    assert first["tokendice"]["id"] == local_probs["chat"][0]["id"]
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_streamed_chat_logprobs_are_the_local_engine_s(served, client, local_probs):
    stream = client.chat.completions.create(
        model=served.model, messages=user(CHAT_TEXT), max_tokens=3, temperature=0,
        logprobs=True, top_logprobs=5, stream=True, stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = [c.model_dump() for c in stream]
    entries = [e for c in chunks if c["choices"] and c["choices"][0]["logprobs"]
               for e in c["choices"][0]["logprobs"]["content"]]  # fmt: skip
    assert entries, chunks
    _assert_same_candidates(entries[0]["top_logprobs"], local_probs["chat"])
    assert entries[0]["tokendice"]["id"] == local_probs["chat"][0]["id"]
    (usage,) = [c["usage"] for c in chunks if c.get("usage")]
    assert usage["completion_tokens"] == len(entries)


def test_completion_logprobs_are_the_local_engine_s(served, client, local_probs):
    answer = client.completions.create(
        model=served.model, prompt=PLAIN_TEXT, max_tokens=3, temperature=0, logprobs=5
    ).model_dump()
    lp = answer["choices"][0]["logprobs"]
    first = lp["top_logprobs"][0]
    want = {c["piece"]: c["p_raw"] for c in local_probs["plain"]}
    assert set(first) == set(want), (first, want)
    for token, logprob in first.items():
        assert abs(math.exp(logprob) - want[token]) <= 1e-4, (token, logprob, want[token])
    assert list(first) == [c["piece"] for c in local_probs["plain"]]  # the most likely first
    assert lp["tokens"][0] == local_probs["plain"][0]["piece"] == " Paris"
    assert answer["choices"][0]["text"] == "".join(lp["tokens"])


def test_streamed_completion_logprobs_are_the_local_engine_s(served, client, local_probs):
    stream = client.completions.create(
        model=served.model, prompt=PLAIN_TEXT, max_tokens=3, temperature=0, logprobs=5, stream=True
    )
    chunks = [c.model_dump() for c in stream]
    tops = [t for c in chunks if c["choices"] and c["choices"][0]["logprobs"]
            for t in c["choices"][0]["logprobs"]["top_logprobs"]]  # fmt: skip
    assert tops, chunks
    want = {c["piece"]: c["p_raw"] for c in local_probs["plain"]}
    assert set(tops[0]) == set(want), (tops[0], want)
    for token, logprob in tops[0].items():
        assert abs(math.exp(logprob) - want[token]) <= 1e-4, (token, logprob, want[token])


# --- sampling ---------------------------------------------------------------------------------------
def test_a_fixed_seed_gives_the_same_reply(served, client):
    def reply(seed: int, *, stream: bool = False) -> str:
        kwargs = dict(model=served.model, messages=user("Tell me about cats."), max_tokens=24,
                      temperature=1.0, top_p=1.0, seed=seed, extra_body={"top_k": 0})  # fmt: skip
        if stream:
            parts = client.chat.completions.create(**kwargs, stream=True)
            return "".join(c.choices[0].delta.content or "" for c in parts if c.choices)
        return client.chat.completions.create(**kwargs).choices[0].message.content

    first = reply(1234)
    assert first and reply(1234) == first
    assert reply(1234, stream=True) == first  # streamed or not, the same rolls
    assert any(reply(seed) != first for seed in (1, 2, 3)), "the seed changes nothing"


def test_max_tokens_is_respected(served, client):
    answer = client.chat.completions.create(
        model=served.model, messages=user(LONG_CHAT), max_tokens=5, temperature=0, logprobs=True
    )
    assert answer.choices[0].finish_reason == "length"
    assert answer.usage.completion_tokens == 5 and len(answer.choices[0].logprobs.content) == 5

    answer = client.chat.completions.create(
        model=served.model, messages=user(LONG_CHAT), max_completion_tokens=4, temperature=0
    )
    assert answer.choices[0].finish_reason == "length" and answer.usage.completion_tokens == 4

    text = client.completions.create(
        model=served.model, prompt=COUNTING, max_tokens=6, temperature=0, logprobs=0
    )
    assert text.choices[0].finish_reason == "length" and text.usage.completion_tokens == 6
    assert len(text.choices[0].logprobs.tokens) == 6

    stream = client.completions.create(
        model=served.model, prompt=COUNTING, max_tokens=6, temperature=0, stream=True
    )
    reasons = [c.choices[0].finish_reason for c in stream if c.choices and c.choices[0].finish_reason]
    assert reasons == ["length"]


def _greedy_count(client, served: Served) -> str:
    full = client.completions.create(model=served.model, prompt=COUNTING, max_tokens=24, temperature=0)
    text = full.choices[0].text
    assert " 7, 8" in text, text  # SmolLM2 counts on: the stop strings below are in the middle of it
    return text


def test_stop_strings_end_the_text_before_them(served, client):
    full = _greedy_count(client, served)
    expected = full[: full.index(" 7, 8")]
    for stop in ([" 7, 8", "never said"], " 7, 8", [" 8", " 7,"]):  # the earliest wins
        answer = client.completions.create(
            model=served.model, prompt=COUNTING, max_tokens=24, temperature=0, stop=stop
        )
        assert answer.choices[0].text == expected, (stop, answer.choices[0].text)
        assert answer.choices[0].finish_reason == "stop"


def test_a_streamed_reply_holds_back_what_could_be_a_stop_string(served, client):
    """The stop string " 7, 8" is five tokens: the stream must not send " 7," before it knows."""
    full = _greedy_count(client, served)
    stream = client.completions.create(
        model=served.model, prompt=COUNTING, max_tokens=24, temperature=0, stop=[" 7, 8"], stream=True
    )
    chunks = [c for c in stream if c.choices]
    assert "".join(c.choices[0].text for c in chunks) == full[: full.index(" 7, 8")]
    assert [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason] == ["stop"]


def test_a_chat_stop_string(served, client):
    full = (
        client.chat.completions.create(
            model=served.model, messages=user(LONG_CHAT), max_tokens=30, temperature=0
        )
        .choices[0]
        .message.content
    )
    words = full.split()
    stop = " " + words[len(words) // 2]
    answer = client.chat.completions.create(
        model=served.model, messages=user(LONG_CHAT), max_tokens=30, temperature=0, stop=stop
    )
    assert answer.choices[0].message.content == full[: full.index(stop)]
    assert answer.choices[0].finish_reason == "stop"


# --- TokenDice's extension --------------------------------------------------------------------------
def test_every_chat_token_carries_tokendice_s_numbers(served, client):
    answer = client.chat.completions.create(
        model=served.model, messages=user("Tell me about dogs."), max_tokens=10, temperature=0.8,
        seed=3, logprobs=True, top_logprobs=3,
    ).model_dump()  # fmt: skip
    entries = answer["choices"][0]["logprobs"]["content"]
    assert len(entries) == answer["usage"]["completion_tokens"]
    for entry in entries:
        _assert_extension(entry["logprob"], entry["tokendice"], greedy=False)
        top = [t["logprob"] for t in entry["top_logprobs"]]
        assert len(top) == 3 and top == sorted(top, reverse=True), entry
        same = [t for t in entry["top_logprobs"] if t["token"] == entry["token"]]
        if same:
            assert same[0]["logprob"] == pytest.approx(entry["logprob"], abs=1e-9)
        assert bytes(entry["bytes"]) == entry["token"].encode()
    ids = [e["tokendice"]["id"] for e in entries]
    text = answer["choices"][0]["message"]["content"]
    assert _detokenize(served, ids) == text == "".join(e["token"] for e in entries)


def test_every_completion_token_carries_tokendice_s_numbers(served, client):
    answer = client.completions.create(
        model=served.model, prompt=PLAIN_TEXT, max_tokens=8, temperature=0, logprobs=2
    ).model_dump()
    lp = answer["choices"][0]["logprobs"]
    n = len(lp["tokens"])
    assert n == answer["usage"]["completion_tokens"] == len(lp["token_logprobs"]) == len(lp["tokendice"])
    assert len(lp["top_logprobs"]) == len(lp["text_offset"]) == n
    for token, logprob, top, td in zip(lp["tokens"], lp["token_logprobs"], lp["top_logprobs"],
                                       lp["tokendice"], strict=True):  # fmt: skip
        _assert_extension(logprob, td, greedy=True)
        assert len(top) == 2 and next(iter(top)) == token, (token, top)  # greedy: the most likely
    steps = [b - a for a, b in zip(lp["text_offset"], lp["text_offset"][1:], strict=False)]
    assert steps == [len(t) for t in lp["tokens"][:-1]]
    assert _detokenize(served, [td["id"] for td in lp["tokendice"]]) == answer["choices"][0]["text"]


# --- the stream's shape -----------------------------------------------------------------------------
def test_a_streamed_chat_is_server_sent_events_in_openai_s_shape(served):
    body = {"model": BUNDLED_ID, "messages": user(LONG_CHAT), "max_tokens": 4, "temperature": 0,
            "stream": True, "stream_options": {"include_usage": True}, "logprobs": True}  # fmt: skip
    with httpx2.stream("POST", served.v1 + "/chat/completions", json=body, timeout=60) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        chunks = list(sse(answer))
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == BUNDLED_ID for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    *replies, usage = chunks[1:]
    entries = [e for c in replies if c["choices"][0].get("logprobs")
               for e in c["choices"][0]["logprobs"]["content"]]  # fmt: skip
    assert len(entries) == 4, replies
    assert [c["choices"][0]["finish_reason"] for c in replies] == [None] * (len(replies) - 1) + ["length"]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in replies) == "".join(
        e["token"] for e in entries
    )
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 4
