"""A thinking model's reply in the window: the thinking streams in a box of its own, folds once the answer
begins, unfolds on a click; the sampling panel's budget and " Wait" reach the engine; a saved chat opens
the same way. The real SmolLM2 with a template whose assistant turn opens ``<think>``."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl

from tests.core.engine.test_thinking import THINKING_TEMPLATE
from tests.ui.test_main_window import REPLY_MS, Opened


@pytest.fixture
def thinking(qtbot):
    o = Opened(qtbot)
    o.window.session.set_template_override(THINKING_TEMPLATE)
    yield o
    o.close()


def _set(o: Opened, **changes) -> None:
    panel = o.window.sampling
    if "think_budget" in changes:
        panel.think_budget.setValue(changes.pop("think_budget"))  # as the user sets it
    if "think_wait" in changes:
        panel.think_wait.setValue(changes.pop("think_wait"))
    s = panel.settings().replace(**changes)
    panel.set_settings(s)
    o.controller.set_settings(s)


def test_the_thinking_streams_in_its_box_folds_when_the_answer_begins_and_unfolds_on_a_click(thinking, qtbot):
    o = thinking
    _set(o, think_budget=6, seed=4, ban_eos=True)
    assert o.controller.settings.think_budget == 6  # the panel's control sets it
    view = o.window.chat.view
    o.send("What is 5+1?", max_tokens=30)
    qtbot.waitUntil(lambda: "Thinking…" in view.toPlainText(), timeout=REPLY_MS)
    with qtbot.waitSignal(o.controller.finished, timeout=REPLY_MS):
        pass
    qtbot.waitUntil(lambda: "Thought for" in view.toPlainText(), timeout=REPLY_MS)
    reply = o.controller.messages[-1]
    span = reply.thinking()
    assert reply.thinking_opened and span is not None and span[2]
    thought = "".join(t.text for t in reply.tokens[: span[1]])
    assert thought.endswith("\n</think>")
    # The budget's 6 tokens, then the close it wrote (marked as put in by the app), the answer after.
    assert [t.inserted for t in reply.tokens[:6]] == [False] * 6
    assert all(t.inserted for t in reply.tokens[6 : span[1]])
    assert "the thinking budget was spent" in o.window.chat.token_tooltip(len(o.controller.messages) - 1, 7)
    assert f"Thought for {span[1]} tokens" in view.toPlainText()
    first_words = reply.tokens[0].text + reply.tokens[1].text
    answer = "".join(t.text for t in reply.tokens[span[1] :]).strip()
    shown = view.toPlainText()
    assert answer[:10] in shown and "</think>" not in shown
    # A click on the heading unfolds it; another folds it again.
    o.window.chat._on_anchor(QUrl(f"f:{len(o.controller.messages) - 1}"))
    qtbot.waitUntil(lambda: "</think>" in view.toPlainText(), timeout=5000)
    assert first_words.strip() in view.toPlainText()
    o.window.chat._on_anchor(QUrl(f"f:{len(o.controller.messages) - 1}"))
    qtbot.waitUntil(lambda: "</think>" not in view.toPlainText(), timeout=5000)
    # Opened again from the list: the saved reply knows its thinking and folds it.
    chat_id = o.controller.chat_id
    o.window.history.new_chat()
    o.window.history.open_chat(chat_id)
    saved = o.controller.messages[-1]
    assert saved.thinking_opened and saved.thinking() == span
    qtbot.waitUntil(lambda: f"Thought for {span[1]} tokens" in view.toPlainText(), timeout=5000)


def test_the_panel_s_wait_and_budget_go_with_the_reply_and_are_greyed_on_a_server(thinking, qtbot):
    o = thinking
    _set(o, think_wait=2, think_budget=5, seed=2, ban_eos=True)
    o.reply("Count to three.", max_tokens=12)
    saved = o.services.chats.get_message(o.controller.messages[-1].message_id)
    assert saved.metadata["settings"]["think_wait"] == 2 and saved.metadata["settings"]["think_budget"] == 5
    assert saved.metadata["thinking_opened"] is True
    # A model on a server: the controls are off and greyed, with the reason.
    panel = o.window.sampling
    panel.set_thinking_unavailable("On a server, the end of the thinking is the server's.")
    assert not panel.think_wait.isEnabled() and not panel.think_budget.isEnabled()
    assert panel.settings().think_wait == 0 and panel.settings().think_budget == 0
    assert "server" in panel.think_wait.toolTip()
    panel.set_thinking_unavailable(None)
    assert panel.think_wait.isEnabled() and "s1" in panel.think_wait.toolTip()


#: As Qwen3's and DeepSeek-R1's templates do: an earlier reply is fed again without its thinking.
DROPPING_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n"
    "{% if m.role == 'assistant' %}{{ m.content.split('</think>')[-1].lstrip() }}{% else %}{{ m.content }}"
    "{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}"
)


WHAT_BECAME = [(THINKING_TEMPLATE, "fed to the model again"), (DROPPING_TEMPLATE, "dropped by this template")]


@pytest.mark.parametrize(("template", "said"), WHAT_BECAME)
def test_the_inspector_marks_the_thinking_and_says_what_the_template_did_with_earlier_thinking(
    thinking, qtbot, template, said
):
    o = thinking
    o.window.session.set_template_override(template)
    _set(o, think_budget=4, seed=1, ban_eos=True)
    o.reply("What is 5+1?", max_tokens=10)
    first = o.controller.messages[-1]
    thought = "".join(t.text for t in first.tokens[: first.thinking()[1]])
    o.reply("And 6+1?", max_tokens=10)
    inspector = o.window.inspector
    qtbot.waitUntil(lambda: inspector.thinking_label.isVisibleTo(inspector), timeout=REPLY_MS)
    assert said in inspector.thinking_label.text() and "1 earlier repl" in inspector.thinking_label.text()
    text = inspector.prompt_view.toPlainText()
    assert (thought.strip().split("\n")[0] in text) == (template == THINKING_TEMPLATE)
    # The thinking the prompt opens for the new reply is marked (italic) in the prompt's text.
    at = text.rindex("<think>")
    cursor = inspector.prompt_view.textCursor()
    cursor.setPosition(at + 2)
    assert cursor.charFormat().fontItalic()
    cursor.setPosition(text.index("And 6+1?") + 2)
    assert not cursor.charFormat().fontItalic()
