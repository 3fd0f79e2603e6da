"""TokenDice's stages and die over what a server reports agree with the local sampler wherever the
reported candidates decide the answer, and say what they do not know (the rest, NaN) otherwise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from desktop_app.core.engine.sampler import Sampler
from desktop_app.core.remote.reported import NO_REPEAT_PENALTY, REST, Reported, judge
from desktop_app.core.sampler_settings import SamplerSettings

VOCAB = 300


def _logits(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(VOCAB) * 3).astype(np.float32)


def _report(x: np.ndarray, k: int) -> Reported:
    """What a server reports: the top k tokens' log-probabilities (from the same float32 logits)."""
    lp = x.astype(np.float64) - x.max()
    lp -= math.log(np.exp(lp).sum())
    order = np.lexsort((np.arange(x.size), -lp))[:k]
    return Reported(order.astype(np.int64), lp[order], tuple(f"t{i}".encode() for i in order))


SETTINGS = st.builds(
    SamplerSettings,
    temperature=st.sampled_from([0.0, 0.3, 0.8, 1.0, 1.7]),
    top_k=st.sampled_from([0, 1, 5, 40]),
    top_p=st.sampled_from([1.0, 0.95, 0.5]),
    min_p=st.sampled_from([0.0, 0.05, 0.3]),
    frequency_penalty=st.sampled_from([0.0, 0.5]),
    presence_penalty=st.sampled_from([0.0, 1.0]),
    ban_eos=st.booleans(),
)


def _on_an_edge(d, s: SamplerSettings, eps: float = 1e-5) -> bool:
    """Whether a stage of ``d`` decides a token within ``eps`` of its edge (see the test below)."""
    names = [stage.name for stage in d.stages]
    for name in ("top_p", "min_p"):
        if name not in names:
            continue
        i = names.index(name)
        before = np.nan_to_num(np.asarray(d.stages[i - 1].p if i else d.p_raw, dtype=np.float64))
        if name == "top_p":
            cum = np.cumsum(np.sort(before)[::-1])
            if np.any(np.abs(cum - s.top_p) < eps):
                return True
        elif before.max() > 0 and np.any(np.abs(before / before.max() - s.min_p) < eps):
            return True
    return False


# Derandomized: the same examples every run, so that a case found once (below) is looked into, not met
# again by chance on one CI run and not the next.
@settings(max_examples=150, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), s=SETTINGS, u=st.floats(0, 0.999))
# Found by hypothesis: a low temperature, where float32 rounding shows most (see below).
@example(seed=1003, s=SamplerSettings(temperature=0.3, top_k=0, top_p=0.95, min_p=0.0), u=0.0)
def test_with_the_whole_vocabulary_reported_every_stage_equals_the_local_sampler(seed, s, u):
    x = _logits(seed)
    history = [3, 3, 7, 11]
    eog = (5,)
    local = Sampler(s, eog_ids=eog).full_distribution(x, history, top_n=VOCAB, u=u)
    judged = judge(_report(x, VOCAB), s, history=history, eog_ids=eog, n_vocab=VOCAB)
    index = judged.roll(None if s.greedy else u)
    assert index != REST
    d = judged.distribution(int(judged.reported.ids[index]), settings=s, u=u, n_vocab=VOCAB)
    # Where a token sits on a stage's edge (the top-p mass, the min-p threshold) within float32's rounding,
    # the local sampler (float32, as llama.cpp's logits) and the report (float64) may each decide it the
    # other way: both are right to their precision, so such cases say nothing here.
    assume(not _on_an_edge(d, s))
    assert d.chosen == local.chosen
    ours = dict(zip(d.candidates.tolist(), d.p_final.tolist(), strict=True))
    theirs = dict(zip(local.candidates.tolist(), local.p_final.tolist(), strict=True))
    for token, p in theirs.items():
        # The local sampler works in float32 (llama.cpp's logits), the server's report in float64: the
        # same probabilities up to float32's rounding, which a low temperature multiplies (a few 1e-6).
        assert ours[token] == pytest.approx(p, rel=1e-5, abs=1e-6)
    assert [st.name for st in d.stages] == [st.name for st in local.stages]
    assert d.rest_p_raw == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.sampled_from([1, 5, 20]), u=st.floats(0, 0.999))
def test_top_k_within_the_reported_candidates_is_exact_and_cuts_the_rest(seed, k, u):
    x = _logits(seed)
    s = SamplerSettings(top_k=k, top_p=1.0, min_p=0.0, temperature=0.9)
    local = Sampler(s).full_distribution(x, top_n=VOCAB, u=u)
    judged = judge(_report(x, 20), s)
    assert judged.rest_final == 0.0
    index = judged.roll(u)
    assert int(judged.reported.ids[index]) == local.chosen
    for token, p in zip(judged.reported.ids.tolist(), judged.p_final.tolist(), strict=True):
        assert p == pytest.approx(float(local.p_final[local.candidates.tolist().index(token)]), abs=1e-9)


