"""The sampler pipeline: each stage by hand, exactness against a slow reference, the die, the seed."""

from __future__ import annotations

import gc
import math
import threading
import weakref
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from desktop_app.core.engine.distribution import ORDER_CAP, Distribution
from desktop_app.core.engine.sampler import Sampler
from desktop_app.core.sampler_settings import SamplerSettings

OFF = SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)  # every filter off, t = 1


def run(logits, history=(), eog=(), u: float | None = 0.5, top_n: int = 50, forced=None, **changes):
    """One step on a small vocabulary, starting from OFF."""
    sampler = Sampler(OFF.replace(**changes), eog_ids=eog)
    x = np.asarray(logits, dtype=np.float32)
    return sampler.distribution(x, history, u=u, top_n=top_n, forced=forced)


def softmax(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    e = np.exp(v - v[np.isfinite(v)].max())
    return e / e.sum()


def by_id(d: Distribution, p: np.ndarray) -> dict[int, float]:
    return {int(i): float(q) for i, q in zip(d.candidates, p, strict=True)}


def final(d: Distribution) -> dict[int, float]:
    ids, p = d.final_order()
    return {int(i): float(q) for i, q in zip(ids, p, strict=True)}


def approx_map(got: dict[int, float], want: dict[int, float], tol: float = 1e-6) -> None:
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=tol), k


# --- each stage by hand ---------------------------------------------------------------------------


def test_penalties_follow_llama_cpp_formula():
    logits = [2.0, -1.0, 0.5, 3.0, 0.0]
    history = [0, 1, 1, 4, 3, 3, 3]  # counts: 0→1, 1→2, 3→3, 4→1
    d = run(logits, history, repeat_penalty=2.0, frequency_penalty=0.1, presence_penalty=0.5)
    # positive logits are divided, others multiplied, then count·freq + presence is subtracted
    want = [2.0 / 2 - 0.1 - 0.5, -1.0 * 2 - 0.2 - 0.5, 0.5, 3.0 / 2 - 0.3 - 0.5, 0.0 * 2 - 0.1 - 0.5]
    assert [s.name for s in d.stages] == ["penalties", "temperature"]
    approx_map(by_id(d, d.stage("penalties").p), dict(enumerate(softmax(want))))
    approx_map(final(d), dict(enumerate(softmax(want))))
    assert not d.stage("penalties").removed.any()
    assert d.stage("penalties").n_alive == 5


def test_penalty_window_and_switches():
    logits = [2.0, -1.0, 0.5, 3.0, 0.0]
    history = [0, 1, 1, 4, 3, 3, 3]
    pens = {"repeat_penalty": 2.0, "frequency_penalty": 0.1, "presence_penalty": 0.5}
    last3 = run(logits, history, repeat_last_n=3, **pens)
    want = [2.0, -1.0, 0.5, 3.0 / 2 - 0.3 - 0.5, 0.0]  # only token 3 is in the last three
    approx_map(final(last3), dict(enumerate(softmax(want))))
    whole = run(logits, history, repeat_penalty=1.5, repeat_last_n=-1)
    approx_map(final(whole), dict(enumerate(softmax([2 / 1.5, -1.5, 0.5, 2.0, 0.0]))))
    assert run(logits, history, repeat_penalty=2.0, repeat_last_n=0).stage("penalties") is None
    assert run(logits, history).stage("penalties") is None  # all neutral: off
    outside = run(logits, [7, -1, 99], repeat_penalty=2.0)  # ids outside the vocabulary are ignored
    approx_map(final(outside), dict(enumerate(softmax(logits))))
    # a penalty that lifts a token (presence < 0) above the maximum
    lifted = run(logits, [2], presence_penalty=-10.0)
    approx_map(final(lifted), dict(enumerate(softmax([2.0, -1.0, 10.5, 3.0, 0.0]))))


def test_top_k_keeps_k_best_ties_by_id():
    logits = [1.0, 5.0, 3.0, 3.0, 2.0, 0.0]
    d = run(logits, top_k=3)
    approx_map(final(d), dict(zip([1, 2, 3], softmax([5, 3, 3]), strict=True)))
    d = run(logits, top_k=2)  # 2 and 3 tie: the lower id stays
    approx_map(final(d), dict(zip([1, 2], softmax([5, 3]), strict=True)))
    assert dict(zip(d.candidates.tolist(), d.removed_by, strict=True)) == {
        1: None,
        2: None,
        3: "top_k",
        4: "top_k",
        0: "top_k",
        5: "top_k",
    }
    assert d.stage("top_k").n_alive == 2
    assert d.stage("top_k").rest_p == 0.0  # every survivor is a candidate
    few = run(logits, top_k=3, top_n=1, u=0.1)
    assert list(few.candidates) == [1]
    assert few.stage("top_k").rest_p == pytest.approx(2 * softmax([5, 3, 3])[1], abs=1e-12)
    assert few.rest_p_raw == pytest.approx(1 - softmax(logits)[1], abs=1e-12)
    assert run(logits, top_k=0).n_alive == 6
    assert run(logits, top_k=100).n_alive == 6


