"""Real settings.json files that are wrong: each gets one sentence, the app starts, and nothing is lost.

A bad field falls back to its default while the good ones are kept; a file that cannot be read at all
gives the defaults; the original is always kept beside it as settings.json.broken. The command line says
it in one line on standard error (once: the file is repaired), the window in its status bar and a dialog
that nothing waits for.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.core.store.settings import Settings, SettingsStore
from tests.reliability.cli_bytes import assert_clean, run
from tests.ui.conftest import no_dangling_qthreads  # noqa: F401 (the window tests' QThread check)

WARNING = "tokendice: warning: "


def _settings_file(home: Path, content: bytes) -> Path:
    path = home / "config" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def _one_warning(lines: list[str]) -> str:
    warnings = [line for line in lines if line.startswith(WARNING)]
    assert len(warnings) == 1, lines
    return warnings[0]


# --- fields of the wrong type: only they fall back ------------------------------------------------------

WRONG_TYPES = {
    "schema_version": 1,
    "n_ctx": 2048.5,  # a fractional context size
    "n_threads": "eight",  # a word as the thread count
    "default_model": 42,  # a number as the default model
    "top_n": 30,  # good: kept
    "language": "en",  # good: kept
    "extra_buffers": "off",  # good: kept
}


def test_wrong_types_fall_back_one_by_one_and_the_model_still_runs(tokendice_home: Path):
    content = json.dumps(WRONG_TYPES, indent=1).encode()
    path = _settings_file(tokendice_home, content)
    ran = run(["tokens", "--json", "Hello"])
    assert_clean(ran)
    assert ran.returncode == 0 and json.loads(ran.out)["n_tokens"] > 0
    line = _one_warning(ran.err_lines)
    for said in ("the context size", "2048.5", "the thread count", '"eight"', "the default model", "42"):
        assert said in line
    assert "kept as settings.json.broken" in line
    assert (path.parent / "settings.json.broken").read_bytes() == content  # the original, byte for byte
    repaired = json.loads(path.read_text())
    assert repaired["top_n"] == 30 and repaired["language"] == "en" and repaired["extra_buffers"] == "off"
    assert (repaired["n_ctx"], repaired["n_threads"], repaired["default_model"]) == (4096, None, "default")
    again = run(["info", "--json"])
    assert again.returncode == 0 and again.stderr == b""  # said once


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("n_ctx", 5, "the context size must be a whole number from 128 to 1,048,576, not 5"),
        ("n_ctx", True, "the context size must be a whole number from 128 to 1,048,576, not true"),
        ("n_threads", 0, "the thread count (null: llama.cpp's choice) must be a whole number from 1"),
        ("n_gpu_layers", "many", "GPU layers must be 'auto', 'all' or a whole number of layers"),
        ("top_n", [20], "the number of candidates in the chart must be a whole number from 5 to 50"),
        ("language", None, "the language must be 'system', 'en' or 'zh_TW', not null"),
        ("extra_buffers", "sometimes", "extra buffers must be 'auto', 'on' or 'off', not 'sometimes'"),
        ("default_model", "", "the default model must be a library id, a .gguf path or 'default'"),
    ],
)
def test_each_field_is_checked_by_type_and_range(tokendice_home: Path, field: str, value, said: str):
    content = json.dumps({"schema_version": 1, "n_ctx": 2048, field: value}).encode()
    path = _settings_file(tokendice_home, content)
    ran = run(["info", "--json"])
    assert_clean(ran)
    assert ran.returncode == 0
    assert said in _one_warning(ran.err_lines)
    loaded = SettingsStore(path).load()
    assert loaded.warning is None
    assert getattr(loaded.settings, field) == getattr(Settings(), field)
    if field != "n_ctx":
        assert loaded.settings.n_ctx == 2048  # the good field is kept
    assert (path.parent / "settings.json.broken").read_bytes() == content


def test_undecodable_bytes_in_a_value_lose_only_that_value(tokendice_home: Path):
    content = b'{"schema_version": 1, "default_model": "caf\xff.gguf", "top_n": 12}'
    path = _settings_file(tokendice_home, content)
    ran = run(["models", "list"])
    assert_clean(ran)
    assert ran.returncode == 0
    assert 'the default model is not valid UTF-8 text: "caf\ufffd.gguf"' in _one_warning(ran.err_lines)
    assert SettingsStore(path).load().settings == Settings(top_n=12)
    assert (path.parent / "settings.json.broken").read_bytes() == content


def test_unknown_keys_are_no_error_and_survive_a_save(tokendice_home: Path):
    doc = {"schema_version": 1, "n_ctx": 8192, "a_newer_setting": {"on": True}}
    path = _settings_file(tokendice_home, json.dumps(doc).encode())
    ran = run(["info", "--json"])
    assert ran.returncode == 0 and ran.stderr == b""
    store = SettingsStore(path)
    store.save(Settings(n_ctx=2048))
    assert json.loads(path.read_text())["a_newer_setting"] == {"on": True}


def test_a_byte_order_mark_is_fine(tokendice_home: Path):
    path = _settings_file(tokendice_home, b'\xef\xbb\xbf{"schema_version": 1, "top_n": 9}')
    ran = run(["info", "--json"])
    assert ran.returncode == 0 and ran.stderr == b""
    assert SettingsStore(path).load().settings.top_n == 9


# --- files that cannot be read at all: defaults, and the file kept ---------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"n_ctx": 2048,,}', "it is not valid JSON: Expecting property name"),
        (b"[4096, 8]", "it holds a list, not a JSON object of settings"),
        (b"4096", "it holds a number, not a JSON object of settings"),
        (b"", "it is empty"),
        (b'{"n_ctx\xff": 1\xfe}', "it is not valid JSON"),
        (b'{"schema_version": 7, "n_ctx": 2048}', "written by a newer TokenDice (settings version 7)"),
    ],
)
def test_an_unreadable_file_gives_the_defaults_and_is_kept(tokendice_home: Path, content: bytes, reason: str):
    path = _settings_file(tokendice_home, content)
    ran = run(["info", "--json"])
    assert_clean(ran)
    assert ran.returncode == 0
    line = _one_warning(ran.err_lines)
    assert "could not be read" in line and reason in line and "kept as settings.json.broken" in line
    assert (path.parent / "settings.json.broken").read_bytes() == content
    assert not path.exists()
    assert run(["info", "--json"]).stderr == b""


def test_an_earlier_backup_is_kept_too(tokendice_home: Path):
    path = _settings_file(tokendice_home, b"{first")
    earlier = path.parent / "settings.json.broken"
    earlier.write_bytes(b"an earlier broken file")
    ran = run(["info", "--json"])
    assert "kept as settings.json.broken.2" in _one_warning(ran.err_lines)
    assert earlier.read_bytes() == b"an earlier broken file"
    assert (path.parent / "settings.json.broken.2").read_bytes() == b"{first"


# --- the window ----------------------------------------------------------------------------------------


def test_the_window_starts_with_wrong_types_and_says_so(tokendice_home: Path):
    path = _settings_file(tokendice_home, json.dumps(WRONG_TYPES).encode())
    ran = run(["gui", "--smoke-test"], timeout=120)
    assert_clean(ran)
    assert ran.returncode == 0, ran.stderr
    assert "smoke test: window shown" in ran.out
    assert "the thread count" in _one_warning(ran.err_lines)
    assert json.loads((path.parent / "settings.json.broken").read_text()) == WRONG_TYPES


def _window(qtbot):
    from desktop_app.core.services import Services
    from desktop_app.ui.main_window import MainWindow

    services = Services.open()
    window = MainWindow(services, current=services.library.resolve("default"))
    qtbot.addWidget(window)
    window.show()
    return services, window


@pytest.mark.parametrize(
    ("content", "said"),
    [(json.dumps(WRONG_TYPES).encode(), "the context size"), (b"[1, 2]", "could not be read")],
)
def test_the_window_shows_the_sentence_in_its_status_bar_and_a_dialog(
    qtbot, tokendice_home: Path, content: bytes, said: str
):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    from desktop_app.ui.settings_notice import OBJECT_NAME

    _settings_file(tokendice_home, content)
    services, window = _window(qtbot)
    try:
        assert said in window.statusBar().currentMessage()
        box = window.findChild(QMessageBox, OBJECT_NAME)
        assert box is not None
        qtbot.waitUntil(box.isVisible, timeout=5000)
        assert said in box.informativeText() and "settings.json.broken" in box.informativeText()
        assert box.windowModality() == Qt.NonModal and box.button(QMessageBox.Ok) is not None
        assert window.isEnabled()  # nothing waits for the dialog
        box.button(QMessageBox.Ok).click()
        qtbot.waitUntil(lambda: window.findChild(QMessageBox, OBJECT_NAME) is None, timeout=5000)
    finally:
        window.close()
        services.close()
