"""The template inspector with real models: colours, tokens, what is new this turn, and template editing."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QColor, QFont, QHelpEvent, QTextCursor, QTextDocument
from PySide6.QtWidgets import QApplication, QToolTip

from desktop_app.core.engine.chat import build_messages, chat_prompt
from desktop_app.core.engine.chat_template import FALLBACK_TEMPLATE
from desktop_app.core.engine.tokens import piece_label
from desktop_app.ui.widgets.prompt_offsets import common_prefix, qt_position, token_char_ranges
from desktop_app.ui.widgets.prompt_views import (
    FADE_BACKGROUND,
    NEW_MARK,
    SHADES,
    SPECIAL_FG,
    TEMPLATE_FG,
    TOKEN_INDEX,
    blend,
)
from desktop_app.ui.widgets.template_inspector import TemplateInspector

SYSTEM = "You are a helpful geography tutor."
CHINESE = "臺灣最高的山是哪座？"
REPLY = "玉山 (Yushan), 3,952 m. 🏔️"
EMOJI = "And in emoji? 🏔️ 👍 then more text"


def history() -> list[dict]:
    return [{"role": "user", "content": CHINESE}, {"role": "assistant", "content": REPLY}]


def show(widget: TemplateInspector, engine, prompt, previous=None) -> None:
    widget.show_prompt(
        prompt,
        label_of=lambda t: piece_label(engine.piece(t)),
        piece_of=engine.piece,
        n_ctx=engine.n_ctx,
        previous_tokens=previous,
    )


@pytest.fixture
def inspector(qtbot) -> TemplateInspector:
    widget = TemplateInspector()
    qtbot.addWidget(widget)
    widget.resize(1280, 720)
    return widget


@pytest.fixture
def two_turns(smollm2_engine):
    return chat_prompt(smollm2_engine, build_messages(EMOJI, SYSTEM, history()), check_fits=False)


def fragments(document: QTextDocument):
    """(position, text, char format) of every text fragment in the document."""
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            yield fragment.position(), fragment.text(), fragment.charFormat()
            it += 1
        block = block.next()


def color(name: str) -> QColor:
    return QColor(name)


# ---------------------------------------------------------------------------------------------- helpers


def test_qt_position_counts_utf16_units_and_crlf_as_one(qtbot):
    text = "a臺😀b\r\nc👍\nd\re"
    document = QTextDocument()
    QTextCursor(document).insertText(text)
    for i, ch in enumerate(text):
        at = document.characterAt(qt_position(text, i))
        if ch in "\r\n":
            assert at == "\u2029", i
        elif ord(ch) > 0xFFFF:
            assert at == ch.encode("utf-16-le")[:2].decode("utf-16-le", errors="surrogatepass"), i
        else:
            assert at == ch, i
    assert qt_position(text, len(text)) == document.characterCount() - 1


def ranges_of(engine):
    prompt = chat_prompt(engine, build_messages(EMOJI, SYSTEM, history()), check_fits=False)
    text = prompt.rendered.text
    ranges = token_char_ranges(text, [engine.piece(t) for t in prompt.tokens])
    assert len(ranges) == len(prompt.tokens)
    pos = 0  # in order, gap-free, ending at the end of the text
    for start, end in ranges:
        assert start <= pos <= end, (start, end, pos)
        pos = max(pos, end)
    assert pos == len(text)
    return text, ranges


def test_token_ranges_cover_the_text_and_byte_tokens_cover_their_character(smollm2_engine):
    text, ranges = ranges_of(smollm2_engine)
    at = text.index("臺")
    assert [r for r in ranges if r[0] <= at < r[1]] == [(at, at + 1)] * 2  # <E8><87> and <BA>
    assert "".join(text[a:b] for a, b in ranges if b > a) != ""  # sanity


def test_token_ranges_give_a_tokenizer_bos_no_characters(gemma_engine):
    _text, ranges = ranges_of(gemma_engine)
    assert gemma_engine.add_bos and ranges[0] == (0, 0)


def test_common_prefix():
    assert common_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix([], [1]) == 0


# ------------------------------------------------------------------------------------------ prompt view


@pytest.fixture
def shown(inspector, smollm2_engine, two_turns):
    show(inspector, smollm2_engine, two_turns)
    return inspector, two_turns


def test_prompt_view_is_the_exact_text_with_kinds_in_colour(shown):
    widget, prompt = shown
    text = prompt.rendered.text
    view = widget.prompt_view
    assert view.document().toPlainText() == text
    # Every character sits where qt_position says, past the Chinese text and the emoji too.
    for i, ch in enumerate(text):
        if ch != "\n" and ord(ch) <= 0xFFFF:
            assert view.document().characterAt(qt_position(text, i)) == ch, i

    def fmt(index: int):
        return view.format_at(qt_position(text, index))

    spans = prompt.rendered.spans
    chinese = next(s for s in spans if s.kind == "content" and text[s.start : s.end] == CHINESE)
    emoji = next(s for s in spans if s.kind == "content" and text[s.start : s.end] == EMOJI)
    # Content tinted by role: the last character of the Chinese message, and text after the emoji.
    assert fmt(chinese.end - 1).background().color() == color(SHADES["user"][0])
    assert fmt(emoji.end - 1).background().color() == color(SHADES["user"][0])
    system = next(s for s in spans if s.kind == "content" and s.role == "system")
    assert fmt(system.start).background().color() == color(SHADES["system"][0])
    reply = next(s for s in spans if s.kind == "content" and s.role == "assistant")
    assert fmt(reply.start).background().color() == color(SHADES["assistant"][0])
    # Special tokens right after the Chinese text and right after the emoji message.
    for after in (chinese, emoji):
        special = next(s for s in spans if s.start == after.end)
        assert special.kind == "special" and text[special.start : special.end] == "<|im_end|>"
        f = fmt(special.start + 3)
        assert f.foreground().color() == color(SPECIAL_FG)
        assert f.fontWeight() == QFont.Weight.DemiBold
        assert "special token" in f.toolTip()
    # Template text: the role name the template writes after the last <|im_start|>.
    last = spans[-1]
    assert last.kind == "template" and text[last.start : last.end] == "assistant\n"
    f = fmt(last.start + 2)
    assert f.foreground().color() == color(TEMPLATE_FG)
    assert f.background().color() == color(SHADES["template"][0])


def test_header_names_the_template_and_the_token_count(shown, smollm2_engine):
    widget, prompt = shown
    header = widget.header_label.text()
    assert "the model's own (GGUF)" in header
    assert f"{len(prompt.tokens):,} tokens</b> of {smollm2_engine.n_ctx:,}" in header
    assert "First turn" in widget.new_label.text()
    assert widget.new_token_count is None


# ------------------------------------------------------------------------------------------- token view


def test_token_view_has_one_alternating_block_per_token_with_ids_on_hover(shown, smollm2_engine):
    widget, prompt = shown
    widget.set_view("tokens")
    assert widget.tokens_button.isChecked() and widget.stack.currentWidget() is widget.token_view
    blocks: dict[int, list] = {}
    for _pos, text, fmt in fragments(widget.token_view.document()):
        index = fmt.property(TOKEN_INDEX)
        if index is not None:
            blocks.setdefault(index, []).append((text, fmt))
    assert sorted(blocks) == list(range(len(prompt.tokens)))
    previous_bg = None
    for i, token in enumerate(prompt.tokens):
        (label, fmt), *rest = blocks[i]
        assert not rest, f"token {i} is split"
        assert label == piece_label(smollm2_engine.piece(token))
        assert f"id {token}</b>" in fmt.toolTip()
        assert smollm2_engine.piece(token).hex(" ").upper() in fmt.toolTip()
        bg = fmt.background().color()
        assert bg != previous_bg, f"tokens {i - 1} and {i} share a background"
        previous_bg = bg
    # Whitespace is visible, and a byte token of 臺 is shown as bytes and says which character it is part of.
    labels = [blocks[i][0][0] for i in range(len(prompt.tokens))]
    assert "↵" in labels
    byte_tokens = [i for i, label in enumerate(labels) if label.startswith("<E8>")]
    assert byte_tokens
    assert "臺" in blocks[byte_tokens[0]][0][1].toolTip()
    assert blocks[byte_tokens[0]][0][1].fontItalic()


def test_hovering_a_token_shows_its_tooltip(shown, qtbot):
    widget, prompt = shown
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_view("tokens")
    view = widget.token_view
    position = next(p for p, _t, f in fragments(view.document()) if f.property(TOKEN_INDEX) == 3)
    cursor = QTextCursor(view.document())
    cursor.setPosition(position)
    point = view.cursorRect(cursor).center() + QPoint(4, 0)
    event = QHelpEvent(QEvent.Type.ToolTip, point, view.viewport().mapToGlobal(point))
    QApplication.sendEvent(view.viewport(), event)
    assert f"id {prompt.tokens[3]}" in QToolTip.text()
    QToolTip.hideText()


# ------------------------------------------------------------------------------------------ new this turn


def test_new_this_turn_counts_the_tokens_after_the_common_prefix(inspector, smollm2_engine, two_turns):
    engine = smollm2_engine
    first = chat_prompt(engine, build_messages(CHINESE, SYSTEM), check_fits=False)
    reply = engine.tokenize(REPLY) + engine.tokenize("<|im_end|>", special=True)
    previous = list(first.tokens) + reply  # what the cache holds after the first answer
    show(inspector, engine, two_turns, previous)
    new = len(two_turns.tokens) - common_prefix(two_turns.tokens, previous)
    assert 0 < new < len(two_turns.tokens)
    assert inspector.new_token_count == new
    old = len(two_turns.tokens) - new
    assert f"{old:,} tokens re-read from the cache, {new:,} new" in inspector.new_label.text()

    text = two_turns.rendered.text
    boundary = inspector.new_char_start
    assert text[boundary:].startswith("\n<|im_start|>user\n" + EMOJI)
    fmt_old = inspector.prompt_view.format_at(
        qt_position(text, boundary - 3)
    )  # inside the cached "<|im_end|>"
    fmt_new = inspector.prompt_view.format_at(qt_position(text, boundary + 2))  # the new "<|im_start|>"
    assert fmt_old.background().color() == blend(SHADES["special"][0], FADE_BACKGROUND)
    assert fmt_new.fontUnderline() and fmt_new.underlineColor() == color(NEW_MARK)
    assert not fmt_old.fontUnderline()
    # Token view: exactly the new tokens are marked.
    inspector.set_view("tokens")
    marked = {
        f.property(TOKEN_INDEX)
        for _p, _t, f in fragments(inspector.token_view.document())
        if f.property(TOKEN_INDEX) is not None and "new this turn" in f.toolTip()
    }
    assert marked == set(range(old, len(two_turns.tokens)))
    # Switching the highlight off keeps the count and draws everything plainly.
    inspector.new_check.setChecked(False)
    fmt_old = inspector.prompt_view.format_at(qt_position(text, boundary - 3))
    assert fmt_old.background().color() == color(SHADES["special"][0])
    assert inspector.new_token_count == new


def test_a_prompt_that_rewrites_history_says_the_cache_recomputes(inspector, smollm2_engine, two_turns):
    previous = [*list(two_turns.tokens[:20]), 0, 0, 0]
    show(inspector, smollm2_engine, two_turns, previous)
    assert inspector.new_token_count == len(two_turns.tokens) - 20
    assert "last 3 tokens differ" in inspector.new_label.text()


def test_an_8k_token_prompt_renders_quickly(inspector, smollm2_engine):
    engine = smollm2_engine
    turns = []
    for i in range(60):
        turns.append({"role": "user", "content": f"Question {i}: 臺灣最高的山是哪座？ Tell me about it 🏔️."})
        turns.append({"role": "assistant", "content": "玉山 (Yushan) is 3,952 m high. " * 10})
    prompt = chat_prompt(engine, build_messages("And now?", SYSTEM, turns), check_fits=False)
    assert len(prompt.tokens) > 8000
    pieces = {t: engine.piece(t) for t in set(prompt.tokens)}
    labels = {t: piece_label(p) for t, p in pieces.items()}
    started = time.perf_counter()
    inspector.show_prompt(
        prompt,
        label_of=labels.__getitem__,
        piece_of=pieces.__getitem__,
        n_ctx=engine.n_ctx,
        previous_tokens=prompt.tokens[:-30],
    )
    elapsed = time.perf_counter() - started
    assert inspector.new_token_count == 30
    assert inspector.prompt_view.document().toPlainText() == prompt.rendered.text
    assert elapsed < 5.0, f"rendering {len(prompt.tokens)} tokens took {elapsed:.2f} s"  # not O(n²)
    assert "color:#b42318" in inspector.header_label.text()  # over 90% of the context: the count turns red


# ------------------------------------------------------------------------------------------ template source


def test_source_editor_starts_with_the_prompts_template(shown):
    widget, prompt = shown
    assert widget.source_editor.toPlainText() == prompt.template.source_text
    assert "GGUF" in widget.origin_label.text()
    assert not widget.reset_button.isEnabled()  # nothing to reset yet


def test_a_broken_override_shows_its_line_and_is_not_emitted(shown, qtbot):
    widget, _prompt = shown
    broken = "{% for message in messages %}\n{% if %}\n{{ message['content'] }}\n{% endfor %}"
    widget.source_editor.setPlainText(broken)
    with qtbot.assertNotEmitted(widget.template_override_changed):
        widget.apply_button.click()
    assert not widget.error_label.isHidden()
    assert "line 2" in widget.error_label.text()
    assert widget.error_line == 2
    selection = widget.source_editor.extraSelections()[0]
    assert selection.cursor.block().text() == "{% if %}"
    assert widget.source_editor.toPlainText() == broken  # the user's edit is kept
    assert "⚠" in widget.tabs.tabText(1)
    assert not widget.prompt_error_label.isHidden()


def test_apply_emits_a_valid_template_and_clears_the_error(shown, qtbot):
    widget, prompt = shown
    widget.show_error("Chat template error on line 1: oops.", 1)
    edited = prompt.template.source_text.replace("<|im_start|>", "<|im_start|> ")
    widget.source_editor.setPlainText(edited)
    with qtbot.waitSignal(widget.template_override_changed) as blocker:
        widget.apply_button.click()
    assert blocker.args == [edited]
    assert widget.error_label.isHidden() and widget.error_line is None


def test_reset_emits_none_and_restores_the_models_template(shown, qtbot):
    widget, prompt = shown
    widget.show_template_source("{{ messages[0]['content'] }}", "override")
    assert "override" in widget.origin_label.text()
    assert widget.reset_button.isEnabled()
    with qtbot.waitSignal(widget.template_override_changed) as blocker:
        widget.reset_button.click()
    assert blocker.args == [None]
    assert widget.source_editor.toPlainText() == prompt.template.source_text


def test_a_render_error_from_the_app_marks_the_line_without_losing_the_edit(shown):
    widget, _prompt = shown
    widget.source_editor.setPlainText("line one\nline two\n{{ raise_exception('no system role') }}")
    widget.source_editor.document().setModified(True)
    widget.show_error("Chat template error on line 3: no system role.", 3)
    assert widget.error_line == 3
    assert widget.source_editor.toPlainText().endswith("raise_exception('no system role') }}")
    assert widget.reset_button.isEnabled()  # edited: the model's own can be brought back


def test_gemma_without_a_template_shows_the_fallback(inspector, gemma_engine):
    prompt = chat_prompt(gemma_engine, build_messages(CHINESE, SYSTEM), check_fits=False)
    show(inspector, gemma_engine, prompt)
    assert "fallback (this model has no chat template)" in inspector.header_label.text()
    assert inspector.source_editor.toPlainText() == FALLBACK_TEMPLATE
    assert "no chat template" in inspector.origin_label.text()
    assert inspector.prompt_view.document().toPlainText() == prompt.rendered.text
    # The BOS the tokenizer adds is a token of its own in the token view, though not in the text.
    inspector.set_view("tokens")
    first = next(
        f for _p, _t, f in fragments(inspector.token_view.document()) if f.property(TOKEN_INDEX) == 0
    )
    assert "added by the tokenizer" in first.toolTip()