def test_top_p_boundary_is_inclusive():
    flat = [0.0, 0.0, 0.0, 0.0]  # 0.25 each, cumulative 0.25, 0.5, 0.75, 1 exactly
    assert list(final(run(flat, top_p=0.5))) == [0, 1]
    assert list(final(run(flat, top_p=0.5000001))) == [0, 1, 2]
    assert list(final(run(flat, top_p=0.4999999))) == [0, 1]
    assert list(final(run(flat, top_p=0.0))) == [0]  # min_keep = 1
    probs = [0.5, 0.3, 0.15, 0.05]
    logits = np.log(probs)
    assert list(final(run(logits, top_p=0.79))) == [0, 1]
    assert list(final(run(logits, top_p=0.81))) == [0, 1, 2]
    approx_map(final(run(logits, top_p=0.81)), {0: 0.5 / 0.95, 1: 0.3 / 0.95, 2: 0.15 / 0.95})


def test_top_p_sees_top_k_survivors_at_temperature_one():
    logits = [3.0, 2.0, 1.0, 0.0]
    # over all four, p0 = 0.644 < 0.7; over the top-2 survivors p0 = 0.731 >= 0.7
    assert list(final(run(logits, top_p=0.7))) == [0, 1]
    assert list(final(run(logits, top_p=0.7, top_k=2))) == [0]
    # temperature comes after: a hot temperature does not change what top-p keeps
    assert list(final(run(logits, top_p=0.7, temperature=5.0))) == [0, 1]


def test_min_p_keeps_tokens_above_a_fraction_of_the_best():
    probs = [0.4, 0.3, 0.2, 0.06, 0.04]
    logits = np.log(probs)
    d = run(logits, min_p=0.2)  # threshold 0.08
    approx_map(final(d), dict(zip(range(3), np.array(probs[:3]) / 0.9, strict=True)))
    assert d.removed_by[3:] == ("min_p", "min_p")
    assert list(final(run(logits, min_p=0.14))) == [0, 1, 2, 3]  # threshold 0.056
    assert list(final(run(logits, min_p=1.0))) == [0]
    # p_max is taken after top-k, at temperature 1
    assert list(final(run(logits, min_p=0.5, temperature=3.0))) == [0, 1]
    assert list(final(run(logits, min_p=0.5, top_k=1))) == [0]


def test_temperature_scales_logits_after_the_filters():
    logits = [2.0, 1.0, 0.0]
    approx_map(final(run(logits, temperature=0.5)), dict(enumerate(softmax([4.0, 2.0, 0.0]))))
    approx_map(final(run(logits, temperature=2.0)), dict(enumerate(softmax([1.0, 0.5, 0.0]))))
    d = run(logits, temperature=2.0, top_k=2)
    approx_map(final(d), dict(enumerate(softmax([1.0, 0.5]))))
    approx_map(by_id(d, d.stage("top_k").p), {0: softmax([2, 1])[0], 1: softmax([2, 1])[1], 2: 0.0})


def test_greedy_picks_argmax_of_penalised_logits_without_a_roll():
    sampler = Sampler(OFF.replace(temperature=0.0, seed=3))
    before = sampler.rng.bit_generator.state
    d = sampler.distribution(np.array([1.0, 3.0, 3.0, 2.0], dtype=np.float32))
    assert (d.chosen, d.u, d.greedy, d.n_alive) == (1, None, True, 1)  # tie: the lower id
    assert final(d) == {1: 1.0}
    assert sampler.rng.bit_generator.state == before  # no die was rolled
    assert d.removed_by == (None, "temperature", "temperature", "temperature")
    d = run([1.0, 3.0, 3.0, 2.0], history=[1, 2], repeat_penalty=2.0, temperature=0.0, u=0.9)
    assert (d.chosen, d.u) == (3, None)


def test_ban_removes_end_tokens_first():
    logits = [1.0, 2.0, 0.0, 5.0]
    d = run(logits, eog=[3], ban_eos=True, repeat_penalty=2.0, history=[3, 1])
    assert [s.name for s in d.stages] == ["ban", "penalties", "temperature"]
    assert d.removed_by[d.candidates.tolist().index(3)] == "ban"
    approx_map(
        by_id(d, d.stage("ban").p),
        {0: softmax([1, 2, 0])[0], 1: softmax([1, 2, 0])[1], 2: softmax([1, 2, 0])[2], 3: 0.0},
    )
    approx_map(final(d), dict(enumerate(softmax([1.0, 1.0, 0.0]))))
    assert d.eos_p_raw == pytest.approx(softmax(logits)[3])
    assert d.eos_p_final == 0.0
    assert d.stage("ban").n_alive == 3
    kept = run(logits, eog=[3])  # ban_eos off: the end token competes
    assert kept.stage("ban") is None
    assert kept.eos_p_final == pytest.approx(softmax(logits)[3])


def test_ban_that_would_remove_everything_is_ignored():
    d = run([1.0, 2.0], eog=[0, 1], ban_eos=True)
    assert d.stage("ban") is None and d.n_alive == 2
    d = run([-np.inf, 3.0, -np.inf], eog=[1], ban_eos=True)
    assert d.stage("ban") is None and d.chosen == 1
    assert list(d.candidates) == [1]  # tokens at -inf are not candidates


def test_ban_of_a_dominant_token_keeps_precision():
    x = np.array([60.0, 0.0, -1.0, -2.0], dtype=np.float32)  # token 0 holds all but e^-60 of the mass
    d = run(x, eog=[0], ban_eos=True)
    approx_map(final(d), dict(zip([1, 2, 3], softmax([0.0, -1.0, -2.0]), strict=True)), tol=1e-7)
    big = np.full(300_000, -5.0, dtype=np.float32)
    big[[7, 8]] = [60.0, 1.0]
    d = run(big, eog=[7], ban_eos=True, top_k=2)
    want = softmax(np.delete(big, 7))
    assert d.stage("ban").p[d.candidates.tolist().index(8)] == pytest.approx(want[7], rel=1e-6)


def test_die_picks_first_token_whose_cumulative_probability_reaches_u():
    flat = [0.0, 0.0, 0.0, 0.0]
    rolls = (0.0, 0.2499999, 0.25, 0.2500001, 0.5, 0.75, 0.7500001, 0.999999)
    pick = {u: run(flat, u=u).chosen for u in rolls}
    assert pick == {0.0: 0, 0.2499999: 0, 0.25: 0, 0.2500001: 1, 0.5: 1, 0.75: 2, 0.7500001: 3, 0.999999: 3}
    assert run(flat, u=1.0).chosen == 3  # the guard: never past the last token
    logits = [1.0, 3.0, 3.0, 2.0]  # die order: 1, 2 (tie by id), 3, 0
    p = softmax(logits)
    cum = np.cumsum(p[[1, 2, 3, 0]])
    assert list(run(logits).final_order()[0]) == [1, 2, 3, 0]
    for u, want in [
        (cum[0] - 1e-9, 1),
        (cum[0] + 1e-9, 2),
        (cum[1] - 1e-9, 2),
        (cum[1] + 1e-9, 3),
        (cum[2] + 1e-9, 0),
        (0.0, 1),
    ]:
        d = run(logits, u=u)
        assert (d.chosen, d.u) == (want, u)
        lo, hi = d.chosen_interval()
        assert lo <= u <= hi + 1e-12


def test_forced_token_replaces_the_die():
    logits = [3.0, 2.0, 1.0, 0.0, -1.0]
    d = run(logits, top_k=2, top_n=2, u=0.3, forced=4)
    assert (d.chosen, d.forced, d.u) == (4, True, 0.3)
    assert list(d.candidates) == [0, 1, 4] and d.chosen_index == 2
    assert d.p_final[2] == 0.0 and d.removed_by[2] == "top_k"
    assert d.p_raw[2] == pytest.approx(softmax(logits)[4])
    sampler = Sampler(OFF.replace(seed=5))
    d = sampler.distribution(np.asarray(logits, dtype=np.float32), forced=1)
    assert d.u == np.random.Generator(np.random.PCG64(5)).random() and d.chosen == 1
    assert not run(logits).forced


# --- the big vocabulary -----------------------------------------------------------------------------


def big_logits(seed: int = 0, n: int = 262_144) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 3).astype(np.float32)
    x[rng.choice(n, 5, replace=False)] = [15.0, 17.0, 18.0, 19.0, 20.0]
    return x


def test_raw_distribution_and_entropy_match_float64_reference():
    x = big_logits()
    d = Sampler(SamplerSettings(seed=1), eog_ids=[3, 5]).distribution(x, top_n=50)
    ref = softmax(x)
    order = np.argsort(-x, kind="stable")
    assert list(d.candidates) == list(order[:50])
    np.testing.assert_allclose(d.p_raw, ref[order[:50]], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(d.logits, x[order[:50]])
    assert d.rest_p_raw == pytest.approx(1 - ref[order[:50]].sum(), abs=1e-6)
    entropy = -(ref[ref > 0] * np.log2(ref[ref > 0])).sum()
    assert d.entropy_bits == pytest.approx(entropy, abs=1e-5)
    assert d.eos_p_raw == pytest.approx(ref[[3, 5]].sum(), abs=1e-9)
    flat = np.random.default_rng(2).standard_normal(262_144).astype(np.float32)
    ref = softmax(flat)
    d = Sampler(SamplerSettings(seed=1)).distribution(flat)
    assert d.entropy_bits == pytest.approx(-(ref * np.log2(ref)).sum(), abs=1e-5)


def test_candidates_are_the_true_top_n_with_ties_by_id():
    x = np.round(big_logits(3) / 2).astype(np.float32)  # many equal logits at every level
    x[100:200] = 8.0  # a block of ties across the boundary
    for top_n in (1, 50, 120, 1000):
        d = Sampler(OFF.replace(seed=0)).distribution(x, top_n=top_n, u=0.5)
        want = np.argsort(-x, kind="stable")[:top_n]
        assert list(d.candidates[:top_n]) == list(want)
    assert list(run(np.zeros(10), top_n=4, u=0.1).candidates) == [0, 1, 2, 3]
    x[[5, 6]] = -np.inf
    assert set(run(x[:10], top_n=50).candidates) == set(range(10)) - {5, 6}


def test_stage_growth_paths_on_a_big_vocabulary_match_the_reference():
    x = big_logits(4)
    x_flat = np.random.default_rng(5).standard_normal(262_144).astype(np.float32)
    history = list(range(0, 6000, 37))
    for logits, s in [
        (x, SamplerSettings()),
        (x, SamplerSettings(top_k=0, top_p=0.9, temperature=1.3)),
        (x_flat, SamplerSettings(top_k=0, top_p=0.5, min_p=0.0, temperature=1.3)),
        (x_flat, SamplerSettings(top_k=0, top_p=1.0, min_p=0.3)),
        (x_flat, SamplerSettings(top_k=0, top_p=1.0, min_p=0.0, temperature=0.7)),
        (x_flat, SamplerSettings(top_k=0, top_p=1.0, min_p=0.0, temperature=1.0, ban_eos=True)),
        (x_flat, SamplerSettings(top_k=5000, top_p=0.99, repeat_penalty=1.3, presence_penalty=0.2)),
        (x, SamplerSettings(temperature=0.0, repeat_penalty=3.0, frequency_penalty=1.0)),
    ]:
        for u in (0.01, 0.5, 0.999):
            eog = [1, 2, 262_143]
            d = Sampler(s, eog_ids=eog).distribution(logits, history, u=u)
            check_against_reference(d, reference(logits, history, eog, s), logits, s, u)


# --- against a slow, plain reference ----------------------------------------------------------------


@dataclass
class Ref:
    stages: list[tuple[str, np.ndarray, np.ndarray]]  # name, p over the vocabulary, alive mask
    order: np.ndarray  # final survivors in die order
    p: np.ndarray  # their probabilities
    near_tie: bool


def reference(x: np.ndarray, history, eog, s: SamplerSettings) -> Ref:
    """Full softmax and full sort at every stage, in llama.cpp's order."""
    n = x.size
    w = x.astype(np.float32).copy()
    alive = np.isfinite(w)
    stages = []
    near = False

    def record(name: str, ids: np.ndarray, p: np.ndarray) -> None:
        full = np.zeros(n)
        full[ids] = p
        mask = np.zeros(n, dtype=bool)
        mask[ids] = True
        stages.append((name, full, mask))

    eog = sorted({i for i in eog if i < n})
    if s.ban_eos and eog:
        banned = w.copy()
        banned[eog] = -np.inf
        if np.isfinite(banned).any():
            w, alive = banned, np.isfinite(banned)
            record("ban", np.flatnonzero(alive), softmax(w[alive]))
    neutral = s.repeat_penalty == 1 and s.frequency_penalty == 0 and s.presence_penalty == 0
    if s.repeat_last_n != 0 and not neutral:
        window = list(history) if s.repeat_last_n < 0 else list(history)[-s.repeat_last_n :]
        w = w.copy()
        for tok, c in Counter(t for t in window if 0 <= t < n).items():
            v = w[tok]
            v = v / np.float32(s.repeat_penalty) if v > 0 else v * np.float32(s.repeat_penalty)
            w[tok] = v - (np.float32(c) * np.float32(s.frequency_penalty) + np.float32(s.presence_penalty))
        record("penalties", np.flatnonzero(alive), softmax(w[alive]))
    ids = np.flatnonzero(alive)
    order = ids[np.lexsort((ids, -w[ids].astype(np.float64)))]
    if s.top_k > 0:
        order = order[: s.top_k]
        record("top_k", order, softmax(w[order]))
    if s.top_p < 1:
        cum = np.cumsum(softmax(w[order]))
        keep = next((i + 1 for i, c in enumerate(cum) if c >= s.top_p), len(order))
        near |= any(0 < abs(cum[j] - s.top_p) < 1e-7 for j in (keep - 2, keep - 1) if j >= 0)
        order = order[:keep]
        record("top_p", order, softmax(w[order]))
    if s.min_p > 0:
        p = softmax(w[order])
        ratio = p / p[0]
        near |= bool(np.any((ratio != s.min_p) & (np.abs(ratio - s.min_p) < 1e-12 * s.min_p)))
        order = order[p >= s.min_p * p[0]]
        record("min_p", order, softmax(w[order]))
    if s.temperature <= 0:
        order, p = order[:1], np.ones(1)
    else:
        p = softmax(w[order].astype(np.float64) / s.temperature)
    record("temperature", order, p)
    # the die's order: descending p, equal logits by id (p equal only by rounding keeps logit order)
    assert np.all(np.diff(p) <= 0)
    return Ref(stages, order, p, near)


def check_against_reference(d: Distribution, ref: Ref, x, s: SamplerSettings, u: float, top_n=50):
    """Compare one step with the reference's (which must not decide a filter within rounding)."""
    assert not ref.near_tie
    raw = softmax(x)
    finite = np.flatnonzero(np.isfinite(x))
    want_cand = finite[np.lexsort((finite, -x[finite].astype(np.float64)))][:top_n]
    assert list(d.candidates[: want_cand.size]) == list(want_cand)
    cand = d.candidates
    np.testing.assert_allclose(d.p_raw, raw[cand], rtol=0, atol=1e-6)
    assert d.entropy_bits == pytest.approx(-(raw[raw > 0] * np.log2(raw[raw > 0])).sum(), abs=1e-5)
    assert [stage.name for stage in d.stages] == [name for name, _, _ in ref.stages]
    was = np.isfinite(x[cand])
    for stage, (_, p, mask) in zip(d.stages, ref.stages, strict=True):
        np.testing.assert_allclose(stage.p, p[cand], rtol=0, atol=1e-6)
        np.testing.assert_array_equal(stage.removed, was & ~mask[cand])
        assert stage.rest_p == pytest.approx(p[mask].sum() - p[cand][mask[cand]].sum(), abs=1e-6)
        assert stage.n_alive == mask.sum()
        was = was & mask[cand]
    assert d.n_alive == ref.order.size
    ids, p = d.final_order()
    assert list(ids) == list(ref.order[: ids.size])
    assert ids.size == min(ref.order.size, ORDER_CAP)
    np.testing.assert_allclose(p, ref.p[: ids.size], rtol=0, atol=1e-6)
    assert p.sum() + d.order_rest_p == pytest.approx(1.0, abs=1e-6)
    if s.temperature <= 0:
        assert d.u is None and d.chosen == ref.order[0]
    else:
        cum = np.cumsum(ref.p)
        j = min(int(np.searchsorted(cum, u)), cum.size - 1)
        if not any(abs(cum[i] - u) < 1e-6 for i in (j - 1, j) if i >= 0):
            assert d.chosen == ref.order[j]


@st.composite
def steps(draw):
    n = draw(st.one_of(st.integers(1, 12), st.integers(13, 400), st.integers(4096, 9000)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal(n) * draw(st.sampled_from([0.0, 0.3, 1.0, 3.0, 8.0]))
    if draw(st.booleans()):
        x = np.round(x)  # ties
    x[rng.integers(0, n, draw(st.integers(0, 3)))] += draw(st.floats(0, 30))
    x[rng.choice(n, draw(st.integers(0, min(3, n - 1))), replace=False)] = -np.inf
    s = SamplerSettings(
        temperature=draw(st.one_of(st.just(0.0), st.just(1.0), st.floats(0.05, 4.0))),
        top_k=draw(st.one_of(st.just(0), st.just(-1), st.integers(1, 60))),
        top_p=draw(st.one_of(st.just(1.0), st.floats(0.0, 1.0))),
        min_p=draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))),
        repeat_penalty=draw(st.one_of(st.just(1.0), st.floats(0.5, 2.0))),
        repeat_last_n=draw(st.sampled_from([-1, 0, 3, 64])),
        frequency_penalty=draw(st.one_of(st.just(0.0), st.floats(-1.0, 1.0))),
        presence_penalty=draw(st.one_of(st.just(0.0), st.floats(-1.0, 1.0))),
        ban_eos=draw(st.booleans()),
    )
    history = draw(st.lists(st.integers(0, n - 1), max_size=20))
    eog = draw(st.lists(st.integers(0, n - 1), max_size=3))
    u = draw(st.floats(0.0, 1.0, exclude_max=True))
    return x.astype(np.float32), history, eog, s, u, draw(st.sampled_from([0, 1, 5, 50]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps())
def test_pipeline_matches_reference(step):
    x, history, eog, s, u, top_n = step
    ref = reference(x, history, eog, s)
    assume(not ref.near_tie)  # a filter decision within rounding of its threshold
    d = Sampler(s, eog_ids=eog).distribution(x, history, u=u, top_n=top_n)
    check_against_reference(d, ref, x, s, u, top_n)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps(), st.one_of(st.none(), st.integers(0, 3)))
