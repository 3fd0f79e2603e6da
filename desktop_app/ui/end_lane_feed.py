"""What the end lane shows: the reply being generated, step by step as it streams, and a finished reply
when one of its tokens is selected (that token marked); a click on a point selects its token.

The lane learns the loaded model's close of a thinking (``LoadedModel.think_close_ids``, the close as the
engine tokenizes it with its special tokens) and end tokens, and for each reply whether its prompt opened
its thinking: from the prompt as it is rendered while the reply streams, from the message once saved.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject

from desktop_app.core.conversation.shown import ShownToken
from desktop_app.core.engine.distribution import Distribution
from desktop_app.core.engine.thinking import prompt_opens_thinking
from desktop_app.ui.widgets.end_lane import EndLane, LaneToken
from desktop_app.ui.widgets.end_lane_points import UNKNOWN

if TYPE_CHECKING:
    from desktop_app.core.engine.messages import LoadedModel, PromptEvent
    from desktop_app.ui.window_host import WindowHost


class EndLaneFeed(QObject):
    def __init__(self, window: WindowHost, lane: EndLane) -> None:
        super().__init__(window)
        self.window, self.lane = window, lane
        self._message: int | None = None  # the message the lane shows (None: the reply that streams)
        c = window.controller
        window.model_loaded.connect(self._on_loaded)
        c.reply_started.connect(self._on_reply_started)
        c.prompt_shown.connect(self._on_prompt)
        c.step_streamed.connect(lane.append_step)
        c.step_selected.connect(self._on_token_selected)
        lane.step_clicked.connect(self._on_lane_clicked)
        if window.loaded is not None:
            self._on_loaded(window.loaded)

    def _on_loaded(self, model: LoadedModel) -> None:
        self.lane.set_model(getattr(model, "think_close_ids", ()), model.eog_ids)

    def _on_reply_started(self, kept: list[ShownToken]) -> None:
        self._message = None
        self.lane.set_tokens(self.lane_tokens(kept))  # whether the prompt opened a thinking: _on_prompt

    def _on_prompt(self, event: PromptEvent) -> None:
        if self.window.controller.busy:  # the prompt of the reply that streams
            self.lane.set_opened(prompt_opens_thinking(event.prompt.rendered.text))

    def _on_token_selected(self, shown: ShownToken) -> None:
        """A token of a finished reply was chosen: the lane shows that reply, the token marked."""
        controller = self.window.controller
        if controller.busy:
            return
        where = controller.token_at(shown)
        if where is None:
            return
        message = controller.messages[where[0]]
        self._message = where[0]
        self.lane.set_tokens(self.lane_tokens(message.tokens), message.thinking_opened)
        n = bisect_right(self.lane.point_tokens(), where[1])  # the points of the tokens up to it
        self.lane.set_current(n - 1 if n else None)

    def _on_lane_clicked(self, index: int) -> None:
        controller = self.window.controller
        mi = self._message
        if mi is None or not 0 <= mi < len(controller.messages):  # the reply that streams: the last one
            mi = next(
                (
                    i
                    for i in range(len(controller.messages) - 1, -1, -1)
                    if controller.messages[i].role == "assistant"
                ),
                None,
            )
        if mi is None or not controller.messages[mi].tokens:
            return
        tokens = self.lane.point_tokens()
        if 0 <= index < len(tokens) and tokens[index] < len(controller.messages[mi].tokens):
            controller.select_token(mi, tokens[index])

    # --- a reply's tokens as the lane reads them --------------------------------------------------
    def lane_tokens(self, tokens: list[ShownToken]) -> list[LaneToken]:
        return [self._lane_token(t) for t in tokens]

    def _lane_token(self, t: ShownToken) -> LaneToken:
        if t.step is not None:
            return LaneToken.of_step(t.step)
        d = self._saved_distribution(t)
        # A saved "Wait" keeps the step it stands in for, not which token it replaced.
        replaced = UNKNOWN if t.inserted and d is not None else None
        return LaneToken(t.text, d, t.token_id, t.inserted, replaced, t.end)

    def _saved_distribution(self, t: ShownToken) -> Distribution | None:
        model = self.window.loaded
        if model is None:
            return None
        d = t.distribution(model.n_vocab, model.eog_ids)
        if d is not None or not t.inserted:
            return d
        # A saved "Wait" keeps the candidates of the step it stands in for, among which its own token is
        # not: read as the step whose pick it replaced, the end's or the close's token the die could pick.
        c = t.candidates
        if c is None or len(c) == 0:
            return None
        picks = frozenset(model.eog_ids) | frozenset(getattr(model, "think_close_ids", ()))
        mine = np.fromiter((int(i) in picks for i in c.ids), dtype=bool, count=len(c))
        chosen = int(c.ids[int(np.argmax(np.where(mine, c.p_final, -1.0)))])
        return Distribution.from_saved(
            c.ids,
            c.p_raw,
            c.p_final,
            chosen=chosen,
            u=t.u,
            forced=False,
            n_vocab=model.n_vocab,
            eog_ids=model.eog_ids,
        )
