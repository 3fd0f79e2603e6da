"""Saved model servers: servers.json in the config folder, in order, one per base URL, their API keys kept
apart (never in servers.json or settings.json); a file that cannot be used is kept aside and said so."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from desktop_app.core.remote.connection import ServerAddress
from desktop_app.core.remote.keys import KEYS_FILE
from desktop_app.core.remote.saved import SERVERS_FILE, SavedServer, SavedServers
from desktop_app.core.store.settings import Settings, SettingsStore
from desktop_app.paths import AppPaths

KEY = "sk-abcdef-the-secret-key"


class MemoryKeyring(KeyringBackend):
    priority = 1  # pyright: ignore[reportAssignmentType]  (a class property in the base class)

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.passwords.pop((service, username), None)


@pytest.fixture
def system_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    # The failing backend, named in the environment, is what keyring loads if none is loaded yet: it
    # never probes the real keyring.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


@pytest.fixture
def paths() -> AppPaths:
    return AppPaths.from_env().ensure()


def files_holding(root: Path, text: str) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file() and text in p.read_text(errors="replace"))


def test_round_trip_in_order(paths: AppPaths):
    saved = SavedServers.for_paths(paths)
    assert saved.load() == [] and saved.warning is None
    first = saved.add(SavedServer("  http://192.168.1.5:8080/v1 ", name=" Lab box "), KEY)
    saved.add(SavedServer("https://models.example.org", verify=False, model="qwen"), None)
    again = SavedServers.for_paths(paths)
    assert again.load() == [
        SavedServer("http://192.168.1.5:8080/v1", name="Lab box"),
        SavedServer("https://models.example.org", verify=False, model="qwen"),
    ]
    assert first.label == "Lab box" and first.base == "http://192.168.1.5:8080"
    assert [s.label for s in again.load()][1] == "models.example.org"
    assert SavedServer("http://[::1]:8080").label == "[::1]:8080"
    assert SavedServer("http://10.0.0.2:8080").label == "10.0.0.2:8080"
    assert again.api_key("http://192.168.1.5:8080") == KEY
    assert again.api_key("https://models.example.org") is None
    address = again.address(again.load()[0])
    assert address == ServerAddress("http://192.168.1.5:8080/v1", KEY, True)
    assert again.address(again.load()[1]).verify is False
    assert again.warning is None


def test_adding_a_saved_base_replaces_it_in_place(paths: AppPaths):
    saved = SavedServers.for_paths(paths)
    saved.add(SavedServer("http://127.0.0.1:8080"), KEY)
    saved.add(SavedServer("http://127.0.0.1:9090"))
    saved.add(SavedServer("http://127.0.0.1:8080/v1/", name="renamed"), "")  # no key: the old one goes
    assert saved.load() == [
        SavedServer("http://127.0.0.1:8080/v1/", name="renamed"),
        SavedServer("http://127.0.0.1:9090"),
    ]
    assert saved.api_key("http://127.0.0.1:8080") is None
    saved.add(SavedServer("http://127.0.0.1:7070"))
    assert [s.base for s in saved.load()][-1] == "http://127.0.0.1:7070"  # the newest added is last


def test_a_bad_address_is_refused_with_a_sentence(paths: AppPaths):
    saved = SavedServers.for_paths(paths)
    with pytest.raises(
        ValueError, match=re.escape("is not a server address: give one like http://127.0.0.1:8080")
    ):
        saved.add(SavedServer("localhost:8080"), KEY)
    assert not (paths.config_dir / SERVERS_FILE).exists()
    assert not (paths.config_dir / KEYS_FILE).exists()


def test_the_key_is_in_no_other_file(paths: AppPaths, caplog: pytest.LogCaptureFixture):
    SettingsStore(paths.settings_path).save(Settings(default_model="remote"))
    saved = SavedServers.for_paths(paths)
    with caplog.at_level(logging.DEBUG):
        saved.add(SavedServer("http://127.0.0.1:8080", name="box"), KEY)
        saved.set_model("http://127.0.0.1:8080", "llama")
    servers_text = (paths.config_dir / SERVERS_FILE).read_text()
    assert KEY not in servers_text and "box" in servers_text
    assert KEY not in paths.settings_path.read_text()
    home = paths.config_dir.parent
    assert files_holding(home, KEY) == [KEYS_FILE]  # portable: the private keys file, and only it
    assert KEY not in caplog.text


def test_with_a_keyring_no_file_holds_the_key(tmp_path: Path, system_keyring: MemoryKeyring):
    root = tmp_path / "user"
    paths = AppPaths(root / "d", root / "c", root / "k", root / "m", root / "l", portable=False)
    saved = SavedServers.for_paths(paths, environ={})
    saved.add(SavedServer("http://127.0.0.1:8080"), KEY)
    assert saved.api_key("http://127.0.0.1:8080") == KEY
    assert files_holding(root, KEY) == []
    assert (paths.config_dir / SERVERS_FILE).exists()
    saved.remove("http://127.0.0.1:8080")
    assert system_keyring.passwords == {}


def test_remove_deletes_the_key(paths: AppPaths):
    saved = SavedServers.for_paths(paths)
    saved.add(SavedServer("http://127.0.0.1:8080"), KEY)
    saved.add(SavedServer("http://127.0.0.1:9090"), "sk-other")
    assert saved.remove("http://127.0.0.1:8080/v1") is True
    assert saved.load() == [SavedServer("http://127.0.0.1:9090")]
    assert saved.api_key("http://127.0.0.1:8080") is None
    assert KEY not in (paths.config_dir / KEYS_FILE).read_text()
    assert saved.api_key("http://127.0.0.1:9090") == "sk-other"
    assert saved.remove("http://127.0.0.1:8080") is False


def test_the_model_last_used_is_remembered(paths: AppPaths):
    saved = SavedServers.for_paths(paths)
    saved.add(SavedServer("http://127.0.0.1:8080", name="box"), KEY)
    updated = saved.set_model("http://127.0.0.1:8080/", "qwen2.5-7b")
    assert updated == SavedServer("http://127.0.0.1:8080", name="box", model="qwen2.5-7b")
    assert SavedServers.for_paths(paths).load() == [updated]
    assert saved.api_key("http://127.0.0.1:8080") == KEY  # the key is untouched
    assert saved.set_model("http://127.0.0.1:1234", "x") is None
    assert saved.find("http://127.0.0.1:8080/v1") == updated


@pytest.mark.parametrize(
    "content", ["{not json", "[]", "", json.dumps({"schema_version": 99, "servers": []})]
)
def test_a_broken_servers_file_is_kept_aside(paths: AppPaths, content: str):
    path = paths.config_dir / SERVERS_FILE
    path.write_text(content)
    saved = SavedServers.for_paths(paths)
    assert saved.load() == []
    assert saved.warning is not None and saved.warning.startswith("The saved servers file")
    assert "could not be read" in saved.warning and "servers.json.broken" in saved.warning
    assert path.with_name(SERVERS_FILE + ".broken").read_text() == content
    saved.add(SavedServer("http://127.0.0.1:8080"))  # the list starts again
    assert SavedServers.for_paths(paths).load() == [SavedServer("http://127.0.0.1:8080")]


def test_a_partly_wrong_servers_file_keeps_the_good_entries(paths: AppPaths):
    path = paths.config_dir / SERVERS_FILE
    entries = [
        {"url": "http://127.0.0.1:8080", "name": "good", "someday": [1, 2]},  # an unknown key is ignored
        {"url": "localhost:1"},
        "http://127.0.0.1:2",
        {"name": "no address"},
        {"url": "http://127.0.0.1:8080/v1", "name": "the same base again"},
        {"url": "https://h.example", "verify": "no", "model": 7},
    ]
    original = json.dumps({"schema_version": 1, "servers": entries, "extra": True})
    path.write_text(original)
    saved = SavedServers.for_paths(paths)
    assert saved.load() == [
        SavedServer("http://127.0.0.1:8080", name="good"),
        SavedServer("https://h.example"),
    ]
    warning = saved.warning
    assert warning is not None and warning.startswith("Some saved servers in")
    assert "server 2: 'localhost:1' is not a server address" in warning
    assert "server 5 (http://127.0.0.1:8080) is saved twice" in warning
    assert warning.endswith("The original file is kept as servers.json.broken.")
    assert path.with_name(SERVERS_FILE + ".broken").read_text() == original
    again = SavedServers.for_paths(paths)  # the file was repaired: no warning the next time
    assert len(again.load()) == 2 and again.warning is None


def test_repr_never_shows_the_key(paths: AppPaths):
    saved = SavedServers.for_paths(paths)
    server = saved.add(SavedServer("http://127.0.0.1:8080", name="box", model="m"), KEY)
    shown = [repr(server), repr(saved), repr(saved.keys), repr(saved.address(server)), str(saved.load())]
    assert all(KEY not in text for text in shown)
    assert saved.address(server).api_key == KEY


def test_importing_the_saved_servers_leaves_the_http_client_and_the_keyring_for_later():
    # The window imports this module at start, when neither is needed yet (tests/ui/test_startup_imports).
    program = (
        "import sys, desktop_app.core.remote.saved\n"
        "print(' '.join(m for m in ('httpx2', 'keyring') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == []
