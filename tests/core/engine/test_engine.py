"""The Engine against independent references: llama-cpp-python's own logprobs and greedy output."""

from __future__ import annotations

import contextlib
import io
import math
import threading

import llama_cpp
import numpy as np
import pytest

from desktop_app.core.engine.engine import Cancelled, ContextFull, Engine, EngineConfig, EngineError
from desktop_app.core.engine.llama_loader import load_llama_safely
from desktop_app.core.engine.sampler import Sampler
from desktop_app.core.engine.session import Session
from desktop_app.core.sampler_settings import SamplerSettings

PROMPT = "The capital of France is Paris. The capital of Japan is"


def _reference(path, **kw) -> llama_cpp.Llama:
    with contextlib.redirect_stderr(io.StringIO()):
        return load_llama_safely(path, n_ctx=512, n_threads=2, verbose=False, **kw)


def test_vocabulary_and_end_tokens(smollm2_engine: Engine, gemma_engine: Engine):
    assert smollm2_engine.n_vocab == 49152
    assert gemma_engine.n_vocab == 262144
    im_end = smollm2_engine.tokenize("<|im_end|>", special=True)
    assert len(im_end) == 1 and im_end[0] in smollm2_engine.eog_ids
    end_of_turn = gemma_engine.tokenize("<end_of_turn>", special=True)
    assert len(end_of_turn) == 1 and end_of_turn[0] in gemma_engine.eog_ids
    assert gemma_engine.eos_id in gemma_engine.eog_ids
    assert gemma_engine.n_swa > 0 and smollm2_engine.n_swa == 0
    assert "<|im_start|>" in smollm2_engine.special_texts()


@pytest.mark.parametrize("which", ["smollm2", "gemma"])
def test_raw_probabilities_equal_llama_cpp_logprobs(request, which: str):
    engine: Engine = request.getfixturevalue(f"{which}_engine")
    engine.reset()
    tokens = engine.tokenize(PROMPT, add_bos=engine.add_bos)
    d = Session(engine).distribution_now(tokens, SamplerSettings(), top_n=50)
    ref = _reference(engine.path, logits_all=True)
    try:
        out = ref.create_completion(tokens, max_tokens=1, temperature=0, logprobs=10)
    finally:
        ref.close()
    top = out["choices"][0]["logprobs"]["top_logprobs"][0]
    by_text: dict[str, float] = {}
    for i, token in enumerate(d.candidates):
        by_text.setdefault(engine.piece(int(token)).decode("utf-8", errors="ignore"), float(d.p_raw[i]))
    assert len(top) >= 5
    for text, logprob in top.items():
        assert by_text[text] == pytest.approx(math.exp(logprob), abs=1e-4), text
    assert abs(float(d.p_raw.sum()) + d.rest_p_raw - 1.0) < 1e-6


@pytest.mark.parametrize("which", ["smollm2", "gemma"])
def test_greedy_output_equals_llama_cpp_greedy(request, which: str):
    engine: Engine = request.getfixturevalue(f"{which}_engine")
    engine.reset()
    tokens = engine.tokenize(PROMPT, add_bos=engine.add_bos)
    ours = [
        s.token.id for s in Session(engine).generate(tokens, SamplerSettings(temperature=0), max_tokens=24)
    ]
    ref = _reference(engine.path)
    try:
        theirs = []
        for t in ref.generate(tokens, temp=0.0, top_k=1, repeat_penalty=1.0):
            theirs.append(t)
            if len(theirs) == len(ours) or t in engine.eog_ids:
                break
    finally:
        ref.close()
    assert ours == theirs
    assert len(ours) >= 8


def test_logits_are_a_copy_and_need_an_evaluation(smollm2_engine: Engine):
    smollm2_engine.reset()
    with pytest.raises(EngineError, match="evaluate a prompt first"):
        smollm2_engine.logits()
    tokens = smollm2_engine.tokenize(PROMPT)
    smollm2_engine.sync(tokens)
    first = smollm2_engine.logits()
    smollm2_engine.append(int(np.argmax(first)))
    assert not np.array_equal(first, smollm2_engine.logits())
    assert first.dtype == np.float32 and first.shape == (49152,)


def test_kv_cache_reuse_counts_only_new_tokens(engine: Engine):
    base = engine.tokenize(PROMPT, add_bos=engine.add_bos)
    assert engine.sync(base) == len(base)
    assert engine.sync(base) == 0  # already there, logits ready
    more = base + engine.tokenize(" Tokyo. The capital of Italy is")
    assert engine.sync(more) == len(more) - len(base)
    assert engine.evaluated_tokens >= len(more)


@pytest.mark.parametrize("which", ["smollm2", "gemma"])
def test_rewind_gives_the_same_logits_as_a_fresh_evaluation(request, which: str):
    engine: Engine = request.getfixturevalue(f"{which}_engine")
    engine.reset()
    tokens = engine.tokenize(PROMPT, add_bos=engine.add_bos)
    long = tokens + engine.tokenize(" Tokyo, and the capital of Italy is Rome.")
    engine.sync(long)
    before = engine.evaluated_tokens
    engine.sync(tokens)  # rewind: only the last prompt token needs decoding again (or a rebuild)
    rewound = engine.logits()
    decoded = engine.evaluated_tokens - before
    assert decoded in (1, len(tokens))
    engine.reset()
    engine.sync(tokens)
    np.testing.assert_allclose(rewound, engine.logits(), atol=1e-3)


