from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.core.store.settings import SETTINGS_VERSION, Settings, SettingsStore


def test_defaults_when_there_is_no_file(tmp_path: Path):
    loaded = SettingsStore(tmp_path / "s.json").load()
    assert loaded.settings == Settings() and loaded.warning is None


def test_round_trip_with_schema_version(tmp_path: Path):
    store = SettingsStore(tmp_path / "s.json")
    store.save(Settings(n_ctx=2048, n_gpu_layers="auto", top_n=30, language="zh_TW"))
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["schema_version"] == SETTINGS_VERSION
    assert store.load().settings == Settings(n_ctx=2048, n_gpu_layers="auto", top_n=30, language="zh_TW")


def test_unknown_keys_are_ignored(tmp_path: Path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"schema_version": 1, "n_ctx": 1024, "someday": True}))
    assert SettingsStore(path).load().settings.n_ctx == 1024


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2]",
        json.dumps({"schema_version": 1, "n_ctx": 5}),
        json.dumps({"schema_version": 99}),
    ],
)
def test_unreadable_file_is_kept_aside_and_defaults_used(tmp_path: Path, content: str):
    path = tmp_path / "s.json"
    path.write_text(content)
    loaded = SettingsStore(path).load()
    assert loaded.settings == Settings()
    assert "could not be read" in loaded.warning
    assert (tmp_path / "s.json.broken").read_text() == content
    assert not path.exists()


def test_invalid_values_are_refused_on_save(tmp_path: Path):
    store = SettingsStore(tmp_path / "s.json")
    with pytest.raises(ValueError, match="GPU layers"):
        store.save(Settings(n_gpu_layers="many"))
    with pytest.raises(ValueError, match="5 to 50"):
        store.save(Settings(top_n=3))
    assert not (tmp_path / "s.json").exists()


def test_the_language_is_system_en_or_zh_tw_and_follows_the_system_by_default(tmp_path: Path):
    assert Settings().language == "system"
    store = SettingsStore(tmp_path / "s.json")
    for language in ("system", "en", "zh_TW"):
        store.save(Settings(language=language))
        assert store.load().settings.language == language
    with pytest.raises(ValueError, match="unknown language"):
        store.save(Settings(language="zh_CN"))


def test_an_older_file_with_language_en_still_loads(tmp_path: Path):
    path = tmp_path / "s.json"
    doc = {"schema_version": 1, "default_model": "default", "n_ctx": 4096, "n_gpu_layers": 0,
           "n_threads": None, "top_n": 20, "language": "en"}  # fmt: skip
    path.write_text(json.dumps(doc))
    loaded = SettingsStore(path).load()
    assert loaded.warning is None and loaded.settings.language == "en" and path.exists()


def test_a_file_with_an_unknown_language_is_kept_aside(tmp_path: Path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"schema_version": 1, "language": "tlh"}))
    loaded = SettingsStore(path).load()
    assert loaded.settings == Settings() and "unknown language" in loaded.warning