def test_the_rest_stays_one_bar_and_a_roll_can_fall_in_it():
    x = _logits(1)
    s = SamplerSettings(top_k=0, top_p=1.0, min_p=0.0, temperature=1.0)
    rep = _report(x, 5)
    judged = judge(rep, s, n_vocab=VOCAB)
    assert judged.rest_raw == pytest.approx(1 - rep.p.sum())
    assert judged.rest_final == pytest.approx(judged.rest_raw)  # at T = 1, exact
    assert judged.stages[-1].n_alive == VOCAB
    assert judged.roll(0.9999) == REST
    d = judged.distribution(123, settings=s, u=0.9999, n_vocab=VOCAB)  # the server's pick from the rest
    assert d.chosen == 123 and d.candidates[-1] == 123
    assert math.isnan(d.p_raw[-1]) and math.isnan(d.chosen_p_final)
    assert d.rest_p_raw == pytest.approx(judged.rest_raw)


def test_the_rest_under_temperature_is_bounded_by_its_smallest_reported_token():
    x = _logits(2)
    rep = _report(x, 10)
    local_cold = Sampler(SamplerSettings(top_k=0, top_p=1, min_p=0, temperature=0.5)).full_distribution(
        x, u=0.1
    )
    cold = judge(rep, SamplerSettings(top_k=0, top_p=1, min_p=0, temperature=0.5))
    hot = judge(rep, SamplerSettings(top_k=0, top_p=1, min_p=0, temperature=2.0))
    true_cold_rest = 1 - sum(
        float(local_cold.p_final[local_cold.candidates.tolist().index(t)]) for t in rep.ids
    )
    assert cold.rest_final >= true_cold_rest - 1e-9  # an upper bound for T < 1
    assert hot.rest_final > cold.rest_final


def test_the_repeat_penalty_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="raw logits"):
        judge(_report(_logits(3), 5), SamplerSettings(repeat_penalty=1.1))
    assert "frequency or presence" in NO_REPEAT_PENALTY


def test_a_malformed_report_is_refused():
    with pytest.raises(ValueError):
        Reported(np.array([1, 2]), np.array([-0.1]), (b"a", b"b"))
    with pytest.raises(ValueError):
        Reported(np.array([], dtype=np.int64), np.array([]), ())


def test_a_step_picked_in_the_rest_saves_and_reads_back_without_nan_sums():
    from desktop_app.core.conversation.shown import ShownToken
    from desktop_app.core.engine.dice import strip
    from desktop_app.core.engine.session import Step
    from desktop_app.core.engine.tokens import TokenView
    from desktop_app.core.store.reply_tokens import ReplyToken

    x = _logits(3)
    rep = _report(x, 5)
    s = SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0)
    judged = judge(rep, s, n_vocab=VOCAB)
    u = 0.999  # past the five reported: the rest
    assert judged.roll(u) == REST
    unreported = int(np.setdiff1d(np.arange(VOCAB), rep.ids)[0])
    d = judged.distribution(unreported, settings=s, u=u, n_vocab=VOCAB)
    assert d.reported and math.isnan(d.chosen_p_final)
    # The die's strip does not say the roll landed on a reported slice.
    assert strip(d).landed is None
    # A token the server picked with its own die has no roll and is not greedy (temperature 1).
    assert not judged.distribution(unreported, settings=s, u=None, n_vocab=VOCAB, greedy=s.greedy).greedy
    # Saved and read back: the known numbers kept, the unknown ones NaN, no sum poisoned by them.
    saved = ReplyToken.from_step(Step(10, TokenView(unreported, b"x"), "x", d))
    shown = ShownToken(
        unreported, b"x", "x", saved.p_raw, saved.p_final, saved.u, candidates=saved.candidates
    )
    back = shown.distribution(VOCAB, frozenset())
    assert back is not None and back.reported
    assert math.isclose(back.rest_p_raw, d.rest_p_raw, abs_tol=1e-6) and math.isfinite(back.eos_p_raw)
    assert math.isnan(back.chosen_p_final)


def test_top_p_keeps_the_same_tokens_locally_and_over_a_report_when_the_whole_order_is_known():
    """Found by hypothesis: when the local sampler had sorted the whole vocabulary already (every
    candidate asked for), top-p stopped at its first 64 tokens even when they did not reach top_p."""
    s = SamplerSettings(temperature=0.8, top_k=0, top_p=0.95, min_p=0.0)
    x = _logits(47)
    local = Sampler(s, eog_ids=(5,)).full_distribution(x, [3, 3, 7, 11], top_n=VOCAB, u=0.0)
    judged = judge(_report(x, VOCAB), s, history=[3, 3, 7, 11], eog_ids=(5,), n_vocab=VOCAB)
    d = judged.distribution(int(judged.reported.ids[judged.roll(0.0)]), settings=s, u=0.0, n_vocab=VOCAB)
    p = np.sort(np.asarray(local.p_raw, dtype=np.float64))[::-1]
    want = int(np.searchsorted(np.cumsum(p), 0.95)) + 1  # the shortest prefix reaching top_p
    assert want == 66 and d.n_alive == local.n_alive == want