def test_pipeline_invariants(step, forced):
    x, history, eog, s, u, top_n = step
    forced = None if forced is None or forced >= x.size else forced
    d = Sampler(s, eog_ids=eog).distribution(x, history, u=u, top_n=top_n, forced=forced)
    ids, p = d.final_order()
    assert p[0] > 0 and np.all(p >= 0) and np.all(np.diff(p) <= 0)  # far tails may round to 0
    if d.n_alive <= ORDER_CAP:
        assert ids.size == d.n_alive and d.order_rest_p == 0.0
        assert p.sum() == pytest.approx(1.0, abs=1e-9 if d.n_alive < 1000 else 1e-6)
    alive = np.isfinite(d.logits)
    for stage in d.stages:
        assert np.all(stage.p >= 0) and stage.rest_p >= 0
        assert stage.p.sum() + stage.rest_p == pytest.approx(1.0, abs=1e-6)
        assert not np.any(stage.removed & ~alive)
        assert np.all(stage.p[~alive] == 0.0)  # removed earlier: zero from then on
        alive = alive & ~stage.removed
    np.testing.assert_array_equal(d.p_final, d.stages[-1].p)
    for a in (d.candidates, d.order_ids, d.order_p, d.p_raw, d.p_final, d.logits):
        assert a.base is None or a.base.size == a.size  # a stored step holds no big array alive
    assert [r is None for r in d.removed_by] == list(alive | ~np.isfinite(d.logits))
    assert d.candidates[d.chosen_index] == d.chosen
    if forced is None:
        assert d.p_final[d.chosen_index] > 0
        assert d.chosen in ids or d.n_alive > ORDER_CAP
    else:
        assert d.chosen == forced and d.forced
    assert (d.u is None) == (s.temperature <= 0)


