"""API keys of saved servers: in the system keyring where there is one and it may be used, else in a file
only the user can read; a keyring that fails falls back to the file; a key is never logged or shown.

The keyring here is an in-memory backend set with ``keyring.set_keyring``: no test touches the real one."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError

from desktop_app.core.remote.keys import KEYS_FILE, SERVICE, KeyStore
from desktop_app.paths import AppPaths

KEY = "sk-0123456789-the-secret"
posix_only = pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX's")


class MemoryKeyring(KeyringBackend):
    """A keyring in a dict; ``broken`` makes every call fail as a locked keyring does."""

    priority = 1  # pyright: ignore[reportAssignmentType]  (a class property in the base class)

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}
        self.calls: list[str] = []
        self.broken = False

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.broken:
            raise KeyringError("the collection is locked")

    def get_password(self, service: str, username: str) -> str | None:
        self._call("get")
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._call("set")
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._call("delete")
        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


@pytest.fixture
def system_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    # Named in the environment, the failing backend is what keyring loads if it has loaded none yet:
    # it never probes the real keyring to find out which backend to use.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


def system_paths(root: Path) -> AppPaths:
    """An installation in the user's folders (not portable), under ROOT."""
    return AppPaths(
        data_dir=root / "data",
        config_dir=root / "config",
        cache_dir=root / "cache",
        models_dir=root / "models",
        log_dir=root / "logs",
        portable=False,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the file --------------------------------------------------------------------------------------


def test_file_round_trip_per_base_url():
    paths = AppPaths.from_env()
    store = KeyStore.for_paths(paths)
    assert store.where.endswith(f"{KEYS_FILE}, readable only by you")
    store.set("http://127.0.0.1:8080/v1/", KEY)
    assert store.get("http://127.0.0.1:8080") == KEY  # the same server: one key per base URL
    assert KeyStore.for_paths(paths).get("http://127.0.0.1:8080/") == KEY  # read back from the file
    assert store.get("http://127.0.0.1:8081") is None
    store.set("http://127.0.0.1:8080", "")  # an empty key deletes
    assert store.get("http://127.0.0.1:8080") is None
    store.set("http://127.0.0.1:8080", KEY)
    store.delete("http://127.0.0.1:8080/v1")
    assert store.get("http://127.0.0.1:8080") is None
    store.delete("http://127.0.0.1:8080")  # deleting what is not there is fine
    assert store.warning is None


def test_a_bad_address_is_refused_with_a_sentence():
    store = KeyStore.for_paths(AppPaths.from_env())
    with pytest.raises(ValueError, match="is not a server address"):
        store.set("ftp://somewhere", KEY)


@posix_only
def test_keys_file_is_created_readable_only_by_the_user():
    paths = AppPaths.from_env()
    old = os.umask(0)  # the most permissive umask: the file must still be 0o600
    try:
        KeyStore.for_paths(paths).set("http://127.0.0.1:8080", KEY)
    finally:
        os.umask(old)
    path = paths.config_dir / KEYS_FILE
    assert mode(path) == 0o600
    assert [p.name for p in paths.config_dir.iterdir()] == [KEYS_FILE]  # no temporary file left


@posix_only
def test_a_keys_file_others_can_read_is_tightened(caplog: pytest.LogCaptureFixture):
    paths = AppPaths.from_env()
    path = paths.config_dir / KEYS_FILE
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema_version": 1, "keys": {"http://127.0.0.1:8080": KEY}}))
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        assert KeyStore.for_paths(paths).get("http://127.0.0.1:8080") == KEY
    assert mode(path) == 0o600
    assert "readable only by you" in caplog.text and KEY not in caplog.text


@posix_only
def test_a_broken_keys_file_is_kept_aside_privately_and_the_store_starts_empty():
    paths = AppPaths.from_env()
    path = paths.config_dir / KEYS_FILE
    path.parent.mkdir(parents=True)
    path.write_text('{"keys": {"http://127.0.0.1:8080": "' + KEY)  # cut off mid-write
    path.chmod(0o644)
    store = KeyStore.for_paths(paths)
    assert store.get("http://127.0.0.1:8080") is None
    backup = path.with_name(KEYS_FILE + ".broken")
    assert KEY in backup.read_text() and mode(backup) == 0o600
    assert store.warning is not None and "could not be read" in store.warning
    assert store.warning.count(". ") <= 2 and KEY not in store.warning
    store.set("http://127.0.0.1:8080", "sk-new")
    assert KeyStore.for_paths(paths).get("http://127.0.0.1:8080") == "sk-new"


def test_a_warning_is_there_before_any_key_is_asked_for():
    paths = AppPaths.from_env()
    path = paths.config_dir / KEYS_FILE
    path.parent.mkdir(parents=True)
    path.write_text("[1, 2]")
    store = KeyStore.for_paths(paths)
    assert store.warning is not None and f"{KEYS_FILE}.broken" in store.warning


@posix_only
def test_a_partly_wrong_keys_file_keeps_the_good_keys():
    paths = AppPaths.from_env()
    path = paths.config_dir / KEYS_FILE
    path.parent.mkdir(parents=True)
    keys = {"http://127.0.0.1:8080": KEY, "not an address": "sk-bad-1", "http://127.0.0.1:9": 42}
    original = json.dumps({"schema_version": 1, "keys": keys})
    path.write_text(original)
    store = KeyStore.for_paths(paths)
    assert store.get("http://127.0.0.1:8080") == KEY
    assert store.get("http://127.0.0.1:9") is None
    backup = path.with_name(KEYS_FILE + ".broken")
    assert backup.read_text() == original and mode(backup) == 0o600
    warning = store.warning
    assert warning is not None and "'not an address' is not a server address" in warning
    assert "sk-" not in warning  # the entries are named by server, never by key
    assert json.loads(path.read_text())["keys"] == {"http://127.0.0.1:8080": KEY}  # repaired
    assert mode(path) == 0o600


# --- the keyring -----------------------------------------------------------------------------------


def test_the_system_keyring_is_used_where_there_is_one(tmp_path: Path, system_keyring: MemoryKeyring):
    paths = system_paths(tmp_path)
    store = KeyStore.for_paths(paths, environ={})
    assert store.where.startswith("the system keyring (") and "MemoryKeyring" in store.where
    store.set("http://127.0.0.1:8080/v1", KEY)
    assert system_keyring.passwords == {(SERVICE, "http://127.0.0.1:8080"): KEY}
    assert store.get("http://127.0.0.1:8080") == KEY
    assert not (paths.config_dir / KEYS_FILE).exists()
    store.delete("http://127.0.0.1:8080")
    assert system_keyring.passwords == {} and store.get("http://127.0.0.1:8080") is None


@posix_only
def test_a_failing_keyring_falls_back_to_the_file(
    tmp_path: Path, system_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture
):
    paths = system_paths(tmp_path)
    store = KeyStore.for_paths(paths, environ={})
    system_keyring.broken = True
    with caplog.at_level(logging.DEBUG):
        store.set("http://127.0.0.1:8080", KEY)  # the keyring is locked: the key goes to the file
        assert store.get("http://127.0.0.1:8080") == KEY
        path = paths.config_dir / KEYS_FILE
        assert KEY in path.read_text() and mode(path) == 0o600
        assert system_keyring.calls == ["set", "get"]
        assert "could not store the API key for http://127.0.0.1:8080" in caplog.text
        # Unlocked again: the key is found in the file, and a new one moves into the keyring.
        system_keyring.broken = False
        assert store.get("http://127.0.0.1:8080") == KEY
        store.set("http://127.0.0.1:8080", "sk-second")
        assert system_keyring.passwords == {(SERVICE, "http://127.0.0.1:8080"): "sk-second"}
        assert "sk-" not in path.read_text()
    assert KEY not in caplog.text and "sk-second" not in caplog.text


def test_a_key_in_the_file_is_deleted_also_when_the_keyring_fails(
    tmp_path: Path, system_keyring: MemoryKeyring
):
    store = KeyStore.for_paths(system_paths(tmp_path), environ={})
    system_keyring.broken = True
    store.set("http://127.0.0.1:8080", KEY)
    store.delete("http://127.0.0.1:8080")
    assert store.get("http://127.0.0.1:8080") is None
    assert system_keyring.calls == ["set", "delete", "get"]


def test_portable_mode_never_uses_the_keyring(system_keyring: MemoryKeyring):
    paths = AppPaths.from_env()
    assert paths.portable
    store = KeyStore.for_paths(paths, environ={})
    store.set("http://127.0.0.1:8080", KEY)
    assert store.get("http://127.0.0.1:8080") == KEY
    store.delete("http://127.0.0.1:8080")
    assert system_keyring.calls == [] and "readable only by you" in store.where


@pytest.mark.parametrize("value", ["off", "0", "false", " OFF "])
def test_tokendice_keyring_off_never_uses_the_keyring(
    tmp_path: Path, system_keyring: MemoryKeyring, value: str
):
    paths = system_paths(tmp_path)
    store = KeyStore.for_paths(paths, environ={"TOKENDICE_KEYRING": value})
    store.set("http://127.0.0.1:8080", KEY)
    assert store.get("http://127.0.0.1:8080") == KEY
    assert system_keyring.calls == []
    assert KEY in (paths.config_dir / KEYS_FILE).read_text()


def test_no_real_keyring_means_the_file(tmp_path: Path, system_keyring: MemoryKeyring):
    keyring.set_keyring(keyring.backends.fail.Keyring())  # what keyring uses where the system has none
    store = KeyStore.for_paths(system_paths(tmp_path), environ={})
    store.set("http://127.0.0.1:8080", KEY)
    assert KEY in (tmp_path / "config" / KEYS_FILE).read_text()


def test_a_keyring_of_no_priority_is_not_used(tmp_path: Path, system_keyring: MemoryKeyring):
    class Unviable(MemoryKeyring):
        priority = 0  # pyright: ignore[reportAssignmentType]

    unviable = Unviable()
    keyring.set_keyring(unviable)
    store = KeyStore.for_paths(system_paths(tmp_path), environ={})
    store.set("http://127.0.0.1:8080", KEY)
    assert unviable.calls == [] and store.get("http://127.0.0.1:8080") == KEY


def test_repr_never_shows_the_key(tmp_path: Path, system_keyring: MemoryKeyring):
    in_keyring = KeyStore.for_paths(system_paths(tmp_path), environ={})
    in_file = KeyStore.for_paths(AppPaths.from_env())
    for store in (in_keyring, in_file):
        store.set("http://127.0.0.1:8080", KEY)
        assert KEY not in repr(store) and KEY not in str(store)
        assert repr(store).startswith("KeyStore(in ")
