"""A model on llama.cpp's own llama-server (native API: token ids, tokenizer, template), started on
loopback with the real SmolLM2: TokenDice's die over the candidates it reports, one request per step."""

from __future__ import annotations

import json
import math

import pytest

from desktop_app.core.engine.chat import chat_prompt
from desktop_app.core.engine.engine import Engine, EngineConfig
from desktop_app.core.engine.session import Session
from desktop_app.core.remote.connection import Connection, RemoteError, ServerAddress
from desktop_app.core.remote.remote_session import RemoteSession
from desktop_app.core.remote.server_info import LLAMA_SERVER, probe
from desktop_app.core.sampler_settings import SamplerSettings
from tests.helpers import run_cli
from tests.model_servers import llama_server

PROMPT = "The capital of France is"
RAW = SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)
CHAT = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def server(smollm2_path, tmp_path_factory):
    with llama_server(smollm2_path, tmp_path_factory.mktemp("llama_server")) as s:
        yield s


@pytest.fixture
def session(server):
    conn = Connection(ServerAddress(server.url))
    yield RemoteSession(conn, probe(conn))
    conn.close()


@pytest.fixture(scope="module")
def engine(smollm2_path):
    with Engine(smollm2_path, EngineConfig(n_ctx=2048, n_batch=256)) as e:
        yield e


def test_llama_server_is_probed_with_everything_it_gives(session, engine):
    info = session.info
    assert info.kind == LLAMA_SERVER and info.native and not info.missing
    assert info.n_ctx == 2048 and info.n_vocab == engine.n_vocab
    assert info.eog_ids and info.eog_ids <= engine.eog_ids
    assert info.chat_template and "im_start" in info.chat_template
    assert info.max_candidates >= 50


def test_the_end_of_turn_is_labelled_with_its_text(session, engine):
    """llama-server reports a special token among the candidates with no bytes; the probe learned its text."""
    end = engine.tokenize("<|im_end|>", special=True)
    assert len(end) == 1 and session.info.special_pieces[end[0]] == b"<|im_end|>"
    chat = [
        {"role": "user", "content": "Say hi"},
        {"role": "assistant", "content": "Hello! How can I help you today?"},
    ]
    text = session.render(chat[:1]) + "Hello! How can I help you today?"
    rep = session.reported(session.prompt(text, chat=True), top_n=5)
    assert end[0] in rep.ids.tolist()  # the end of the turn is likely here
    assert rep.pieces[rep.ids.tolist().index(end[0])] == b"<|im_end|>"
    assert session.known_piece(end[0]) == b"<|im_end|>"


def test_the_prompt_and_the_template_are_the_local_engine_s(session, engine):
    assert list(session.prompt(PROMPT, chat=False).tokens) == engine.tokenize(PROMPT, add_bos=engine.add_bos)
    local = chat_prompt(engine, CHAT)
    rendered = session.render(CHAT)
    assert rendered == local.rendered.text
    assert list(session.prompt(rendered, chat=True).tokens) == list(local.tokens)


@pytest.mark.parametrize("text", ["One, two, three,", PROMPT])
def test_the_remote_probabilities_match_the_local_engine_s(session, engine, text):
    """A newer llama.cpp with other kernels: each probability within 0.02 (" Paris": 0.780 there, 0.768
    here); the order the same where the candidates are not within a hair of each other."""
    prompt = session.prompt(text, chat=False)
    rep = session.reported(prompt, top_n=10)
    local = Session(engine).distribution_now(list(prompt.tokens), RAW, top_n=10)
    local_p = dict(zip(local.candidates.tolist(), local.p_raw.tolist(), strict=True))
    for token, p in zip(rep.ids[:5].tolist(), rep.p[:5].tolist(), strict=True):
        assert abs(p - local_p[token]) <= 0.02, (engine.piece(token), p, local_p[token])
    if text != PROMPT:  # its 4th to 6th candidates are within 0.001 of each other: their order may swap
        assert rep.ids[:5].tolist() == local.candidates[:5].tolist()
    assert rep.pieces[0] == engine.piece(int(rep.ids[0]))


def test_a_reply_step_by_step_with_tokendice_s_die(session):
    prompt = session.prompt(session.render(CHAT), chat=True)
    gen = session.generate(prompt.tokens, SamplerSettings(seed=5, temperature=0.8), max_tokens=16)
    steps = list(gen)
    assert steps and gen.result.stop_reason in ("eog", "max_tokens")
    assert gen.result.text == "".join(s.text for s in steps)
    for step in steps:
        d = step.distribution
        assert d.u is not None and not d.forced
        assert d.chosen == step.token.id and d.candidates[d.chosen_index] == step.token.id
        assert d.chosen_p_final > 0  # the die picked it among the survivors
    if gen.result.stop_reason == "eog":
        assert steps[-1].end and steps[-1].token.id in session.info.eog_ids