# --- the seed, replays, frequencies -----------------------------------------------------------------


def test_same_seed_same_rolls_and_replay_with_new_settings():
    x = big_logits(6, 49_152)
    a = Sampler(SamplerSettings(seed=7))
    b = Sampler(SamplerSettings(seed=7))
    da = [a.distribution(x, u=None) for _ in range(20)]
    db = [b.distribution(x) for _ in range(20)]
    assert [(d.u, d.chosen) for d in da] == [(d.u, d.chosen) for d in db]
    assert len({d.u for d in da}) == 20
    other = Sampler(SamplerSettings(seed=8)).distribution(x)
    assert other.u != da[0].u
    a.reseed(7)
    assert a.distribution(x).u == da[0].u
    stored = da[3]
    new = SamplerSettings(top_k=0, top_p=0.9, temperature=1.3)
    again = a.distribution(x, u=stored.u, settings=new)
    assert again.u == stored.u and again.settings == new
    assert a.distribution(x, u=stored.u, settings=stored.settings).chosen == stored.chosen
    ids, p = again.final_order()
    cum = np.cumsum(p)
    assert again.chosen == ids[min(int(np.searchsorted(cum, stored.u)), ids.size - 1)]


def test_roll_frequencies_follow_the_final_distribution():
    sampler = Sampler(SamplerSettings(seed=2024, temperature=0.9, top_k=4, top_p=1.0, min_p=0.0))
    x = np.array([2.0, 1.0, 0.5, 0.0, -1.0, 1.5], dtype=np.float32)
    counts = Counter(sampler.distribution(x).chosen for _ in range(20_000))
    d = sampler.distribution(x)
    want = final(d)
    assert set(counts) <= set(want) and 4 not in counts and 3 not in counts
    expected = np.array([want[k] * 20_000 for k in want])
    observed = np.array([counts[k] for k in want])
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert chi2 < 16.27  # 3 degrees of freedom, p = 0.001


# --- settings ------------------------------------------------------------------------------------------


def test_settings_round_trip_and_validation():
    s = SamplerSettings(temperature=1, top_k=10.0, seed=3)
    assert isinstance(s.temperature, float) and s.top_k == 10 and isinstance(s.top_k, int)
    assert SamplerSettings.from_dict(s.to_dict()) == s
    assert SamplerSettings.from_dict({"top_p": 0.5, "unknown": 1}) == SamplerSettings(top_p=0.5)
    assert s.replace(top_k=3).top_k == 3 and s.top_k == 10
    bad = [
        ("temperature", -0.1),
        ("top_p", 1.5),
        ("min_p", -0.1),
        ("repeat_penalty", 0.0),
        ("repeat_last_n", -2),
        ("seed", -1),
        ("top_k", 2.5),
        ("temperature", "hot"),
        ("top_p", math.nan),
        ("ban_eos", "yes"),
        ("wait_count", -1),
        ("top_k", True),
    ]
    for name, value in bad:
        with pytest.raises(ValueError, match=name):
            SamplerSettings.from_dict({name: value})
    with pytest.raises(ValueError, match="mapping"):
        SamplerSettings.from_dict([("top_k", 3)])


