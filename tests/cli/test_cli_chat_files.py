"""``tokendice chats export|import``: a chat out as JSON or Markdown (stdout or a file) and back in as a new
chat, and the sentences of what cannot be done."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.core.services import Services
from tests.cli.test_cli_basics import assert_one_line_error
from tests.core.chat_files.sample_chat import build_sample_chat
from tests.helpers import run_cli

EXPECTED_MD = Path(__file__).parents[1] / "core" / "chat_files" / "expected_chat.md"


@pytest.fixture
def chat_id() -> int:
    """The sample chat, in the test's TokenDice home."""
    services = Services.open()
    try:
        return build_sample_chat(services.chats)
    finally:
        services.close()


def _ok(args: list[str]) -> str:
    proc = run_cli(args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


def test_export_then_import_gives_the_same_chat_again(chat_id, tmp_path):
    out = tmp_path / "chat.json"
    assert _ok(["chats", "export", str(chat_id), "-o", str(out)]) == ""
    printed = _ok(["chats", "export", str(chat_id), "--format", "json"])
    assert printed == out.read_text(encoding="utf-8")
    doc = json.loads(printed)
    assert (doc["format"], doc["version"], doc["chat"]["title"]) == ("tokendice-chat", 1, "Capitals")

    new_id = int(_ok(["chats", "import", str(out)]).strip())
    assert new_id == chat_id + 1
    assert json.loads(_ok(["chats", "import", str(out), "--json"])) == {"chat_id": chat_id + 2}
    assert _ok(["chats", "export", str(new_id)]) == printed  # exact: the same bytes again
    listed = json.loads(_ok(["chats", "list", "--json"]))
    assert sorted(c["id"] for c in listed) == [chat_id, new_id, new_id + 1]
    assert {c["messages"] for c in listed} == {9}


def test_export_as_markdown(chat_id, tmp_path):
    expected = EXPECTED_MD.read_text(encoding="utf-8")
    assert _ok(["chats", "export", str(chat_id), "--format", "md"]) == expected
    _ok(["chats", "export", str(chat_id), "--format", "md", "--output", str(tmp_path / "chat.md")])
    assert (tmp_path / "chat.md").read_text(encoding="utf-8") == expected


def test_what_cannot_be_done_is_one_line(chat_id, tmp_path):
    assert_one_line_error(run_cli(["chats", "export", "99"]), "there is no chat 99")
    missing = tmp_path / "nowhere.json"
    assert_one_line_error(run_cli(["chats", "import", str(missing)]), f"cannot read {missing}")
    spoilt = json.loads(_ok(["chats", "export", str(chat_id)]))
    spoilt["messages"][1]["parent"] = 40
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(spoilt), encoding="utf-8")
    proc = run_cli(["chats", "import", str(bad)])
    assert proc.returncode == 1
    assert_one_line_error(proc, f"cannot import {bad}: message 2: parent 40 does not exist.")
    (tmp_path / "notes.txt").write_text("just some notes", encoding="utf-8")
    assert_one_line_error(
        run_cli(["chats", "import", str(tmp_path / "notes.txt")]),
        "notes.txt: the file is not JSON (Expecting value at line 1, column 1).",
    )
    assert_one_line_error(
        run_cli(["chats", "export", str(chat_id), "-o", str(tmp_path / "notes.txt" / "chat.json")]),
        "cannot write",
    )
    assert len(json.loads(_ok(["chats", "list", "--json"]))) == 1  # nothing was imported
    proc = run_cli(["chats", "export", str(chat_id), "--format", "xml"])
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
