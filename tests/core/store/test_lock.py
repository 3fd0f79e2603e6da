from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.core.services import Services
from desktop_app.core.store.db import Database, DatabaseError, DatabaseReadOnly
from desktop_app.core.store.lock import LOCK_FILENAME, InstanceLock, InstanceLocked, holder_pid
from desktop_app.core.store.migrations import MIGRATIONS
from desktop_app.paths import AppPaths

ROOT = Path(__file__).resolve().parents[3]

HOLD_LOCK = """
import sys
from pathlib import Path
from desktop_app.core.store.lock import InstanceLock
lock = InstanceLock.acquire(Path(sys.argv[1]))
print("locked", flush=True)
sys.stdin.readline()
"""

FIRST_INSTANCE = """
import sys
from desktop_app.core.services import Services
s = Services.open()
chat = s.chats.create_chat("from the first instance")
s.chats.add_message(chat.id, "user", "hello")
print("ready", flush=True)
sys.stdin.readline()
"""


def _start(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()  # SIGKILL on POSIX: no cleanup code runs in the child
    proc.wait(timeout=30)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def test_lock_is_exclusive_and_released(tmp_path: Path):
    path = tmp_path / "data" / LOCK_FILENAME
    with InstanceLock.acquire(path) as lock:
        assert lock.held and holder_pid(path) == os.getpid()
        with pytest.raises(InstanceLocked) as info:
            InstanceLock.acquire(path)  # a second open file, even in this process, is refused
        assert info.value.pid == os.getpid()
        assert str(info.value).startswith(f"TokenDice is already running (process {os.getpid()}); ")
        assert isinstance(info.value, DatabaseError)  # the CLI turns it into a one-line error
    assert not lock.held
    lock.release()  # idempotent
    again = InstanceLock.acquire(path)
    again.release()


def test_a_stale_lock_file_does_not_block(tmp_path: Path):
    path = tmp_path / LOCK_FILENAME
    path.write_text("999999999\n")  # left behind by a process that is gone: the file alone means nothing
    with InstanceLock.acquire(path):
        assert holder_pid(path) == os.getpid()
    path.write_text("garbage")
    assert holder_pid(path) is None
    assert holder_pid(tmp_path / "missing") is None


def test_a_killed_holder_releases_the_lock(tmp_path: Path):
    path = tmp_path / LOCK_FILENAME
    proc = _start(HOLD_LOCK, str(path))
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(InstanceLocked, match=rf"already running \(process {proc.pid}\)"):
            InstanceLock.acquire(path)
        _kill(proc)
        assert holder_pid(path) == proc.pid  # the text stays, but the OS dropped the lock
        InstanceLock.acquire(path).release()
    finally:
        _kill(proc)


def test_second_instance_gets_the_sentence_and_reads_read_only(tokendice_home: Path):
    proc = _start(FIRST_INSTANCE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        with pytest.raises(InstanceLocked, match=rf"TokenDice is already running \(process {proc.pid}\);"):
            Services.open()
        ro = Services.open(read_only_if_locked=True)
        try:
            assert ro.read_only and ro.lock is None and ro.locked_by is not None
            assert ro.locked_by.pid == proc.pid
            assert [c.title for c in ro.chats.list_chats()] == ["from the first instance"]
            assert [m.content for m in ro.chats.path(ro.chats.list_chats()[0].id)] == ["hello"]
            assert [p.name for p in ro.presets.list_presets()]
            with pytest.raises(DatabaseError, match="open read-only"):
                ro.chats.create_chat("not allowed")
            with pytest.raises(DatabaseReadOnly, match="another TokenDice is running"):
                ro.db.conn.execute("DELETE FROM chats")  # the store's own error, not sqlite3's
        finally:
            ro.close()
        _kill(proc)
        services = Services.open()  # the first instance was killed: the lock is free
        try:
            assert not services.read_only and services.lock is not None
            assert [c.title for c in services.chats.list_chats()] == ["from the first instance"]
        finally:
            services.close()
    finally:
        _kill(proc)


def test_read_only_only_when_locked(tokendice_home: Path):
    services = Services.open(read_only_if_locked=True)  # nobody holds the lock: a normal instance
    try:
        assert not services.read_only and services.lock is not None and services.locked_by is None
    finally:
        services.close()
    assert services.lock is not None and not services.lock.held


def test_read_only_database_errors_are_sentences(tmp_path: Path):
    with pytest.raises(DatabaseError, match="does not exist yet"):
        Database(tmp_path / "none.sqlite3", read_only=True)
    old = tmp_path / "old.sqlite3"
    Database(old, migrations=MIGRATIONS[:1]).close()
    with pytest.raises(DatabaseError, match=r"older schema .* Close the other TokenDice"):
        Database(old, read_only=True)
    with Database(old) as db:
        assert db.version == len(MIGRATIONS)
    with Database(old, read_only=True) as ro:
        assert ro.version == len(MIGRATIONS) and ro.read_only


def test_services_release_the_lock_when_opening_fails(tokendice_home: Path):
    paths = AppPaths.from_env().ensure()
    paths.db_path.write_bytes(b"not a database" * 100)
    with pytest.raises(DatabaseError, match="Move it aside"):
        Services.open()
    InstanceLock.for_folder(paths.data_dir).release()
