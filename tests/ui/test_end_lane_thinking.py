"""The end lane on real SmolLM2 replies that think: beside the chance to end the reply, the chance to close
the thinking at each thinking step (the close's first token, ``</``: SmolLM2 writes ``</think>`` in three
tokens), the closes taken back ("Wait" written instead) and the end of the thinking marked, the model's
close or the budget's. The thinking few-shot prompt of the engine's tests makes the model close it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from desktop_app.core.engine.session import Generation, Session, Step
from desktop_app.core.engine.thinking import CLOSE, ThinkingState
from desktop_app.core.engine.tokens import TokenView
from desktop_app.core.remote.reported import judge
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.ui.widgets.end_lane import (
    BELOW,
    BUDGET,
    CLOSED,
    PLAIN,
    TAKEN_BACK,
    THINKING,
    WAIT,
    ClosePoint,
    EndLane,
)
from desktop_app.ui.widgets.end_lane_points import token_chance
from desktop_app.ui.widgets.prob_chart_looks import format_percent
from tests.core.engine.test_thinking import FEW_SHOT, GREEDY
from tests.ui.test_reported_steps import END_TOKEN, IDS, OPEN, UNREPORTED, VOCAB, P, no_nan, reported


@pytest.fixture
def lane(qtbot) -> EndLane:
    widget = EndLane()
    qtbot.addWidget(widget)
    widget.resize(900, 260)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def think(engine, settings: SamplerSettings, prompt: str = FEW_SHOT, max_tokens: int = 30):
    engine.reset()
    tokens = engine.tokenize(prompt, add_bos=engine.add_bos)
    gen = Session(engine).generate(tokens, settings, max_tokens=max_tokens)
    steps = list(gen)
    return tokens, gen, steps


@pytest.fixture(scope="module")
def replies(smollm2_engine):
    """The replies the tests read, generated once: two closes taken back, a budget of 3, the thinking
    opened by the model's own <think>, and by the prompt."""
    e = smollm2_engine
    return {
        "wait": think(e, GREEDY.replace(think_wait=2)),
        "budget": think(e, GREEDY.replace(think_budget=3)),
        "own": think(e, GREEDY, prompt=FEW_SHOT.removesuffix("<think>")),
        "plain": think(e, GREEDY),
    }


def close_ids(engine) -> tuple[int, ...]:
    return tuple(engine.tokenize(CLOSE, add_bos=False, special=True))


def true_p(engine, prompt: list[int], steps: list[Step], k: int, token: int) -> float:
    """The model's raw probability of ``token`` at step ``k``, from the whole vocabulary's logits."""
    engine.reset()
    engine.sync(prompt + [s.token.id for s in steps[:k]])
    logits = engine.logits(None).astype(np.float64)
    p = np.exp(logits - logits.max())
    return float(p[token] / p.sum())