def test_a_roll_in_the_rest_is_picked_by_the_server_among_the_tokens_it_did_not_report(session):
    prompt = session.prompt("Once upon a time", chat=False)
    judged, d, piece = session.step(prompt.tokens, RAW, u=0.9999, top_n=3)
    assert d.chosen not in judged.reported.ids.tolist()  # not one of the three it reported
    assert d.candidates[-1] == d.chosen and math.isnan(d.p_raw[-1])
    assert d.rest_p_raw == pytest.approx(judged.rest_raw) and d.rest_p_raw > 0.01
    assert piece  # its bytes, from the server


def test_a_forced_token_is_taken(session, engine):
    prompt = session.prompt(PROMPT, chat=False)
    paris = engine.tokenize(" Paris", add_bos=False)[0]
    _, d, piece = session.step(prompt.tokens, RAW, u=0.5, forced=paris)
    assert d.chosen == paris and d.forced and piece == b" Paris"


def test_a_streamed_reply_sampled_on_the_server(session):
    prompt = session.prompt(session.render(CHAT), chat=True)
    reply = session.stream(SamplerSettings(seed=2), prompt=prompt, max_tokens=10, top_n=5)
    steps = list(reply)
    assert steps and reply.result.stop_reason in ("eog", "max_tokens")
    assert all(s.distribution.candidates.size >= 1 and s.token.id >= 0 for s in steps)
    assert reply.result.text == "".join(s.text for s in steps)


def test_a_server_killed_mid_reply_keeps_the_tokens_that_came(smollm2_path, tmp_path):
    with llama_server(smollm2_path, tmp_path) as server:
        conn = Connection(ServerAddress(server.url))
        session = RemoteSession(conn, probe(conn))
        prompt = session.prompt("Once upon a time", chat=False)
        reply = session.stream(SamplerSettings(seed=3, ban_eos=True), prompt=prompt, max_tokens=1500)
        got = []
        with pytest.raises(RemoteError) as caught:
            for step in reply:
                got.append(step)
                if len(got) == 4:
                    server.kill()
        conn.close()
    assert caught.value.kind == "cut"
    assert len(reply.result.steps) >= 4


def test_a_wrong_api_key_is_refused(smollm2_path, tmp_path):
    with llama_server(smollm2_path, tmp_path, api_key="sesame") as server:
        with Connection(ServerAddress(server.url, "wrong")) as conn, pytest.raises(RemoteError) as caught:
            probe(conn)
        assert caught.value.kind == "auth"
        with Connection(ServerAddress(server.url, "sesame")) as conn:
            assert probe(conn).native


def test_the_command_line_on_llama_server(server):
    done = run_cli(["probs", "--server", server.url, "--chat", "Capital of France?", "--top", "5", "--json"])
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["server_kind"] == LLAMA_SERVER and all(c["id"] is not None for c in data["candidates"])
    assert data["prompt_tokens"] and data["chosen"]["id"] is not None

    done = run_cli(["tokens", "--server", server.url, "--json", "Hello world"])
    assert done.returncode == 0, done.stderr
    assert [t["piece"] for t in json.loads(done.stdout)["tokens"]] == ["Hello", " world"]

    done = run_cli(["template", "--server", server.url, "--json", "Hi"])
    assert done.returncode == 0, done.stderr
    assert "<|im_start|>user\nHi<|im_end|>" in json.loads(done.stdout)["prompt"]

    done = run_cli(
        ["generate", "--server", server.url, "The sky is", "--max-tokens", "5", "--json", "--seed", "4"]
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["tokens"]) <= 5


def test_a_token_picked_from_the_rest_that_ends_mid_character_is_known_by_its_id(session, monkeypatch):
    """llama-server holds back a token that ends in the middle of a character, and its probabilities with
    it: the die's pick from the unreported rest is then read from the token ids it returns. The seed is
    one with which this llama-server and SmolLM2 pick such a token (a byte of a longer character)."""
    prompt = session.prompt(session.render([{"role": "user", "content": "Capital of France?"}]), chat=True)
    rep = session.reported(prompt, top_n=5)
    monkeypatch.setattr("desktop_app.core.remote.remote_session.random.getrandbits", lambda _bits: 24)
    token, piece = session._from_rest(prompt.tokens, rep, SamplerSettings(temperature=0.8))
    assert token not in rep.ids.tolist()
    raw = session.conn.post("/detokenize", {"tokens": [token]}).get("content", "")
    assert raw == "\ufffd" or piece  # a byte of a character: no whole text of its own