def test_bad_inputs_raise_clear_errors():
    sampler = Sampler(SamplerSettings(seed=0))
    for logits, match in [
        (np.array([1.0, np.nan]), "NaN"),
        (np.array([np.inf, 0.0]), "inf"),
        (np.full(3, -np.inf), "-inf"),
        (np.zeros((2, 2)), "1-D"),
        (np.zeros(0), "1-D"),
    ]:
        with pytest.raises(ValueError, match=match):
            sampler.distribution(logits)
    with pytest.raises(ValueError, match="forced"):
        sampler.distribution(np.zeros(3), forced=3)
    with pytest.raises(ValueError, match="u must"):
        sampler.distribution(np.zeros(3), u=1.5)
    with pytest.raises(ValueError, match="end-of-generation"):
        Sampler(eog_ids=[-1])
    d = sampler.distribution(np.zeros(3, dtype=np.float64))  # other dtypes are converted
    with pytest.raises(ValueError):
        d.p_final[0] = 1.0  # snapshots are read-only


# --- the fast path and the lazy Distribution --------------------------------------------------------

EAGER = ("n_vocab", "u", "chosen", "forced", "greedy", "n_alive", "order_rest_p", "chosen_p_final")
LAZY = (
    "candidates",
    "logits",
    "p_raw",
    "rest_p_raw",
    "removed_by",
    "p_final",
    "rest_p_final",
    "chosen_index",
    "entropy_bits",
    "eos_p_raw",
    "eos_p_final",
    "chosen_p_raw",
)


def same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    return type(a) is type(b) and a == b


def assert_identical(lazy: Distribution, full: Distribution) -> None:
    """Field by field, to the bit."""
    for name in EAGER + LAZY:
        assert same(getattr(lazy, name), getattr(full, name)), name
    assert lazy.settings == full.settings
    for got, want in zip(lazy.final_order(), full.final_order(), strict=True):
        assert same(got, want)
    assert [s.name for s in lazy.stages] == [s.name for s in full.stages]
    for got, want in zip(lazy.stages, full.stages, strict=True):
        assert same(got.p, want.p) and same(got.removed, want.removed), got.name
        assert (got.rest_p, got.n_alive) == (want.rest_p, want.n_alive), got.name
    assert lazy.chosen_interval() == full.chosen_interval()


@st.composite
def lazy_steps(draw):
    x, history, eog, s, u, top_n = draw(steps())
    n = x.size
    s = s.replace(
        top_k=draw(st.sampled_from([0, 1, 5, 40])),
        repeat_penalty=draw(st.sampled_from([1.0, 0.05, 0.5, 1.3, 3.0])),
        frequency_penalty=draw(st.sampled_from([0.0, -2.0, -0.3, 0.4])),
        presence_penalty=draw(st.sampled_from([0.0, -20.0, -1.0, 0.7])),
    )
    history = history + draw(st.lists(st.integers(0, n - 1), max_size=30))
    forced = draw(st.one_of(st.none(), st.integers(0, n - 1)))
    u = draw(st.sampled_from([None, u]))
    return x, history, eog, s, u, top_n, forced


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lazy_steps())
def test_lazy_distribution_equals_the_full_pipeline(step):
    x, history, eog, s, u, top_n, forced = step
    seed = 11
    fast = Sampler(s.replace(seed=seed), eog_ids=eog)
    slow = Sampler(s.replace(seed=seed), eog_ids=eog)
    lazy = fast.distribution(x, history, u=u, top_n=top_n, forced=forced)
    full = slow.full_distribution(x, history, u=u, top_n=top_n, forced=forced)
    assert full.is_materialized and full.is_released
    assert lazy.is_materialized == (s.top_k <= 0)  # top-k off: the full pipeline at once
    assert lazy.chosen == full.chosen  # the fast path's pick for the same u
    assert fast.rng.bit_generator.state == slow.rng.bit_generator.state
    assert_identical(lazy, full)
    lazy.release()
    assert lazy.is_released and lazy.is_materialized
    assert_identical(lazy, full)


@pytest.mark.parametrize("n", [49_152, 262_144, 100_003])
def test_fast_path_on_big_vocabularies_matches_the_full_pipeline(n):
    x = big_logits(7, n)
    rng = np.random.default_rng(8)
    tail = np.argsort(x)[:10].tolist()  # the lowest logits of the vocabulary
    history = tail + rng.integers(0, n, 50).tolist()
    cases = [
        SamplerSettings(),
        SamplerSettings(ban_eos=True),
        SamplerSettings(repeat_penalty=1.1, ban_eos=True),
        SamplerSettings(presence_penalty=-40.0, top_p=1.0, min_p=0.0),  # lifts the tail into the top
        SamplerSettings(frequency_penalty=-30.0, temperature=0.0),
        SamplerSettings(top_k=5000, top_p=0.99, min_p=0.0, temperature=1.7),
        SamplerSettings(top_k=1, temperature=1.0),
    ]
    for s in cases:
        for u in (0.0, 0.3, 0.999, None):
            eog = [int(np.argmax(x)), 3, n - 1]  # the best token is an end token
            lazy = Sampler(s.replace(seed=4), eog_ids=eog).distribution(x, history, u=u, forced=None)
            full = Sampler(s.replace(seed=4), eog_ids=eog).full_distribution(x, history, u=u)
            assert not lazy.is_materialized
            assert_identical(lazy, full)
    lifted = Sampler(SamplerSettings(presence_penalty=-40.0, temperature=0.0)).distribution(x, tail)
    assert lifted.chosen in tail