def test_the_chance_to_close_with_two_closes_taken_back_and_the_model_s_own_close(
    lane, smollm2_engine, replies
):
    engine = smollm2_engine
    close = close_ids(engine)
    assert [engine.piece(t) for t in close] == [b"</", b"think", b">"]
    prompt, gen, steps = replies["wait"]
    assert gen.opened_thinking
    lane.set_model(close, engine.eog_ids)
    lane.set_steps(steps, opened=True)
    lane.flush()
    points, closes = lane.points(), lane.close_points()
    assert len(points) == len(closes) == len(steps)  # greedy, nothing inserted without a roll
    waits = [i for i, s in enumerate(steps) if s.inserted]
    began = next(i for i, s in enumerate(steps) if s.token.id == close[0])
    assert len(waits) == 2 and waits[-1] < began
    # Every step of the thinking has its chance to close, up to the one that began the close; none after.
    assert all(c is not None for c in closes[: began + 1]) and all(c is None for c in closes[began + 1 :])
    for i in range(began):
        d, c = steps[i].distribution, closes[i]
        if i in waits:  # the close was taken back: the Wait keeps the step where it began ("</")
            assert c.marker == TAKEN_BACK and not c.last_token and not c.below
            assert c.p == d.chosen_p_raw and d.chosen == close[0]
            assert points[i][1] == PLAIN  # a "Wait" for the close, not for the end
            continue
        assert c.marker == THINKING
        hit = np.flatnonzero(d.candidates == close[0])
        if hit.size:
            assert not c.below and c.p == d.p_raw[hit[0]]
        else:  # not a candidate: below the smallest candidate's, as the whole vocabulary says
            assert c.below and c.p == min(d.p_raw[-1], d.rest_p_raw)
    below = [i for i, c in enumerate(closes) if c is not None and c.marker == THINKING and c.below]
    for i in below[:2]:  # the whole vocabulary says so
        assert true_p(engine, prompt, steps, i, close[0]) < closes[i].p
    # The model began its close at "</": marked where the thinking ended, with the chance it had.
    assert closes[began].marker == CLOSED and closes[began].p == steps[began].distribution.chosen_p_raw
    assert closes[began].p > 0.5
    # The plot draws each kind where it is.
    drawn = lane.drawn_close()
    assert list(drawn[TAKEN_BACK][0]) == [i + 1.0 for i in waits]
    assert list(drawn[CLOSED][0]) == [began + 1.0] and drawn[CLOSED][1][0] == closes[began].p
    assert list(drawn[BELOW][0]) == [i + 1.0 for i in below]
    assert len(drawn[THINKING][0]) == began - len(waits) - len(below)
    x, y = lane.close_line.getData()
    assert len(x) == len(points) and np.isnan(y[began + 1 :]).all() and not np.isnan(y[: began + 1]).any()
    assert lane.drawn()[WAIT][0].size == 0  # no end was replaced
    image = lane.plot.grab().toImage()  # drawn in the close's own colour, apart from the end's
    colour = lane.close_color()
    assert (
        sum(
            image.pixelColor(px, py) == colour
            for px in range(0, image.width(), 2)
            for py in range(image.height())
        )
        > 50
    )
    # What it says: a line of its own in the title, the legend, the tooltips.
    title = lane.title_label.text().replace("\u00a0", " ")
    assert title.splitlines()[1].startswith("Chance to close the thinking (model): ")
    top = max((i for i, c in enumerate(closes) if c is not None), key=lambda i: closes[i].p)
    assert top in waits  # the model wanted most to close where the close was taken back
    assert f"highest {closes[top].p * 100:.1f} % at token {top + 1}" in title
    assert "now" not in title.splitlines()[1]  # the thinking is over
    assert "close its thinking" in lane.legend_label.text() and "</think>" in lane.title_label.toolTip()
    said = lane.point_tooltip(waits[0])  # the exact chance to begin the close, where it was taken back
    assert "taken back" in said and f"close its thinking here was {closes[waits[0]].p * 100:.1f} %" in said
    assert "The model closed its thinking here." in lane.point_tooltip(began)
    assert "below" in lane.point_tooltip(below[0])
    no_nan(title, *(lane.point_tooltip(i) for i in range(len(points))))


def test_a_budget_s_close_is_marked_after_the_last_thinking_token(lane, smollm2_engine, replies):
    engine = smollm2_engine
    _prompt, _gen, steps = replies["budget"]
    written = [i for i, s in enumerate(steps) if s.inserted]
    assert written == [3, 4, 5, 6, 7]  # "\n</think>\n\n", with no roll of its own: no point
    lane.set_model(close_ids(engine), engine.eog_ids)
    lane.set_steps(steps, opened=True)
    lane.flush()
    closes = lane.close_points()
    assert len(closes) == len(steps) - len(written) and lane.point_tokens()[3] == 8
    assert [c.marker if c else None for c in closes[:4]] == [THINKING, THINKING, BUDGET, None]
    assert all(c is None for c in closes[3:])
    assert list(lane.drawn_close()[BUDGET][0]) == [3.0]
    assert "budget was spent" in lane.point_tooltip(2)
    # "</" was never among the candidates: the title gives how small its chance was, no highest.
    assert all(c.below for c in closes[:3])
    bound = max(c.p for c in closes[:3])
    assert lane.title_label.text().splitlines()[1] == (
        f"Chance to close the thinking (model): all below {format_percent(bound).removeprefix('<')}"
    ).replace(" %", "\u00a0%")


