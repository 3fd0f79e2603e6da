"""The waterfall on real SmolLM2 steps: every active stage is a column whose numbers are the engine's,
removed tokens are greyed from the stage that removed them, and a slider move glides to the new values."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.core.engine.distribution import STAGE_NAMES, Distribution
from desktop_app.core.engine.sampler import Sampler
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.ui.widgets.waterfall import ANIMATION_MS, WaterfallView
from tests.ui.real_steps import EVERY_STAGE, REPEATING, label_of, logits_after, step


@pytest.fixture
def waterfall(qtbot) -> WaterfallView:
    widget = WaterfallView(top_n=30)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_every_stage_is_a_column_with_the_engines_numbers(waterfall, smollm2_engine):
    d = step(smollm2_engine, REPEATING, EVERY_STAGE)
    assert [s.name for s in d.stages] == list(STAGE_NAMES), "these settings turn every stage on"
    waterfall.set_step(d, label_of(smollm2_engine), smollm2_engine.eog_ids)
    waterfall.flush()
    assert waterfall.columns() == ["raw", *STAGE_NAMES]
    rows = waterfall.rows()
    index = [list(d.candidates).index(t) for t in rows]
    assert rows[:30] == [int(t) for t in d.candidates[:30]]
    values = waterfall.values()
    assert np.array_equal(values["raw"], np.asarray(d.p_raw)[index])
    for stage in d.stages:
        assert np.array_equal(values[stage.name], np.asarray(stage.p)[index]), stage.name
    assert np.array_equal(values["final"], np.asarray(d.p_final)[index])
    others = waterfall.others_values()
    hidden = np.ones(len(d.candidates), dtype=bool)
    hidden[index] = False
    top_k = d.stage("top_k")
    assert others["top_k"] == pytest.approx(top_k.rest_p + float(np.asarray(top_k.p)[hidden].sum()))
    # each header says what its stage did
    assert waterfall.header("top_k").split("\n") == ["top-k 20", "kept 20"]
    assert waterfall.header("top_p").split("\n") == ["top-p 0.9", f"kept {d.stage('top_p').n_alive}"]
    assert waterfall.header("min_p").startswith("min-p 0.05")
    assert waterfall.header("penalties").startswith("repeat ×1.3")
    assert waterfall.header("ban").startswith("end banned")
    assert "sharper" in waterfall.header("temperature")
    assert waterfall.cell(rows[0], "raw").text.endswith("%")


def test_removed_tokens_are_greyed_from_the_stage_that_removed_them(waterfall, smollm2_engine):
    d = step(smollm2_engine, REPEATING, EVERY_STAGE)
    waterfall.set_step(d, label_of(smollm2_engine), smollm2_engine.eog_ids)
    waterfall.flush()
    columns = waterfall.columns()
    removed = {}
    for token in waterfall.rows():
        by = d.removed_by[list(d.candidates).index(token)]
        states = [waterfall.cell(token, c).state for c in columns]
        if by is None:
            assert states == ["alive"] * len(columns)
            continue
        removed[token] = by
        at = columns.index(by)
        assert states == ["alive"] * at + ["removed"] + ["gone"] * (len(columns) - at - 1)
        cell = waterfall.cell(token, by)
        assert cell.p == 0.0 and cell.removed_by == by
        assert cell.text == "✂ " + {"top_k": "top-k", "top_p": "top-p", "min_p": "min-p"}.get(
            by, cell.text[2:]
        )
    assert {"top_k", "top_p"} <= set(removed.values())
    # one faint band per removed token, starting at its removing column
    x0 = list(waterfall.canvas.gone_bands.opts["x0"])
    assert sorted(x0) == sorted(float(columns.index(by)) for by in removed.values())
    assert len(waterfall.canvas.ghost_bars.opts["x0"]) == len(removed)


def test_a_slider_move_glides_to_the_new_values(waterfall, smollm2_engine, qtbot):
    tokens, logits = logits_after(smollm2_engine, REPEATING)
    sampler = Sampler(EVERY_STAGE, eog_ids=smollm2_engine.eog_ids)
    before = sampler.distribution(logits, tokens, top_n=50, u=0.3)
    after = sampler.distribution(
        logits, tokens, top_n=50, u=0.3, settings=EVERY_STAGE.replace(temperature=1.6)
    )
    label = label_of(smollm2_engine)
    waterfall.set_step(before, label, position=len(tokens))
    waterfall.flush()
    old = waterfall.bar_values()["temperature"]
    waterfall.set_step(after, label, position=len(tokens))
    waterfall.flush()
    index = [list(after.candidates).index(t) for t in waterfall.rows()]
    new = np.asarray(after.p_final)[index]
    assert not np.allclose(old, new)
    assert waterfall.is_animating()
    assert np.array_equal(waterfall.bar_values()["temperature"], old)  # the bars start where they were
    assert np.array_equal(waterfall.values()["temperature"], new)  # the numbers are the new ones
    seen = []
    waterfall.anim.valueChanged.connect(lambda _t: seen.append(waterfall.bar_values()["temperature"]))
    with qtbot.waitSignal(waterfall.animation_finished, timeout=ANIMATION_MS * 20):
        pass
    assert not waterfall.is_animating()
    assert np.array_equal(waterfall.bar_values()["temperature"], new)  # and end on the new values
    between = [v for v in seen if not (np.array_equal(v, old) or np.array_equal(v, new))]
    assert between, "frames in between were drawn"
    lo, hi = np.minimum(old, new), np.maximum(old, new)
    assert all(np.all((v >= lo - 1e-12) & (v <= hi + 1e-12)) for v in between)
    assert "flatter" in waterfall.header("temperature")


def test_other_candidates_jump_without_gliding(waterfall, smollm2_engine):
    label = label_of(smollm2_engine)
    waterfall.set_step(step(smollm2_engine, REPEATING, EVERY_STAGE), label, position=12)
    waterfall.flush()
    other = step(smollm2_engine, "The capital of France is", EVERY_STAGE)
    waterfall.set_step(other, label, position=6)
    waterfall.flush()
    assert not waterfall.is_animating()
    index = [list(other.candidates).index(t) for t in waterfall.rows()]
    assert np.array_equal(waterfall.bar_values()["final"], np.asarray(other.p_final)[index])


def test_only_active_stages_appear(waterfall, smollm2_engine):
    d = step(
        smollm2_engine, "The capital of France is", SamplerSettings(seed=1, top_k=0, top_p=0.9, min_p=0.0)
    )
    waterfall.set_step(d, label_of(smollm2_engine))
    waterfall.flush()
    assert waterfall.columns() == ["raw", "top_p", "temperature"]
    assert waterfall.note_text() == ""


def test_a_saved_step_shows_raw_and_final_and_says_why(waterfall, smollm2_engine):
    d = step(smollm2_engine, "The capital of France is", SamplerSettings(seed=1))
    saved = Distribution.from_saved(
        d.candidates[:20], d.p_raw[:20], d.p_final[:20],
        chosen=d.chosen, u=d.u, forced=False, n_vocab=d.n_vocab, eog_ids=smollm2_engine.eog_ids,
    )  # fmt: skip
    waterfall.set_step(saved, label_of(smollm2_engine))
    waterfall.flush()
    assert waterfall.columns() == ["raw", "final"]
    assert "saved step" in waterfall.note_text()
    values = waterfall.values()
    assert np.array_equal(values["final"], np.asarray(d.p_final[:20]))
    assert waterfall.cell(int(d.candidates[5]), "final").state == "removed"  # top-k 40, min-p: gone


def test_top_n_goes_from_5_to_30(waterfall, smollm2_engine):
    d = step(smollm2_engine, "Once upon a time", SamplerSettings(seed=1, top_k=0, min_p=0.0))
    waterfall.set_step(d, label_of(smollm2_engine))
    for n, shown in ((1, 5), (12, 12), (30, 30), (80, 30)):
        waterfall.set_top_n(n)
        waterfall.flush()
        assert waterfall.top_n() == shown
        assert len(waterfall.rows()) in (shown, shown + 1)


def test_resizing_after_clear_does_not_fail(qtbot, smollm2_engine):
    from desktop_app.ui.widgets.waterfall import WaterfallView

    view = WaterfallView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    from desktop_app.core.sampler_settings import SamplerSettings
    from tests.ui.real_steps import label_of, step

    d = step(smollm2_engine, "The sky is", SamplerSettings(seed=1, top_k=10))
    view.set_step(d, label_of(smollm2_engine), frozenset())
    view.flush()
    view.clear()
    view.resize(900, 600)  # a resize before the next frame: the cleared step must not be read
    qtbot.wait(50)
    view.flush()
    assert view.step() is None
