from __future__ import annotations

import json
from dataclasses import replace
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
    ["{not json", "[1, 2]", json.dumps({"schema_version": 99}), "", "  \n"],
)
def test_unreadable_file_is_kept_aside_and_defaults_used(tmp_path: Path, content: str):
    path = tmp_path / "s.json"
    path.write_text(content)
    loaded = SettingsStore(path).load()
    assert loaded.settings == Settings()
    assert "could not be read" in loaded.warning
    assert (tmp_path / "s.json.broken").read_text() == content
    assert not path.exists()


def test_a_bad_field_falls_back_alone_and_the_original_is_kept(tmp_path: Path):
    path = tmp_path / "s.json"
    content = json.dumps({"schema_version": 1, "n_ctx": 5, "top_n": 30, "someday": True})
    path.write_text(content)
    loaded = SettingsStore(path).load()
    assert loaded.settings == Settings(top_n=30)
    assert "context size" in loaded.warning and "s.json.broken" in loaded.warning
    assert (tmp_path / "s.json.broken").read_text() == content
    repaired = json.loads(path.read_text())
    assert repaired["n_ctx"] == 4096 and repaired["top_n"] == 30 and repaired["someday"] is True
    assert SettingsStore(path).load().warning is None  # told once


def test_an_earlier_backup_is_never_written_over(tmp_path: Path):
    path = tmp_path / "s.json"
    (tmp_path / "s.json.broken").write_text("the first one")
    path.write_text("{nope")
    loaded = SettingsStore(path).load()
    assert loaded.kept_as == tmp_path / "s.json.broken.2" and "s.json.broken.2" in loaded.warning
    assert (tmp_path / "s.json.broken").read_text() == "the first one"
    assert (tmp_path / "s.json.broken.2").read_text() == "{nope"


def test_saving_keeps_keys_this_version_does_not_know(tmp_path: Path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"schema_version": 1, "n_ctx": 2048, "from_a_newer_app": {"x": 1}}))
    store = SettingsStore(path)
    store.save(replace(store.load().settings, top_n=10))
    doc = json.loads(path.read_text())
    assert doc["from_a_newer_app"] == {"x": 1} and doc["n_ctx"] == 2048 and doc["top_n"] == 10


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
    path.write_text(json.dumps({"schema_version": 1, "language": "tlh", "top_n": 7}))
    loaded = SettingsStore(path).load()
    assert loaded.settings == Settings(top_n=7) and "unknown language" in loaded.warning
    assert json.loads((tmp_path / "s.json.broken").read_text())["language"] == "tlh"