def test_a_close_of_one_token_taken_back_has_its_own_chance(lane, smollm2_engine, monkeypatch):
    """A vocabulary with the close as one token (Qwen3's </think>): its chance is that token's. SmolLM2 has
    none: "." stands for it here, as in the engine's test of a one-token close."""
    engine = smollm2_engine
    (dot,) = engine.tokenize(".", add_bos=False)
    original = Generation._thinking

    def with_dot_close(self, engine_, kept_text):
        state = original(self, engine_, kept_text)
        return ThinkingState(state.inside, state.waits_left, state.budget, close_id=dot)

    monkeypatch.setattr(Generation, "_thinking", with_dot_close)
    _prompt, gen, steps = think(engine, GREEDY.replace(think_wait=1), max_tokens=40)
    lane.set_model((dot,), engine.eog_ids)
    lane.set_steps(steps, opened=True)
    closes = lane.close_points()
    wait = next(i for i, s in enumerate(steps) if s.inserted)
    d = steps[wait].distribution
    assert closes[wait] == ClosePoint(d.chosen_p_raw, TAKEN_BACK) and d.chosen == dot
    ended = (
        gen.thinking.ended_at - 1
    )  # the step whose token ended the thinking (a "." or the ">" of </think>)
    marked = [i for i, c in enumerate(closes) if c is not None and c.marker == CLOSED]
    if steps[ended].token.id == dot:
        assert marked == [ended]
    else:  # the close of the text began at "</"
        assert marked == [max(i for i in range(ended) if steps[i].token.piece == b"</")]
    assert all(c is None for c in closes[marked[0] + 1 :])


def test_the_model_s_own_think_opens_the_thinking_and_the_prompt_s_is_learnt_later(
    lane, smollm2_engine, replies
):
    engine = smollm2_engine
    lane.set_model(close_ids(engine), engine.eog_ids)
    _prompt, gen, steps = replies["own"]
    assert not gen.opened_thinking and "".join(s.text for s in steps[:3]) == "<think>"
    lane.set_steps(steps)
    closes = lane.close_points()
    assert closes[:3] == [None] * 3 and all(
        c is not None for c in closes[3:6]
    )  # inside once <think> is written
    # A reply streamed before its prompt said the thinking was open: read again once it does.
    _prompt, gen, steps = replies["plain"]
    lane.clear()
    for s in steps:
        lane.append_step(s)
    assert all(c is None for c in lane.close_points())
    lane.set_opened(True)
    again = lane.close_points()
    lane.set_steps(steps, opened=True)
    assert again == lane.close_points() and any(c is not None and c.marker == CLOSED for c in again)


def test_a_server_s_step_that_did_not_report_the_close_says_so(lane):
    """Steps a server reported: the close's token among them has its chance; one it did not report has
    none, written "not reported" (never 0 or nan)."""
    settings = OPEN
    known = judge(reported(), settings, eog_ids=(END_TOKEN,), n_vocab=VOCAB)
    d = known.distribution(int(IDS[0]), settings=settings, u=0.1, n_vocab=VOCAB)
    steps = [Step(k, TokenView(int(IDS[0]), b" Taipei"), " Taipei", d) for k in range(2)]
    assert token_chance(d, int(IDS[3])) == (pytest.approx(P[3]), False)
    assert math.isnan(token_chance(d, UNREPORTED)[0])
    lane.set_model((UNREPORTED,), (END_TOKEN,))
    lane.set_steps(steps, opened=True)
    lane.set_current(0)
    lane.flush()
    assert math.isnan(lane.close_points()[0].p)
    assert "did not report the model's chance to close its thinking" in lane.point_tooltip(0)
    assert "Chance to close the thinking (model): token 1: not\u00a0reported · now not\u00a0reported" in (
        lane.headline()
    )
    no_nan(lane.headline(), lane.point_tooltip(0))
    lane.set_model((int(IDS[3]),), (END_TOKEN,))
    assert lane.close_points()[0] == ClosePoint(pytest.approx(P[3]), THINKING)


def test_a_reply_that_does_not_think_shows_no_close(lane, smollm2_engine):
    from tests.ui.test_end_lane import reply

    steps, _ = reply(smollm2_engine, SamplerSettings(seed=2, wait_count=2))
    lane.set_model(close_ids(smollm2_engine), smollm2_engine.eog_ids)
    lane.set_steps(steps)
    lane.flush()
    assert all(c is None for c in lane.close_points())
    assert [m for _p, m in lane.points()].count(WAIT) == 2  # "Wait" for the end, known by its end tokens
    assert all(len(x) == 0 for x, _y in lane.drawn_close().values())
    assert "\n" not in lane.title_label.text() and "close" not in lane.legend_label.text()
