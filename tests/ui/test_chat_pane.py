"""The chat pane's layout of a conversation as it grows: what is laid out again, and that what it shows
reads exactly as a full layout of the same messages."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QRect
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from desktop_app.core.conversation.shown import ChatMessage, ShownToken
from desktop_app.ui.widgets.chat import ChatPane
from desktop_app.ui.widgets.chat_html import SELECTED_COLOUR, STREAM_MARK

# A reply's pieces as a model streams them: runs of spaces, indentation after a line break, a leading
# space at the start of the reply.
PIECES = [" Here", " is", " code:", "\n", "    def", "  f", "():", "\n", "        return", "  1"]


def token(text: str, p: float = 0.5) -> ShownToken:
    return ShownToken(1, text.encode(), text, p, p, 0.25)


class Conversation:
    """Drives the pane as the chat controller does: a question and a streaming reply appended, the reply's
    tokens one by one, then its end."""

    def __init__(self, pane: ChatPane) -> None:
        self.pane = pane
        self.messages: list[ChatMessage] = []

    def exchange(
        self, question: str, pieces: list[str], *, frames_every: int = 3, end_frame: bool = True
    ) -> None:
        pane = self.pane
        self.messages.append(ChatMessage("user", question))
        reply = ChatMessage("assistant", "", streaming=True)
        self.messages.append(reply)
        pane.set_messages(self.messages)
        pane._render_if_dirty()
        for k, piece in enumerate(pieces):
            reply.tokens.append(token(piece))
            reply.content += piece
            pane.message_changed(len(self.messages) - 1)
            if k % frames_every == 0:
                pane._render_if_dirty()  # a frame
        reply.streaming = False
        reply.stop_reason = "max_tokens"
        pane.message_changed(len(self.messages) - 1)
        if end_frame:  # else the next question comes before a frame drew the reply's end
            pane._render_if_dirty()


@pytest.fixture
def pane(qtbot):
    p = ChatPane()
    qtbot.addWidget(p)
    p.resize(700, 500)
    p.show()
    return p


def test_a_growing_conversation_is_laid_out_once_and_reads_as_a_full_layout(pane):
    talk = Conversation(pane)
    talk.exchange("Write a function.", PIECES)
    assert pane.renders == 1  # the first exchange: the only full layout
    for n in range(2, 5):
        talk.exchange(f"Again, number {n}.", PIECES)
    # Every later exchange went in after the ones shown, which were not laid out again.
    assert pane.renders == 1 and pane.appends == 3 and pane.finished_in_place == 4
    shown, laid_out = pane.view.toPlainText(), pane.view.toHtml()
    assert STREAM_MARK not in shown and shown.count("Again, number") == 3
    pane.render_all()
    assert pane.renders == 2
    assert pane.view.toPlainText() == shown and pane.view.toHtml() == laid_out


def test_a_question_sent_before_the_last_reply_drew_its_end_is_added_after_it(pane):
    """A question sent the moment a reply finished (before a frame drew the reply's end) laid the whole
    conversation out again: 25 ms after two exchanges of 256 tokens, more with each one."""
    talk = Conversation(pane)
    talk.exchange("Write a function.", PIECES)
    talk.exchange("Again.", PIECES, end_frame=False)
    talk.exchange("And again.", PIECES, end_frame=False)
    pane._render_if_dirty()
    assert pane.renders == 1 and pane.appends == 2 and pane.finished_in_place == 3
    shown, laid_out = pane.view.toPlainText(), pane.view.toHtml()
    assert STREAM_MARK not in shown
    pane.render_all()
    assert pane.view.toPlainText() == shown and pane.view.toHtml() == laid_out


def test_a_reply_is_finished_in_place_in_one_edit(pane):
    """The frame that draws a reply's end adds its last tokens, takes the mark away and adds its note as
    one edit: each of them alone laid the whole reply's paragraph out again (the frame held the window
    25-30 ms after 256 tokens)."""
    talk = Conversation(pane)
    talk.exchange("Write a function.", PIECES, frames_every=7, end_frame=False)  # its last 2 tokens undrawn
    edits: list[tuple[int, int, int]] = []
    pane.view.document().contentsChange.connect(lambda *change: edits.append(change))
    pane._render_if_dirty()
    assert pane.finished_in_place == 1 and pane.renders == 1
    assert len(edits) == 1
    shown, laid_out = pane.view.toPlainText(), pane.view.toHtml()
    assert STREAM_MARK not in shown and "".join(PIECES) in shown
    pane.render_all()
    assert pane.view.toPlainText() == shown and pane.view.toHtml() == laid_out


class Paints(QObject):
    """The regions a widget is asked to paint."""

    def __init__(self, widget) -> None:
        super().__init__()
        self.regions: list[QRect] = []
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.regions.append(event.region().boundingRect())
        return False


def on_screen(pane: ChatPane) -> QImage:
    """What the chat's view shows: the window's backing store, as the offscreen platform keeps it (not a new
    paint), where the view is (not the message box, whose cursor blinks)."""
    viewport = pane.view.viewport()
    corner = viewport.mapTo(pane.window(), QPoint(0, 0))
    shown = QApplication.primaryScreen().grabWindow(pane.window().winId()).toImage()
    return shown.copy(QRect(corner, viewport.size()))


def prose(n: int, seed: int) -> list[str]:
    """Words that wrap, streamed in pieces of which some lengthen the word before them (a word that no
    longer fits goes down a line; a piece at the start of a line may end the line before it)."""
    rng = random.Random(seed)
    words = [
        "the",
        "mountain",
        "rose",
        "above",
        "a",
        "village",
        "whose",
        "people",
        "walked",
        "its",
        "paths",
        "every",
        "morning",
    ]
    pieces: list[str] = []
    while len(pieces) < n:
        word = rng.choice(words)
        pieces += [" " + word[:3], word[3:]] if len(word) > 4 and rng.random() < 0.3 else [" " + word]
        if rng.random() < 0.02:
            pieces.append("\n\n")
    return pieces


@pytest.mark.parametrize(
    ("pieces", "frames_every"),
    [(PIECES * 8, 3), (prose(200, 1), 2), (prose(200, 2), 3)],
    ids=["lines", "wrapping prose", "wrapping prose, fewer frames"],
)
def test_a_streaming_reply_repaints_its_new_lines_not_the_whole_view(pane, qtbot, pieces, frames_every):
    """Qt repaints the whole view after any change inside a table (each message is one): 4-6 ms a frame
    for a full view of tinted tokens. Only the lines from the first new token's down (and the one before
    it) are repainted, and the screen then shows what a whole repaint shows, scrolled to the bottom as
    the reply grows."""
    pane.resize(480, 500)
    talk = Conversation(pane)
    for n in range(3):
        talk.exchange(f"Tell me more, number {n}.", PIECES * 6)
    paints = Paints(pane.view.viewport())
    reply = ChatMessage("assistant", "", streaming=True)
    talk.messages += [ChatMessage("user", "And one more."), reply]
    pane.set_messages(talk.messages)
    pane._render_if_dirty()
    qtbot.wait(20)
    bar = pane.view.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    view_area = pane.view.viewport().width() * pane.view.viewport().height()
    areas = []
    for k, piece in enumerate(pieces):
        reply.tokens.append(token(piece))
        reply.content += piece
        pane.message_changed(len(talk.messages) - 1)
        if k % frames_every == frames_every - 1:
            paints.regions.clear()
            pane._render_if_dirty()  # a frame
            QApplication.processEvents()
            assert paints.regions, "the new tokens were not painted"
            areas.append(sum(r.width() * r.height() for r in paints.regions))
            assert bar.value() == bar.maximum()  # it follows the reply down
            shown = on_screen(pane)
            pane.view.viewport().update()  # the whole view painted again shows the same
            QApplication.processEvents()
            assert on_screen(pane) == shown, f"frame {k // frames_every}: the screen differs from a repaint"
    assert sorted(areas)[len(areas) // 2] < view_area / 3
    pane._render_if_dirty()  # the last tokens' frame
    assert "".join(pieces) in pane.view.toPlainText()


def test_spaces_and_indentation_are_kept_streamed_and_laid_out(pane):
    talk = Conversation(pane)
    talk.exchange("Indent this:\n    x  =  1", PIECES)
    expected_reply = "".join(PIECES)
    for text in (pane.view.toPlainText(), (pane.render_all(), pane.view.toPlainText())[1]):
        assert expected_reply in text
        assert "Indent this:\n    x  =  1" in text  # the question's indentation and runs of spaces too


def test_a_changed_message_is_written_again_and_another_chat_lets_the_old_one_go(pane):
    talk = Conversation(pane)
    talk.exchange("First question.", PIECES[:3])
    before = pane.message_html(1)
    assert pane.message_html(1) is before  # unchanged: the same text, not made again
    talk.messages[1].tokens.append(token(" more", 0.01))
    changed = pane.message_html(1)
    assert changed != before and " more" in changed and "#fad2cf" in changed  # an unlikely token's tint
    talk.messages[0].content = "First question, edited."
    assert "edited" in pane.message_html(0)
    pane.start_editing(0)
    assert "#fff4e5" in pane.message_html(0)  # the message being edited is tinted
    pane.stop_editing()

    other = [ChatMessage("user", "Another chat."), ChatMessage("assistant", "Yes.")]
    pane.set_messages(other)
    assert all(known[2][0] in other for known in pane._html_of.values())  # the old chat is not held
    pane._render_if_dirty()
    assert "Another chat." in pane.view.toPlainText() and "First question" not in pane.view.toPlainText()


def mark_pixels(view) -> int:
    """How many pixels of the selected token's mark a chat view shows."""
    image = view.viewport().grab().toImage().convertToFormat(QImage.Format_RGB32)
    rows = np.frombuffer(image.constBits(), dtype=np.uint32).reshape(image.height(), -1)
    return int(
        np.count_nonzero((rows[:, : image.width()] & 0xFFFFFF) == QColor(SELECTED_COLOUR).rgb() & 0xFFFFFF)
    )


