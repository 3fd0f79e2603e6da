"""The extra-buffer-types choice reaches llama.cpp: real loads of the bundled SmolLM2, with them on and
off, that evaluate batches of several tokens and generate, and llama.cpp's own log that differs.

With extra buffer types on, llama.cpp tries its ``CPU_REPACK`` buffer type for every weight and logs
``done_getting_tensors: tensor 'token_embd.weight' (q8_0) (and 272 others) cannot be used with preferred
buffer type CPU_REPACK, using CPU instead`` (SmolLM2's Q4_1 weights have no repacked layout); with them
off it never considers CPU_REPACK (or AMX), so the log names neither.
"""

from __future__ import annotations

import re

import pytest

from desktop_app.core.engine.cpu_quirks import EXTRA_BUFFERS_ENV, has_amx
from desktop_app.core.engine.engine import Engine, EngineConfig, EngineError
from desktop_app.core.engine.gpu import probe_backends
from desktop_app.core.engine.llama_loader import decide_here, load_llama
from desktop_app.core.engine.session import Session
from desktop_app.core.sampler_settings import SamplerSettings

PROMPT = "The capital of France is Paris. The capital of Japan is"
SYSTEM_INFO = probe_backends().system_info
AMX = has_amx(SYSTEM_INFO)
REPACK = "REPACK = 1" in SYSTEM_INFO
needs_no_amx = pytest.mark.skipif(AMX, reason="extra buffer types on crash llama.cpp on this AMX CPU")


def _repack_lines(engine: Engine) -> list[str]:
    """The log's lines about the extra buffer types: a CPU_REPACK or AMX buffer. Not the CPU's features,
    which llama-cpp-python prints at a load ("… AMX_INT8 = 1 | … REPACK = 1 |" on an AMX CPU)."""
    return [ln for ln in engine.log.lines() if "CPU_REPACK" in ln or re.search(r"\bAMX\b", ln)]


def _greedy(engine: Engine) -> tuple[int, list[int]]:
    """Evaluate the prompt as one batch, then generate 8 tokens greedily: (prompt size, tokens)."""
    tokens = engine.tokenize(PROMPT, add_bos=engine.add_bos)
    assert len(tokens) >= 2
    engine.reset()
    assert engine.sync(tokens) == len(tokens)  # one batch of all the prompt's tokens
    gen = Session(engine).generate(tokens, SamplerSettings(temperature=0), max_tokens=8)
    return len(tokens), [step.token.id for step in gen]


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(EXTRA_BUFFERS_ENV, raising=False)


@pytest.mark.slow
@pytest.mark.parametrize("choice", ["off", pytest.param("on", marks=needs_no_amx)])
def test_a_real_load_with_extra_buffers_on_or_off_evaluates_batches_and_generates(
    smollm2_path, no_env, choice
):
    with Engine(smollm2_path, EngineConfig(n_ctx=512, n_threads=2, seed=1, extra_buffers=choice)) as engine:
        assert engine.llama.model_params.use_extra_bufts is (choice == "on")
        n_prompt, generated = _greedy(engine)
        report = engine.load_report.extra_buffers
        assert report is engine.extra_buffers and report.enabled is (choice == "on")
        assert report.source == "setting"
        assert report.reason() == (
            f"extra buffer types {choice}: chosen by the extra-buffers setting ({choice})"
        )
        lines = _repack_lines(engine)
    assert n_prompt >= 10 and len(generated) == 8
    if choice == "off":
        assert lines == []
    elif REPACK:
        assert any("preferred buffer type CPU_REPACK" in ln for ln in lines), lines


@pytest.mark.slow
@needs_no_amx
def test_on_and_off_give_the_same_greedy_tokens(smollm2_path, no_env):
    out = {}
    for choice in ("on", "off"):
        with Engine(smollm2_path, EngineConfig(n_ctx=512, n_threads=2, extra_buffers=choice)) as engine:
            out[choice] = _greedy(engine)[1]
    assert out["on"] == out["off"]


@pytest.mark.slow
def test_the_environment_variable_overrides_the_config(smollm2_path, monkeypatch):
    monkeypatch.setenv(EXTRA_BUFFERS_ENV, "off")
    with Engine(smollm2_path, EngineConfig(n_ctx=256, n_threads=2, extra_buffers="on")) as engine:
        assert engine.llama.model_params.use_extra_bufts is False
        assert engine.load_report.extra_buffers.source == "env"
        assert engine.load_report.extra_buffers.reason() == (
            "extra buffer types off: forced by TOKENDICE_EXTRA_BUFFERS=off"
        )
        assert _repack_lines(engine) == []
        engine.sync(engine.tokenize("one two three"))


@pytest.mark.slow
def test_auto_on_this_machine_follows_its_cpu(smollm2_path, no_env):
    with Engine(smollm2_path, EngineConfig(n_ctx=256, n_threads=2)) as engine:
        decision = engine.load_report.extra_buffers
        assert decision.source == "auto" and decision.amx is AMX
        assert engine.llama.model_params.use_extra_bufts is (not AMX)
        assert decision == decide_here("auto")
        engine.sync(engine.tokenize("one two three"))


@pytest.mark.slow
def test_auto_on_an_amx_cpu_loads_without_extra_buffers(smollm2_path, no_env, monkeypatch):
    """This machine has no AMX: its real backends, with the system info an AMX CPU prints (the only
    substitute), and a real load that must then leave the extra buffer types off."""
    from dataclasses import replace

    from desktop_app.core.engine import gpu

    real = gpu.probe_backends()
    amx_info = real.system_info.rstrip() + " AMX_INT8 = 1 | "
    monkeypatch.setattr(gpu, "probe_backends", lambda: replace(real, system_info=amx_info))
    with Engine(smollm2_path, EngineConfig(n_ctx=256, n_threads=2)) as engine:
        decision = engine.load_report.extra_buffers
        assert (decision.enabled, decision.key) == (False, "amx")
        assert engine.llama.model_params.use_extra_bufts is False
        assert _repack_lines(engine) == []
        assert engine.sync(engine.tokenize("one two three four")) >= 2


def test_a_bad_config_value_is_a_sentence_before_anything_loads(smollm2_path, no_env):
    with pytest.raises(EngineError, match="extra buffers must be 'auto', 'on' or 'off', not 'fast': choose"):
        Engine(smollm2_path, EngineConfig(n_ctx=256, extra_buffers="fast"))


@pytest.mark.slow
def test_the_loader_sets_the_field_only_for_its_own_load(smollm2_path):
    import llama_cpp.llama_cpp as bindings

    before = bindings.llama_model_default_params
    llm = load_llama(smollm2_path, extra_buffers=False, n_ctx=128, n_threads=2, verbose=False)
    try:
        assert llm.model_params.use_extra_bufts is False
        llm.eval(llm.tokenize(b"Hello there, how are you?"))  # a batch of several tokens
        assert llm.n_tokens >= 2
    finally:
        llm.close()
    assert bindings.llama_model_default_params is before  # the bindings are as they were
    assert bindings.llama_model_default_params().use_extra_bufts is True  # llama.cpp's default
