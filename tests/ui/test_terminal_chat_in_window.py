"""A chat made in the terminal (``tokendice chat``) opens in the window with the same tree, and one made in
the window goes on in the terminal: one conversation core, one database."""

from __future__ import annotations

import json

from tests.helpers import run_cli
from tests.ui.test_main_window import Opened


def _chat(lines: str, *args: str) -> list[dict]:
    proc = run_cli(["chat", "--json", "--seed", "3", "--max-tokens", "8", *args], input=lines)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def _show(chat_id: int) -> dict:
    proc = run_cli(["chats", "show", str(chat_id), "--json", "--tokens"])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_terminal_chat_opens_in_the_window_with_its_versions_and_tokens(qtbot):
    events = _chat("Name a fruit.\n/regen\n")
    chat_id = next(e["chat_id"] for e in events if e["event"] == "chat")
    saved = _show(chat_id)
    opened = Opened(qtbot)
    try:
        opened.controller.open_chat(chat_id)
        messages = opened.controller.messages
        path = [m for m in saved["messages"] if m["id"] in saved["path"]]
        assert [(m.role, m.content) for m in messages] == [(m["role"], m["content"]) for m in path]
        assert (messages[1].sibling_index, messages[1].sibling_count) == (1, 2)  # /regen's, of two
        assert [t.token_id for t in messages[1].tokens] == [t["id"] for t in path[1]["tokens"]]
        assert opened.window.chat.messages[1].content == path[1]["content"]  # and the pane shows it
        # the first version is one click away, as in any chat of the window
        opened.controller.switch_sibling(1, -1)
        first = next(e for e in events if e["event"] == "reply")
        assert opened.controller.messages[1].content == first["text"]
    finally:
        opened.close()


def test_a_window_chat_goes_on_in_the_terminal(qtbot):
    opened = Opened(qtbot)
    try:
        opened.reply("Name one colour.", max_tokens=6)
        chat_id = opened.controller.chat_id
        in_window = [(m.role, m.content) for m in opened.controller.messages]
    finally:
        opened.close()  # the window holds the data folder while it is open
    events = _chat("And another?\n", "--resume", str(chat_id))
    assert next(e for e in events if e["event"] == "chat") == {
        "event": "chat",
        "chat_id": chat_id,
        "messages": 2,
    }
    saved = _show(chat_id)
    assert [(m["role"], m["content"]) for m in saved["messages"]][:2] == in_window
    assert [m["role"] for m in saved["messages"]] == ["user", "assistant", "user", "assistant"]
