"""A model on an OpenAI-compatible server: llama-cpp-python's own server, started on loopback with the
real SmolLM2, driven through TokenDice's remote core and its command line."""

from __future__ import annotations

import json

import pytest

from desktop_app.core.engine.engine import Engine, EngineConfig
from desktop_app.core.engine.session import Session
from desktop_app.core.remote.connection import Connection, RemoteError, ServerAddress
from desktop_app.core.remote.remote_session import RemotePrompt, RemoteSession
from desktop_app.core.remote.server_info import OPENAI, probe
from desktop_app.core.sampler_settings import SamplerSettings
from tests.helpers import run_cli
from tests.model_servers import free_port, llama_cpp_server

PROMPT = "The capital of France is"
RAW = SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)


@pytest.fixture(scope="module")
def server(smollm2_path, tmp_path_factory):
    with llama_cpp_server(smollm2_path, tmp_path_factory.mktemp("server")) as s:
        yield s


@pytest.fixture
def session(server):
    conn = Connection(ServerAddress(server.url))
    yield RemoteSession(conn, probe(conn))
    conn.close()


def test_the_server_is_probed_and_what_it_cannot_give_is_named(session):
    info = session.info
    assert info.kind == OPENAI and not info.native
    assert info.models and info.model is None  # its only model
    assert info.max_candidates >= 20
    assert "step" in info.missing and "ids" in info.missing["step"]
    with pytest.raises(RemoteError, match="not their ids") as caught:
        session.tokenize("hello")
    assert caught.value.kind == "unsupported"


def test_the_remote_probabilities_equal_the_local_engine_s(session, smollm2_path):
    rep = session.reported(RemotePrompt(PROMPT), top_n=10)
    with Engine(smollm2_path, EngineConfig(n_ctx=2048, n_batch=256)) as engine:
        tokens = engine.tokenize(PROMPT, add_bos=engine.add_bos, special=False)
        local = Session(engine).distribution_now(tokens, RAW, top_n=10)
        local_top = [
            (engine.piece(int(t)), float(p)) for t, p in zip(local.candidates, local.p_raw, strict=False)
        ]
    remote_top = list(zip(rep.pieces, rep.p.tolist(), strict=True))
    assert [piece for piece, _ in remote_top[:5]] == [piece for piece, _ in local_top[:5]]
    for (piece, p), (_, q) in zip(remote_top[:5], local_top[:5], strict=True):
        assert abs(p - q) <= 1e-3, (piece, p, q)
    # The server computes every position's logits (logits_all) and the engine the last one's, and a build
    # may repack the weights for its CPU or not: kernels that move each probability by up to 1e-3 (as
    # above), and the ten of them add up in the rest (2.2e-3 apart on one build).
    assert rep.rest == pytest.approx(1 - sum(q for _, q in local_top), abs=5e-3)


def test_a_chat_reply_streams_with_the_candidates_of_each_token(session):
    reply = session.stream(
        SamplerSettings(seed=7, temperature=0.7),
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=12,
        top_n=5,
    )
    steps = list(reply)
    assert 1 <= len(steps) <= 12
    assert reply.result.text == "".join(s.text for s in steps)
    assert reply.result.stop_reason in ("eog", "max_tokens")
    for step in steps:
        d = step.distribution
        assert 1 <= len(d.candidates) <= 6 and d.candidates[d.chosen_index] == step.token.id
        assert 0 <= d.rest_p_raw < 1


def test_a_cancelled_stream_keeps_what_arrived_and_says_so(session):
    reply = session.stream(SamplerSettings(seed=1), prompt=RemotePrompt("Once upon a time"), max_tokens=200)
    got = []
    for step in reply:
        got.append(step)
        if len(got) == 3:
            session.cancel()
    assert reply.result.stop_reason == "cancelled" and len(reply.result.steps) == 3


def test_a_model_the_server_does_not_serve_is_named_with_those_it_does(server):
    with (
        Connection(ServerAddress(server.url)) as conn,
        pytest.raises(RemoteError, match="it serves") as caught,
    ):
        probe(conn, "no-such-model")
    assert caught.value.kind == "not_found"


def test_nothing_listening_is_one_sentence():
    with (
        Connection(ServerAddress(f"http://127.0.0.1:{free_port()}")) as conn,
        pytest.raises(RemoteError) as caught,
    ):
        probe(conn)
    assert caught.value.kind == "unreachable" and "is the server running" in str(caught.value)


def test_a_wrong_api_key_is_refused_with_a_sentence(smollm2_path, tmp_path):
    with llama_cpp_server(smollm2_path, tmp_path, api_key="sesame") as server:
        for key in (None, "wrong"):
            with Connection(ServerAddress(server.url, key)) as conn, pytest.raises(RemoteError) as caught:
                probe(conn)
            assert caught.value.kind == "auth" and caught.value.status == 401
            assert ("no API key" if key is None else "refused") in str(caught.value)
        with Connection(ServerAddress(server.url, "sesame")) as conn:
            assert probe(conn).models


def test_a_server_killed_mid_reply_keeps_the_tokens_that_came(smollm2_path, tmp_path):
    with llama_cpp_server(smollm2_path, tmp_path) as server:
        conn = Connection(ServerAddress(server.url))
        session = RemoteSession(conn, probe(conn))
        reply = session.stream(
            SamplerSettings(seed=3, ban_eos=True), prompt=RemotePrompt("Once upon a time"), max_tokens=400
        )
        got = []
        with pytest.raises(RemoteError) as caught:
            for step in reply:
                got.append(step)
                if len(got) == 4:
                    server.kill()
        conn.close()
    assert caught.value.kind == "cut" and "cut" in str(caught.value)
    assert len(reply.result.steps) >= 4 and reply.result.text.startswith("".join(s.text for s in got[:4]))


def test_the_command_line_on_a_server(server):
    done = run_cli(["probs", "--server", server.url, PROMPT, "--top", "5", "--json", "--seed", "1"])
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["server_kind"] == OPENAI and len(data["candidates"]) == 5
    assert data["candidates"][0]["piece"] == " Paris"
    assert data["candidates"][0]["id"] is None  # this server names tokens, it does not number them
    assert 0 < data["rest_p_raw"] < 1

    done = run_cli(
        ["generate", "--server", server.url, "--chat", "Hi!", "--max-tokens", "6", "--json", "--seed", "2"]
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["text"] == "".join(t["text"] for t in data["tokens"]) and len(data["tokens"]) <= 6
    assert all(0 < t["p_raw"] <= 1 for t in data["tokens"] if t["p_raw"] is not None)

    done = run_cli(["probs", "--server", server.url, "--model", "default", "x"])
    assert done.returncode == 1 and "--model" in done.stderr and "Traceback" not in done.stderr
    done = run_cli(["probs", "--server", server.url, "--repeat-penalty", "1.2", "x"])
    assert done.returncode == 1 and "repeat penalty" in done.stderr and "Traceback" not in done.stderr
    done = run_cli(["generate", "--server", server.url, "--wait", "2", "x"])
    assert done.returncode == 1 and "--wait needs llama-server" in done.stderr
    done = run_cli(["generate", "--step-by-step", "x"])
    assert done.returncode == 1 and "--server" in done.stderr
    done = run_cli(["tokens", "--server", server.url, "x"])
    assert done.returncode == 1 and "ids" in done.stderr and "Traceback" not in done.stderr
    done = run_cli(["probs", "--server", "ftp://nowhere", "x"])
    assert done.returncode == 1 and "not a server address" in done.stderr
