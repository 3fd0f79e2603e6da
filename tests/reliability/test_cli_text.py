"""Bytes that are not UTF-8, on the command line, on standard input, in a file and in a model's file name:
never a traceback; what cannot be decoded is shown as U+FFFD, and file names still open their files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.reliability.cli_bytes import assert_clean, run

FFFD = "\ufffd"


def _pieces(ran) -> list[str]:
    return [t["piece"] for t in json.loads(ran.out)["tokens"]]


def test_undecodable_bytes_in_an_argument_are_replacement_characters():
    ran = run([b"tokens", b"--json", b"caf\xff au lait"])
    assert_clean(ran)
    assert ran.returncode == 0
    assert "".join(_pieces(ran)) == f"caf{FFFD} au lait"


def test_undecodable_bytes_in_the_prompt_stop_and_system_message_of_a_chat():
    chat = [b"generate", b"--chat", b"--system", b"Be \xe9brief.", b"--stop", b"\xfe"]
    ran = run([*chat, b"--max-tokens", b"4", b"--seed", b"1", b"--json", b"Bonjour \xe0 tous"])
    assert_clean(ran)
    assert ran.returncode == 0, ran.stderr
    assert len(json.loads(ran.out)["tokens"]) >= 1


@pytest.mark.parametrize("stdio", ["utf-8:strict", "utf-8:surrogateescape"])
def test_undecodable_bytes_on_standard_input(stdio: str):
    ran = run(["tokens", "--json", "-"], input=b"na\xefve \xff\xfe text", env={"PYTHONIOENCODING": stdio})
    assert_clean(ran)
    assert ran.returncode == 0
    assert "".join(_pieces(ran)) == f"na{FFFD}ve {FFFD}{FFFD} text"


def test_undecodable_bytes_in_messages_from_standard_input_and_from_a_file(tmp_path: Path):
    doc = b'[{"role": "user", "content": "caf\xe9 cr\xe8me"}]'  # Latin-1, not UTF-8
    from_stdin = run(["template", "--json", "--messages", "-"], input=doc)
    assert_clean(from_stdin)
    assert from_stdin.returncode == 0
    assert f"caf{FFFD} cr{FFFD}me" in json.loads(from_stdin.out)["prompt"]
    messages = tmp_path / "messages.json"
    messages.write_bytes(doc)
    from_file = run(["template", "--json", "--messages", str(messages)])
    assert_clean(from_file)
    assert (
        from_file.returncode == 0
        and json.loads(from_file.out)["prompt"] == json.loads(from_stdin.out)["prompt"]
    )


def test_text_the_terminal_cannot_encode_is_replaced_not_fatal():
    ran = run(["tokens", "臺灣 naïve"], env={"PYTHONIOENCODING": "ascii:strict"})
    assert_clean(ran)
    assert ran.returncode == 0 and ran.stdout.isascii() and b"?" in ran.stdout


@pytest.mark.parametrize("command", [["tokens", "hi"], ["models", "info"], ["models", "import"]])
def test_a_missing_file_with_an_undecodable_name_is_one_line(command: list[str], tmp_path: Path):
    missing = os.fsencode(tmp_path) + b"/caf\xff.gguf"
    args = [command[0], b"--model", missing, command[1]] if command[0] == "tokens" else [*command, missing]
    ran = run(args)
    assert_clean(ran)
    assert ran.returncode == 1 and ran.stdout == b""
    assert len(ran.err_lines) == 1 and ran.err_lines[0].startswith("tokendice: error: "), ran.err_lines
    assert f"caf{FFFD}.gguf" in ran.err_lines[0]


# --- a model whose file name is not UTF-8 ------------------------------------------------------------------


@pytest.fixture(scope="module")
def odd_model(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path) -> bytes:
    """The bundled model under a name with a byte that is not UTF-8 (a Latin-1 é)."""
    folder = os.fsencode(tmp_path_factory.mktemp("odd-names"))
    path = folder + b"/Mod\xe8le caf\xe9.gguf"
    try:
        os.link(smollm2_path, path)
    except OSError:
        shutil.copyfile(smollm2_path, path)
    return path


def test_such_a_model_is_used_by_path(odd_model: bytes):
    info = run(["models", "info", "--json", odd_model])
    assert_clean(info)
    assert info.returncode == 0 and json.loads(info.out)["status"] == "ok"
    assert json.loads(info.out)["path"].endswith(f"Mod{FFFD}le caf{FFFD}.gguf")
    tokens = run(["tokens", "--json", "--model", odd_model, "Hello"])
    assert_clean(tokens)
    assert tokens.returncode == 0 and json.loads(tokens.out)["n_tokens"] == 1
    gen = run(["generate", "--json", "--model", odd_model, "--max-tokens", "3", "--seed", "1", "Hi"])
    assert_clean(gen)
    assert gen.returncode == 0 and len(json.loads(gen.out)["tokens"]) == 3


@pytest.mark.parametrize("how", ["--reference", "--copy"])
def test_such_a_model_is_imported_listed_and_used(odd_model: bytes, how: str):
    imported = run(["models", "import", how, "--json", odd_model])
    assert_clean(imported)
    assert imported.returncode == 0, imported.stderr
    entry = json.loads(imported.out)
    listed = run(["models", "list"])
    assert_clean(listed)
    assert listed.returncode == 0 and f"Mod{FFFD}le caf{FFFD}" in listed.out
    gen = run(["generate", "--model", entry["id"], "--max-tokens", "3", "--seed", "1", "Hi"])
    assert_clean(gen)
    assert gen.returncode == 0, gen.stderr
    assert Path(os.fsdecode(odd_model)).is_file()  # the original is where it was


def test_the_core_keeps_and_opens_such_names(tmp_path: Path):
    """The pieces the library and the engine use for such names: a path SQLite can keep, and a second
    name llama.cpp can open (it exists only while it is used)."""
    import sqlite3

    from desktop_app.core.engine.llama_path import openable_name
    from desktop_app.core.safe_text import path_from_store, shown, stored_path

    odd = Path(os.fsdecode(os.fsencode(tmp_path) + b"/Mod\xe8le.gguf"))
    odd.write_bytes(b"GGUF and the rest")
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE models(path TEXT)")
    db.execute("INSERT INTO models VALUES (?)", (stored_path(odd),))
    (kept,) = db.execute("SELECT path FROM models WHERE path = ?", (stored_path(odd),)).fetchone()
    assert path_from_store(kept) == odd and stored_path(tmp_path) == str(tmp_path)
    with openable_name(odd) as name:
        assert shown(odd.name) == f"Mod{FFFD}le.gguf" and name.endswith(shown(odd.name))
        assert Path(name).read_bytes() == b"GGUF and the rest"
    assert not Path(name).exists()
    with openable_name(tmp_path / "plain.gguf") as name:
        assert name == str(tmp_path / "plain.gguf")