def test_sliding_window_fallback_rebuilds_when_the_window_is_gone(gemma_path):
    """With a small cache the window before the rewind point is gone: the engine rebuilds it."""
    engine = Engine(gemma_path, EngineConfig(n_ctx=2048, n_batch=512, swa_full=False))
    try:
        assert engine.n_swa > 0, "Gemma 3 has a sliding window"
        text = " ".join(f"word{i}" for i in range(900))
        tokens = engine.tokenize(text, add_bos=True)[: engine.n_swa * 2 + 200]
        engine.sync(tokens)
        decoded = engine.evaluated_tokens
        engine.sync(tokens[:50])
        assert engine.full_reevaluations == 1
        assert engine.evaluated_tokens - decoded == 50
        ref = Engine(gemma_path, EngineConfig(n_ctx=2048, n_batch=512))
        try:
            ref.sync(tokens[:50])
            np.testing.assert_allclose(engine.logits(), ref.logits(), atol=1e-3)
        finally:
            ref.close()
    finally:
        engine.close()


def test_prompt_longer_than_the_context_is_refused_before_decoding(smollm2_path):
    engine = Engine(smollm2_path, EngineConfig(n_ctx=64))
    try:
        tokens = engine.tokenize("one two three four five six seven eight nine ten " * 20)
        assert len(tokens) > 64
        with pytest.raises(ContextFull, match="context holds 64"):
            engine.sync(tokens)
        assert engine.evaluated_tokens == 0
        result = Session(engine).generate(tokens[:60], SamplerSettings(ban_eos=True), max_tokens=50).run()
        assert result.stop_reason == "context_full"
        assert len(engine.kv_tokens) <= 64
    finally:
        engine.close()


def test_cancel_during_a_long_prompt(smollm2_path):
    engine = Engine(smollm2_path, EngineConfig(n_ctx=4096, n_batch=32))
    try:
        tokens = engine.tokenize("The quick brown fox jumps over the lazy dog. " * 300)[:3000]
        cancel = threading.Event()
        errors: list[BaseException] = []

        def owner():
            try:
                engine.sync(tokens, cancel)
            except BaseException as exc:
                errors.append(exc)

        worker = threading.Thread(target=owner)
        worker.start()
        while engine.evaluated_tokens < 64 and worker.is_alive():
            threading.Event().wait(0.005)
        cancel.set()
        worker.join(30)
        assert not worker.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], Cancelled)
        assert 64 <= engine.evaluated_tokens < len(tokens)
        assert len(engine.kv_tokens) == engine.evaluated_tokens
    finally:
        engine.close()


def test_cancel_during_generation_stops_within_one_step(smollm2_engine: Engine):
    smollm2_engine.reset()
    session = Session(smollm2_engine)
    tokens = smollm2_engine.tokenize("Once upon a time")
    seen = []
    gen = session.generate(tokens, SamplerSettings(seed=3, ban_eos=True), max_tokens=500)
    for step in gen:
        seen.append(step)
        if len(seen) == 5:
            threading.Thread(target=session.cancel).start()
            threading.Event().wait(0.05)
    assert gen.result.stop_reason == "cancelled"
    assert 5 <= len(seen) <= 6


def test_text_file_and_missing_file_are_engine_errors(tmp_path):
    fake = tmp_path / "fake.gguf"
    fake.write_text("not a model")
    with pytest.raises(EngineError, match="not a GGUF"):
        Engine(fake)
    with pytest.raises(EngineError, match="does not exist"):
        Engine(tmp_path / "nothing.gguf")


def test_loading_prints_nothing_and_reports_cpu_only(smollm2_path, capfd):
    engine = Engine(smollm2_path, EngineConfig(n_ctx=256, n_gpu_layers="all"))
    try:
        tokens = engine.tokenize("Hello")
        engine.sync(tokens)
        Sampler(SamplerSettings()).distribution(engine.logits(), tokens)
    finally:
        engine.close()
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    if not llama_cpp.llama_supports_gpu_offload():
        assert engine.load_report.summary().startswith("CPU only: no GPU backend in this build")
    else:
        assert engine.load_report.offload is not None and engine.load_report.offload.offloaded_layers > 0
    assert "load_tensors" in engine.log.text()


def test_loading_a_model_captures_only_its_own_threads_prints(smollm2_path, capsys):
    """llama-cpp-python prints the model's metadata while it loads: that goes to the engine's log, but
    what another thread prints meanwhile still reaches the terminal (a global redirect swallowed it)."""
    import threading

    from desktop_app.core.engine.engine import Engine, EngineConfig

    stop = threading.Event()
    printed = []

    def chatter() -> None:
        while not stop.is_set():
            print("another thread is talking", flush=True)
            printed.append(1)
            stop.wait(0.001)

    talker = threading.Thread(target=chatter)
    talker.start()
    try:
        engine = Engine(smollm2_path, EngineConfig(n_ctx=256))
    finally:
        stop.set()
        talker.join()
    try:
        out = capsys.readouterr()
        assert out.out.count("another thread is talking") == len(printed) > 0
        assert "another thread is talking" not in engine.log.text()
        assert "Model metadata" in engine.log.text() and "Model metadata" not in out.err + out.out
    finally:
        engine.close()