def test_the_selected_token_is_marked_and_the_mark_moves_without_a_layout(pane):
    """Nothing marked which token the chart showed. The selected token is marked; moving the mark lays no
    message out again and makes no message's HTML again; a full layout keeps it; another conversation,
    or no selection, takes it away."""
    talk = Conversation(pane)
    talk.exchange("Write a function.", PIECES)
    talk.exchange("Again.", PIECES)
    counts = (pane.renders, pane.tail_renders, pane.appends)
    made = [pane.message_html(i) for i in range(4)]
    assert pane.selected() is None and pane.marked_text() == "" and mark_pixels(pane.view) == 0
    pane.select_token(1, 2)
    assert pane.selected() == (1, 2) and pane.marked_text() == PIECES[2]
    assert mark_pixels(pane.view) > 20
    pane.select_token(3, 6)  # a token of the other reply: the mark moves there
    assert pane.selected() == (3, 6) and pane.marked_text() == PIECES[6]
    assert len(pane.view.extraSelections()) == 1
    assert (pane.renders, pane.tail_renders, pane.appends) == counts
    assert all(pane.message_html(i) is made[i] for i in range(4))
    pane.render_all()
    assert pane.marked_text() == PIECES[6] and mark_pixels(pane.view) > 20
    pane.clear_selection()
    assert pane.selected() is None and pane.marked_text() == "" and mark_pixels(pane.view) == 0
    pane.select_token(1, 4)
    assert pane.marked_text() == PIECES[4]
    pane.set_messages([ChatMessage("user", "Another chat."), ChatMessage("assistant", "Yes.")])
    pane._render_if_dirty()
    assert pane.selected() is None and pane.marked_text() == "" and mark_pixels(pane.view) == 0