def test_repeat_penalty_below_one_raises_a_tail_token_exactly():
    rng = np.random.default_rng(3)
    x = (-np.abs(rng.standard_normal(262_144) * 3) - 1).astype(np.float32)  # every logit negative
    deep = int(np.argmin(x))
    s = SamplerSettings(repeat_penalty=0.01, temperature=0.0)  # -v · 0.01: the deepest becomes the best
    d = Sampler(s).distribution(x, [deep, deep])
    assert d.chosen == deep and d.chosen_p_final == 1.0 and not d.is_materialized
    assert_identical(d, Sampler(s).full_distribution(x, [deep, deep]))


def test_distribution_is_lazy_until_read_and_release_drops_the_logits():
    x = big_logits(9, 49_152)
    ref = weakref.ref(x)
    sampler = Sampler(SamplerSettings(seed=3, ban_eos=True), eog_ids=[1, 2])
    d = sampler.distribution(x, [5, 6, 7])
    want = Sampler(SamplerSettings(seed=3, ban_eos=True), eog_ids=[1, 2]).full_distribution(x, [5, 6, 7])
    assert not d.is_materialized and not d.is_released
    assert d.final_order()[0][0] == d.chosen or d.u is not None  # the roll is known
    del x
    gc.collect()
    assert ref() is not None  # kept for the lazy part
    d.release()
    gc.collect()
    assert d.is_released and d.is_materialized and ref() is None
    assert_identical(d, want)
    d.release()  # twice is harmless
    with pytest.raises(AttributeError):
        d.chosen = 3
    e = sampler.distribution(big_logits(9, 49_152), [5, 6, 7])
    assert e.candidates is e.candidates and e.is_materialized and not e.is_released


def test_lazy_part_computed_from_several_threads_agrees():
    x = big_logits(10)
    s = SamplerSettings(seed=5, repeat_penalty=1.2)
    want = Sampler(s).full_distribution(x, list(range(100)))
    for _ in range(3):
        d = Sampler(s).distribution(x, list(range(100)))
        got: list[Distribution] = []
        workers = [threading.Thread(target=lambda d=d, got=got: got.append(d.stages)) for _ in range(4)]
        workers.append(threading.Thread(target=d.release))
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert len(got) == 4 and d.is_released
        assert_identical(d, want)


def test_history_changed_after_the_call_does_not_change_the_lazy_part():
    x = big_logits(11, 49_152)
    s = SamplerSettings(seed=1, repeat_penalty=1.5, presence_penalty=0.5)
    history = list(range(0, 640, 10))
    want = Sampler(s).full_distribution(x, list(history))
    d = Sampler(s).distribution(x, history)
    history.extend(int(i) for i in want.candidates[:20])  # the session appends to its token list
    assert_identical(d, want)


def test_a_saved_step_round_trips_through_its_candidates():
    from desktop_app.core.engine.distribution import Distribution
    from desktop_app.core.store.reply_tokens import Candidates

    logits = np.random.default_rng(3).normal(size=2000).astype(np.float32) * 3
    d = Sampler(SamplerSettings(seed=5, top_k=10), eog_ids=[7]).distribution(logits, top_n=30)
    c = Candidates.from_distribution(d, 30)
    back = Distribution.from_saved(
        c.ids, c.p_raw, c.p_final, chosen=d.chosen, u=d.u, forced=False, n_vocab=2000, eog_ids=frozenset({7})
    )
    assert back.is_saved and not d.is_saved
    assert back.chosen == d.chosen and back.u == d.u and back.chosen_index == d.chosen_index
    assert np.allclose(back.p_raw, d.p_raw[: len(c)], atol=1e-7)
    assert np.allclose(back.p_final, d.p_final[: len(c)], atol=1e-7)
    assert [r is None for r in back.removed_by] == [r is None for r in d.removed_by[: len(c)]]
    assert back.order_ids.tolist() == d.order_ids.tolist()  # top-k 10: every survivor is a candidate
    assert back.chosen_interval() == pytest.approx(d.chosen_interval(), abs=1e-6)
    assert back.rest_p_raw == pytest.approx(d.rest_p_raw, abs=1e-6)
    with pytest.raises(ValueError, match="not among"):
        Distribution.from_saved(c.ids, c.p_raw, c.p_final, chosen=-5, u=None, forced=False, n_vocab=2000)
