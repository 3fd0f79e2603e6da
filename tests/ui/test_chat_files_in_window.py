"""File → Export this chat… and Import a chat… in the window: a chat with its tokens written as TokenDice's
JSON and as Markdown, read back as a chat of its own whose stored steps the chart shows; a file that is
not a chat imports nothing and says why in one sentence."""

from __future__ import annotations

import json

import pytest

from tests.ui.test_main_window import Opened


@pytest.fixture
def opened(qtbot):
    o = Opened(qtbot)
    yield o
    o.close()


def test_a_chat_goes_out_as_json_and_markdown_and_comes_back_as_a_chat_of_its_own(opened, qtbot, tmp_path):
    o = opened
    window, files = o.window, o.window.chat_files
    assert files.export_action in window.menus.file_menu.actions()
    assert not files.export_to(tmp_path / "none.json")  # no chat yet: nothing to export
    o.reply("Name a fruit.", max_tokens=6, ban_eos=True)
    first = o.controller.chat_id
    reply = o.controller.messages[-1]
    assert files.export_to(tmp_path / "fruit")  # a name without a suffix gets .json
    doc = json.loads((tmp_path / "fruit.json").read_text())
    assert doc["format"] == "tokendice-chat" and len(doc["messages"]) == 2
    assert files.export_to(tmp_path / "fruit.md", markdown=True)
    assert "Name a fruit." in (tmp_path / "fruit.md").read_text()

    chat_id = files.import_from(tmp_path / "fruit.json")
    assert chat_id is not None and chat_id != first and o.controller.chat_id == chat_id
    assert [c.title for c in o.services.chats.list_chats()].count("Name a fruit.") == 2
    imported = o.controller.messages[-1]
    assert imported.content == reply.content
    assert [t.token_id for t in imported.tokens] == [t.token_id for t in reply.tokens]
    # Its steps are the stored ones: the chart shows them without the model having made them here.
    window.steps.show_token(imported.tokens[2])
    d = window.chart.step()
    assert d is not None and d.chosen == imported.tokens[2].token_id


def test_a_file_that_is_not_a_chat_imports_nothing_and_says_why(opened, tmp_path):
    o = opened
    said: list[str] = []
    show_status = o.window.show_status
    o.window.show_status = lambda text, ms: (said.append(text), show_status(text, ms))  # type: ignore[method-assign]
    before = len(o.services.chats.list_chats())
    for name, data in [("notes.json", b"not json at all"), ("other.json", b'{"format": "something else"}')]:
        (tmp_path / name).write_bytes(data)
        assert o.window.chat_files.import_from(tmp_path / name) is None
        assert said[-1].startswith(f"{name} was not imported: ")
    assert len(o.services.chats.list_chats()) == before