def test_a_reply_streams_in_place_with_a_token_of_an_earlier_one_selected(pane):
    """The mark costs a streaming reply nothing: its tokens go in at the stream mark as before, and it
    stays on its token without being looked for again."""
    talk = Conversation(pane)
    talk.exchange("Write a function.", PIECES)
    pane.select_token(1, 6)
    marks = pane.marks
    talk.exchange("Again.", PIECES * 4, frames_every=2)
    assert pane.renders == 1 and pane.appends == 1 and pane.finished_in_place == 2
    assert pane.marks == marks and pane.marked_text() == PIECES[6]
    shown = pane.view.toPlainText()
    pane.render_all()
    assert pane.view.toPlainText() == shown and pane.marked_text() == PIECES[6]


def test_an_end_token_says_whose_chance_to_end_it_shows():
    """ "[END 63%]" was the die's number for the end token while the chart's line and the end lane showed
    the model's: the marker says "(model)" and shows the model's chance to end, as they do."""
    from desktop_app.ui.widgets.chat_html import end_marker

    end = ShownToken(2, b"<|im_end|>", "", 0.39, 0.63, 0.5, end=True, end_p_raw=0.3921, end_p_final=0.63)
    assert end_marker(end) == "[END\u00a0(model)\u00a039.2\u00a0%]"  # never wrapped inside
    pane = ChatPane()
    pane.set_messages([ChatMessage("user", "Hi"), ChatMessage("assistant", "", tokens=[token(" Hi"), end])])
    assert "[END&nbsp;(model)&nbsp;39.2&nbsp;%]" in pane.message_html(1)
    tip = pane.token_tooltip(1, 1)
    assert "chance to end the reply here: model 39.2 %   after sampling 63.0 %" in tip
