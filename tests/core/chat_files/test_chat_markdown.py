"""A chat as Markdown: the shown conversation with its versions, thinking and stop reasons, the same text
every time (compared with a stored expected file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.chat_files.markdown_export import export_markdown, write_markdown
from desktop_app.core.models.library import Library
from desktop_app.core.store.chats import ChatStore
from desktop_app.core.store.db import Database
from tests.core.chat_files.sample_chat import build_sample_chat

EXPECTED = Path(__file__).with_name("expected_chat.md")


@pytest.fixture
def store(tmp_path: Path):
    db = Database(tmp_path / "chats.sqlite3")
    yield ChatStore(db)
    db.close()


def test_the_sample_chat_reads_as_the_expected_file(store, tmp_path):
    chat_id = build_sample_chat(store)
    text = export_markdown(store, chat_id)
    assert text == EXPECTED.read_text(encoding="utf-8")
    # what the expected file shows, in words: the newest path, its versions, the thinking quoted
    assert "## Assistant (version 3 of 3)" in text and "## User (version 2 of 2)" in text
    assert "> **Thinking**\n>\n> The user asks about France.\n> Its capital is Paris.\n\nIt is Paris." in text
    assert "Lyon" not in text  # another version, not on the shown path
    assert "*Stopped at the length limit.*" in text and "eog" not in text
    write_markdown(store, chat_id, tmp_path / "chat.md")
    assert (tmp_path / "chat.md").read_text(encoding="utf-8") == text


def test_the_model_is_named_as_the_library_knows_it(store):
    entry = Library(store.db).ensure_bundled()
    assert entry is not None
    chat = store.create_chat("", model_id=entry.id, settings={"plain": True})
    start = store.add_message(chat.id, "user", "Once upon a time")
    store.save_reply(chat.id, "<think>\nA story.", [], parent_id=start.id, stop_reason="cancelled")
    text = export_markdown(store, chat.id)
    assert text.startswith(f"# Untitled chat\n\n- Model: {entry.display_name} (`{entry.id}`)\n")
    assert "- Plain text: no chat template, the model continues the text" in text
    # a thinking that did not end, stopped by the user, and nothing of an answer yet
    assert text.endswith(
        "## User\n\nOnce upon a time\n\n## Assistant\n\n"
        "> **Thinking**\n>\n> A story.\n>\n> *(the thinking did not end)*\n\n*Stopped by the user.*\n"
    )


def test_an_empty_chat(store):
    chat = store.create_chat("  Two\nlines ")
    assert export_markdown(store, chat.id) == "# Two lines\n\n- Model: none\n\n*No messages yet.*\n"
