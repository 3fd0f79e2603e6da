"""TokenDice's remote backend (``--server URL``, the window's servers tab) driving a TokenDice server: it
is probed as llama-server (native API: ids, tokenizer, template), and a reply step by step with
TokenDice's die is the local engine's own, step for step (the same llama.cpp, the same model)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from desktop_app.core.engine.chat import chat_prompt
from desktop_app.core.engine.engine import Engine, EngineConfig
from desktop_app.core.engine.session import Session
from desktop_app.core.remote.connection import Connection, ServerAddress
from desktop_app.core.remote.remote_session import RemoteSession
from desktop_app.core.remote.server_info import LLAMA_SERVER, probe
from desktop_app.core.sampler_settings import SamplerSettings
from tests.helpers import run_cli
from tests.serve.serving import BUNDLED_ID

CHAT = [{"role": "user", "content": "What is the capital of France?"}]
RAW = SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)
#: llama.cpp's default chain (top-k 40 keeps fewer than the 50 candidates a step reports, so the die
#: rolls over exactly the local engine's survivors).
SETTINGS = SamplerSettings(seed=11, temperature=0.8)


@pytest.fixture(scope="module")
def engine(smollm2_path):
    with Engine(smollm2_path, EngineConfig(n_ctx=2048, n_batch=256)) as e:
        yield e


@pytest.fixture
def session(served):
    conn = Connection(ServerAddress(served.url))
    yield RemoteSession(conn, probe(conn))
    conn.close()


def test_a_tokendice_server_is_probed_as_llama_server(session, engine):
    info = session.info
    assert info.kind == LLAMA_SERVER and info.native and not info.missing
    assert info.models == (BUNDLED_ID,)
    assert info.n_ctx == 2048 and info.n_vocab == engine.n_vocab
    assert info.eog_ids and info.eog_ids <= engine.eog_ids
    assert info.chat_template and "im_start" in info.chat_template
    assert info.add_bos == engine.add_bos


def test_the_prompt_and_the_template_are_the_local_engine_s(session, engine):
    text = "Once upon a time"
    assert list(session.prompt(text, chat=False).tokens) == engine.tokenize(text, add_bos=engine.add_bos)
    local = chat_prompt(engine, CHAT)
    rendered = session.render(CHAT)
    assert rendered == local.rendered.text
    assert list(session.prompt(rendered, chat=True).tokens) == list(local.tokens)


@pytest.mark.parametrize("chat", [True, False], ids=["chat", "plain"])
def test_a_reply_step_by_step_is_the_local_engine_s(session, engine, chat):
    """Each step: the same five best candidates with the same raw probabilities (within 1e-4), the same
    roll and so the same token as the local engine's step mode with the same seed."""
    prompt = (
        session.prompt(session.render(CHAT), chat=True) if chat else session.prompt("One day", chat=False)
    )
    remote = session.generate(prompt.tokens, SETTINGS, max_tokens=12)
    remote_steps = list(remote)
    local = Session(engine).generate(list(prompt.tokens), SETTINGS, max_tokens=12, top_n=50)
    local_steps = list(local)
    assert [s.token.id for s in remote_steps] == [s.token.id for s in local_steps]
    assert remote.result.text == local.result.text and remote.result.stop_reason == local.result.stop_reason
    for i, (r, lo) in enumerate(zip(remote_steps, local_steps, strict=True)):
        rd, ld = r.distribution, lo.distribution
        assert rd.candidates[:5].tolist() == ld.candidates[:5].tolist(), i
        np.testing.assert_allclose(rd.p_raw[:5], ld.p_raw[:5], atol=1e-4, err_msg=f"step {i}")
        assert rd.u == pytest.approx(ld.u, abs=1e-12) and rd.chosen == ld.chosen, i
        assert rd.chosen_p_final == pytest.approx(ld.chosen_p_final, abs=1e-4), i


def test_a_roll_in_the_rest_gets_a_token_the_server_did_not_report(session, engine):
    prompt = session.prompt("Once upon a time", chat=False)
    judged, d, piece = session.step(prompt.tokens, RAW, u=0.9999, top_n=3)
    reported = judged.reported.ids.tolist()
    assert len(reported) == 3 and d.chosen not in reported
    assert 0 <= d.chosen < engine.n_vocab and d.chosen not in engine.eog_ids
    assert d.candidates[-1] == d.chosen and math.isnan(d.p_raw[-1])
    local = Session(engine).distribution_now(list(prompt.tokens), RAW, top_n=3)
    assert reported == local.candidates[:3].tolist()
    assert d.rest_p_raw == pytest.approx(1 - float(local.p_raw[:3].sum()), abs=1e-4)
    assert piece == engine.piece(d.chosen)


def test_a_hot_reply_with_three_candidates_a_step_often_picks_from_the_rest(session):
    hot = SamplerSettings(seed=7, temperature=1.5, top_k=0, top_p=1.0, min_p=0.0, ban_eos=True)
    prompt = session.prompt("Once upon a time", chat=False)
    gen = session.generate(prompt.tokens, hot, max_tokens=16, top_n=3)
    steps = list(gen)
    assert len(steps) == 16 and gen.result.stop_reason == "max_tokens"
    from_rest = [s for s in steps if s.distribution.chosen not in s.distribution.candidates[:3].tolist()]
    assert from_rest, "no roll fell in the rest: the test needs a hotter reply"
    for s in from_rest:
        assert math.isnan(s.distribution.p_raw[-1]) and s.token.piece
    assert gen.result.text == "".join(s.text for s in steps)


def test_the_command_line_on_a_tokendice_server(served):
    done = run_cli(["probs", "--server", served.url, "--chat", "Capital of France?", "--top", "5", "--json"])
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["server_kind"] == LLAMA_SERVER and all(c["id"] is not None for c in data["candidates"])

    done = run_cli(["generate", "--server", served.url, "The sky is", "--max-tokens", "5", "--json",
                    "--seed", "4", "--step-by-step"])  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert 1 <= len(json.loads(done.stdout)["tokens"]) <= 5
