"""The end lane in the window, fed by :class:`EndLaneFeed`: a thinking reply as it streams (the template
opens the thinking, which the lane learns from the prompt), then the same reply read back from the saved
chat; a click on a point selects its token. The real SmolLM2 with a template that opens ``<think>``, and
worked examples that make it close its thinking."""

from __future__ import annotations

import pytest

from desktop_app.core.conversation.shown import tokens_from_saved
from desktop_app.ui.end_lane_feed import EndLaneFeed
from desktop_app.ui.widgets.end_lane import BUDGET, TAKEN_BACK, THINKING, EndLane
from tests.core.engine.test_thinking import FEW_SHOT, THINKING_TEMPLATE
from tests.ui.test_main_window import Opened
from tests.ui.test_thinking_in_window import _set


@pytest.fixture
def thinking(qtbot):
    o = Opened(qtbot)
    o.window.session.set_template_override(THINKING_TEMPLATE)
    yield o
    o.close()


def _markers(lane: EndLane) -> list[str | None]:
    return [c.marker if c is not None else None for c in lane.close_points()]


def test_a_thinking_reply_as_it_streams_and_as_saved_and_a_click_selects_its_token(thinking, qtbot):
    o = thinking
    lane = EndLane()  # a lane of its own beside the workshop's, fed the same way
    qtbot.addWidget(lane)
    lane.resize(900, 260)
    lane.show()
    feed = EndLaneFeed(o.window, lane)
    _set(o, think_wait=1, think_budget=32, temperature=0.0, ban_eos=True)
    o.reply(FEW_SHOT.removesuffix("<think>"), max_tokens=48)
    mi = len(o.controller.messages) - 1
    reply = o.controller.messages[mi]
    start, end, closed = reply.thinking()
    assert reply.thinking_opened and start == 0 and closed
    wait = next(k for k, t in enumerate(reply.tokens) if t.inserted)
    written = [k for k, t in enumerate(reply.tokens) if t.inserted and k > wait]  # the budget's close
    assert written == list(range(written[0], end + 1))  # "\n</think>" ending the thinking, then "\n\n"
    last = written[0] - 1  # the last thinking token: the budget was spent after it
    live, live_p = _markers(lane), [c.p if c else None for c in lane.close_points()]
    points = lane.point_tokens()
    assert points == [k for k in range(len(reply.tokens)) if k not in written]  # no roll: no point
    assert live[points.index(wait)] == TAKEN_BACK and live[points.index(last)] == BUDGET
    assert set(live[: points.index(last)]) == {THINKING, TAKEN_BACK} and set(
        live[points.index(last) + 1 :]
    ) == {None}
    # A token selected: the lane shows its reply, the token marked; a click on a point selects its token.
    with qtbot.waitSignal(o.controller.step_selected, timeout=5000):
        o.controller.select_token(mi, wait)
    assert _markers(lane) == live and lane.current() == points.index(wait)
    with qtbot.waitSignal(o.controller.step_selected, timeout=5000) as blocker:
        lane.step_clicked.emit(points.index(last))
    assert blocker.args[0] is reply.tokens[last] and lane.current() == points.index(last)
    # Read back from the saved chat: the same marks (a saved "Wait" inside the thinking is the close's; its
    # step is the one it stands in for, kept with its candidates), the same numbers where known.
    chats = o.services.chats
    m = chats.get_message(reply.message_id)
    saved = tokens_from_saved(chats.reply_tokens(m.id), ends_with_eog=False, eog_ids=o.window.loaded.eog_ids)
    assert saved[wait].step is None and saved[wait].candidates is not None
    lane.set_tokens(feed.lane_tokens(saved), opened=m.metadata["thinking_opened"])
    assert _markers(lane) == live and lane.point_tokens() == points
    exact = [i for i, c in enumerate(lane.close_points()) if c is not None and not c.below]
    assert exact and all(lane.close_points()[i].p == pytest.approx(live_p[i], rel=1e-5) for i in exact)
