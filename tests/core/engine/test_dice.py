"""The die made visible: the strip and its roll agree with the sampler; many rolls follow the odds."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from desktop_app.core.engine.dice import chi2_sf, chi_square, roll_many, strip
from desktop_app.core.engine.engine import Engine
from desktop_app.core.engine.sampler import Sampler
from desktop_app.core.sampler_settings import SamplerSettings


def real_step(engine: Engine, text: str, settings: SamplerSettings, **kw):
    engine.reset()
    tokens = engine.tokenize(text, add_bos=engine.add_bos)
    engine.sync(tokens)
    return Sampler(settings, eog_ids=engine.eog_ids).distribution(engine.logits(), tokens, **kw)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_the_marked_roll_lands_on_the_chosen_token(engine: Engine, seed: int):
    settings = SamplerSettings(seed=seed, top_k=0, top_p=1.0, min_p=0.0, temperature=1.0)
    d = real_step(engine, "My favourite colour is", settings)
    s = strip(d, top=4000)
    assert s.u == d.u and s.chosen == d.chosen
    assert s.slices[0].lo == 0.0
    for a, b in zip(s.slices, s.slices[1:], strict=False):
        assert a.hi == pytest.approx(b.lo) and a.p >= b.p - 1e-12  # contiguous, in die order
    assert s.landed is not None
    hit = s.slices[s.landed]
    assert hit.lo < d.u <= hit.hi + 1e-12
    assert hit.token == d.chosen  # the strip shows exactly the sampler's pick


def test_a_picked_token_has_no_roll_on_the_strip(smollm2_engine: Engine):
    d = real_step(smollm2_engine, "Hello", SamplerSettings(seed=1), forced=42)
    s = strip(d)
    assert s.u is None and s.landed is None and s.chosen == 42


def test_1000_rolls_match_the_probabilities(smollm2_engine: Engine):
    settings = SamplerSettings(seed=11, top_k=8, top_p=1.0, min_p=0.0, temperature=1.2)
    d = real_step(smollm2_engine, "The weather today is", settings)
    tally = roll_many(d, 1000, seed=2024)
    assert tally.counts.sum() + tally.other_count == 1000
    assert np.allclose(tally.probs, d.final_order()[1])
    fit = chi_square(tally)
    assert fit.dof >= 2
    assert fit.p_value > 0.001, f"chi-square {fit.statistic:.1f} on {fit.dof} dof"
    # the same rolls against the wrong probabilities (uniform) are rejected: the test can fail
    wrong = replace(tally, probs=np.full(tally.probs.size, 1.0 / tally.probs.size))
    assert chi_square(wrong).p_value < 1e-6


def test_rolls_are_reproducible_with_a_seed(smollm2_engine: Engine):
    d = real_step(smollm2_engine, "Once upon a", SamplerSettings(seed=3, top_k=20))
    a, b = roll_many(d, 100, seed=5), roll_many(d, 100, seed=5)
    assert np.array_equal(a.counts, b.counts)
    assert not np.array_equal(a.counts, roll_many(d, 100, seed=6).counts)


def test_a_greedy_die_always_shows_the_top_token(smollm2_engine: Engine):
    d = real_step(smollm2_engine, "Once upon a", SamplerSettings(temperature=0))
    tally = roll_many(d, 100)
    assert tally.counts[0] == 100 and tally.ids[0] == d.chosen
    with pytest.raises(ValueError):
        roll_many(d, 0)


def test_chi2_survival_function_against_tables():
    assert chi2_sf(3.841, 1) == pytest.approx(0.05, abs=2e-4)
    assert chi2_sf(18.307, 10) == pytest.approx(0.05, abs=2e-4)
    assert chi2_sf(6.635, 1) == pytest.approx(0.01, abs=1e-4)
    assert chi2_sf(124.342, 100) == pytest.approx(0.05, abs=5e-4)
    assert chi2_sf(0.0, 3) == 1.0
