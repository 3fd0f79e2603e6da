"""The database under real faults: a read-only file or folder, the file deleted or replaced while TokenDice
holds it, a full disk. Each says what happened in a sentence (the store's own errors, never ``sqlite3``'s),
and nothing recorded before is lost.

Read-only cases run the command line (or the window) in a child process without root's power to ignore
file permissions (``setpriv`` drops it when the tests run as root), so a chmod'ed file is really
read-only. Full-disk cases mount a small tmpfs in a private mount namespace (``unshare``), fill it, and
write; where that is not allowed they are skipped, and ``PRAGMA max_page_count`` (SQLite's own
SQLITE_FULL) still checks the store's side.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.core.services import Services
from desktop_app.core.store.chats import ReplyToken
from desktop_app.core.store.db import DatabaseError, DatabaseFull, DatabaseReadOnly
from desktop_app.core.store.lock import InstanceLocked
from desktop_app.paths import AppPaths
from tests.gguf_builders import tiny_gguf
from tests.reliability.test_database_damaged import digest, seed, snapshot

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions and mounts")


def db_path() -> Path:
    return AppPaths.from_env().db_path


# --- read-only ---------------------------------------------------------------------------------------


def unprivileged() -> list[str]:
    """A prefix that runs a command without root's power to ignore file permissions."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a file cannot be made read-only for root")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def run_unprivileged(args: list[str], *, code: str | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", code] if code is not None else [sys.executable, "-m", "desktop_app"]
    return subprocess.run(
        [*unprivileged(), *command, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )


def read_only(*paths: Path) -> None:
    for p in paths:
        mode = p.stat().st_mode
        p.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


@pytest.fixture
def writable_again():
    """Give back write permission at the end (pytest must be able to remove the folders)."""
    changed: list[Path] = []
    yield changed
    for p in changed:
        if p.exists():
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


def read_only_sentence(why: str) -> str:
    return (
        f"The database {db_path()} cannot be written ({why}), so TokenDice opened it read-only: everything "
        "in it can be read, but nothing can be saved. Make the file and its folder writable, then start "
        "TokenDice again."
    )


@posix_only
def test_a_read_only_database_file_is_listed_and_refuses_changes_in_a_sentence(tmp_path, writable_again):
    seed(chats=1, tokens=3)
    path = db_path()
    read_only(path)
    writable_again.append(path)
    before = digest(path)
    listed = run_unprivileged(["models", "list", "--json"])
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert [m["id"] for m in json.loads(listed.stdout)["models"]] == ["bundled/SmolLM2-135M-Instruct-Q4_1"]
    model = tiny_gguf(tmp_path / "tiny.gguf")
    imported = run_unprivileged(["models", "import", "--reference", str(model)])
    assert imported.returncode == 1 and "Traceback" not in imported.stderr
    assert imported.stderr.strip() == f"tokendice: error: {read_only_sentence('the file is read-only')}"
    assert digest(path) == before  # nothing was written to it


@posix_only
def test_a_read_only_data_folder_is_read_without_a_trace_left(writable_again):
    chats = seed(chats=2, tokens=3)
    path = db_path()
    folder = path.parent
    read_only(path, folder)  # a read-only medium: not even SQLite's -shm file can be made there
    writable_again.append(folder)
    writable_again.append(path)
    before = sorted(p.name for p in folder.iterdir())
    for command in (["models", "list"], ["models", "info", "default"]):
        done = run_unprivileged(command)
        assert done.returncode == 0 and done.stderr == "", done.stderr
    code = (
        "import json; from desktop_app.core.services import Services\n"
        "s = Services.open()\n"
        "print(json.dumps({'read_only': s.read_only, 'notices': s.notices,"
        " 'chats': sorted(c.title for c in s.chats.list_chats())}))\n"
        "s.close()\n"
    )
    done = run_unprivileged([], code=code)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["read_only"] and seen["chats"] == sorted(chats)
    assert seen["notices"] == [read_only_sentence("the file is read-only")]
    assert sorted(p.name for p in folder.iterdir()) == before


@posix_only
def test_a_read_only_database_of_an_older_schema_says_why_it_cannot_be_upgraded(writable_again):
    from desktop_app.core.store.db import Database
    from desktop_app.core.store.migrations import MIGRATIONS

    path = db_path()
    Database(path, migrations=MIGRATIONS[:-1]).close()  # as the TokenDice before this one left it
    read_only(path)
    writable_again.append(path)
    done = run_unprivileged(["models", "list"])
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        f"tokendice: error: The database {path} has an older schema ({len(MIGRATIONS) - 1}, this TokenDice "
        f"uses {len(MIGRATIONS)}) and cannot be upgraded, because it cannot be written. Make the file and "
        "its folder writable, then start TokenDice again."
    )


@posix_only
def test_a_read_only_folder_without_a_database_says_so(tokendice_home: Path, writable_again):
    paths = AppPaths.from_env().ensure()
    read_only(paths.data_dir)
    writable_again.append(paths.data_dir)
    done = run_unprivileged(["models", "list"])
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        f"tokendice: error: TokenDice cannot create its database {paths.db_path}: its folder "
        f"{paths.data_dir} is read-only. Make the folder writable, or set TOKENDICE_HOME to a folder that is."
    )


WINDOW = r"""
import json
from PySide6.QtWidgets import QApplication
app = QApplication([])
from desktop_app.core.services import Services
from desktop_app.ui.main_window import MainWindow
services = Services.open()
window = MainWindow(services, current=None)
window.show()
app.processEvents()
seen = {"read_only": services.read_only, "status": window.statusBar().currentMessage(),
        "chats": sorted(window.chats.titles())}
try:
    window.controller.rename_chat(services.chats.list_chats()[0].id, "renamed")
except Exception as exc:
    seen["rename"] = [type(exc).__name__, str(exc)]
window.close()
services.close()
print(json.dumps(seen))
"""


@posix_only
def test_window_runs_read_only_and_says_so(writable_again):
    chats = seed(chats=2, tokens=3)
    path = db_path()
    read_only(path)
    writable_again.append(path)
    done = run_unprivileged([], code=WINDOW)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["read_only"] and seen["chats"] == sorted(chats)
    assert seen["status"] == read_only_sentence("the file is read-only")
    assert seen["rename"] == ["DatabaseReadOnly", read_only_sentence("the file is read-only")]


# --- deleted or replaced while running ----------------------------------------------------------------


def test_a_database_deleted_while_running_is_written_anew_before_the_next_write():
    before = seed(chats=2, tokens=5)
    services = Services.open()
    told: list[str] = []
    services.set_notice_handler(told.append)
    try:
        path = services.db.path
        path.unlink()  # the user, or a cleaner, deletes it: SQLite would go on writing the deleted file
        chat = services.chats.create_chat("after the deletion")
        services.chats.add_message(chat.id, "user", "still here")
        assert told == [
            f"The database {path} was deleted while TokenDice was running. Everything TokenDice held was "
            f"written to a new database at {path}, so nothing was lost."
        ]
        assert path.is_file()
    finally:
        services.close()
    services = Services.open()
    try:
        after = snapshot(services)
    finally:
        services.close()
    assert after == {**before, "after the deletion": [("user", "still here", 0)]}


def test_a_deleted_data_folder_is_made_again_and_the_lock_taken_again():
    before = seed(chats=2, tokens=5)
    services = Services.open()
    told: list[str] = []
    services.set_notice_handler(told.append)
    try:
        folder = services.db.path.parent
        shutil.rmtree(folder)
        services.chats.create_chat("after the folder went")
        assert told and told[0].startswith(
            f"The data folder {folder} was deleted while TokenDice was running."
        )
        with pytest.raises(InstanceLocked):  # the lock file came back with the folder: one TokenDice still
            Services.open()
    finally:
        services.close()
    services = Services.open()
    try:
        assert snapshot(services) == {**before, "after the folder went": []}
    finally:
        services.close()


def test_a_database_replaced_while_running_is_kept_aside_and_ours_written_back(tmp_path: Path):
    before = seed(chats=2, tokens=5)
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE someone_elses(x)")
    conn.execute("INSERT INTO someone_elses VALUES ('theirs')")
    conn.commit()
    conn.close()
    services = Services.open()
    told: list[str] = []
    services.set_notice_handler(told.append)
    try:
        path = services.db.path
        os.replace(other, path)
        services.chats.create_chat("after the swap")
        (kept,) = path.parent.glob("tokendice-replaced-*.sqlite3")
        assert told == [
            f"The database {path} was replaced by another file while TokenDice was running. Everything "
            f"TokenDice held was written to a new database at {path}, so nothing was lost. The other file "
            f"was kept as {kept}."
        ]
    finally:
        services.close()
    check = sqlite3.connect(kept)
    assert check.execute("SELECT x FROM someone_elses").fetchall() == [("theirs",)]
    check.close()
    services = Services.open()
    try:
        assert snapshot(services) == {**before, "after the swap": []}
    finally:
        services.close()


def test_window_tells_the_user_when_the_database_was_deleted_under_it(qtbot):
    from desktop_app.ui.main_window import MainWindow

    before = seed(chats=2, tokens=5)
    services = Services.open()
    window = MainWindow(services, current=None)
    qtbot.addWidget(window)
    try:
        window.show()
        path = services.db.path
        path.unlink()
        chat_id = services.chats.list_chats()[0].id
        window.chats.rename_requested.emit(chat_id, "renamed after the deletion")
        assert (
            window.statusBar()
            .currentMessage()
            .startswith(
                f"The database {path} was deleted while TokenDice was running. Everything TokenDice held"
            )
        )
        assert "renamed after the deletion" in window.chats.titles()
    finally:
        window.close()
        services.close()
    services = Services.open()
    try:
        after = snapshot(services)
    finally:
        services.close()
    assert "renamed after the deletion" in after and len(after) == len(before)


# --- a full disk -----------------------------------------------------------------------------------------


def big_reply(n: int = 3000) -> list[ReplyToken]:
    return [ReplyToken(t % 1000, b"token %d" % t, 0.5, 0.4, 0.3) for t in range(n)]


FULL = "The disk that holds the database {path} is full, so the last change was not saved"


def test_a_full_database_raises_the_stores_error_and_keeps_what_was_saved():
    before = seed(chats=2, tokens=5)
    services = Services.open()
    try:
        pages = services.db.conn.execute("PRAGMA page_count").fetchone()[0]
        services.db.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own SQLITE_FULL
        chat = services.chats.list_chats()[0]
        parent = services.chats.path(chat.id)[-1].id
        with pytest.raises(DatabaseFull) as caught:
            services.chats.save_reply(chat.id, "too long", big_reply(), parent_id=parent)
        assert not isinstance(caught.value.__context__, DatabaseError)  # not masked by a failed ROLLBACK
        assert str(caught.value).startswith(FULL.format(path=services.db.path))
        assert "everything saved before is kept" in str(caught.value)
        assert snapshot(services) == before  # nothing half-saved, nothing lost
        services.db.conn.execute("PRAGMA max_page_count = 1073741823")  # room again
        services.chats.save_reply(chat.id, "now it fits", big_reply(), parent_id=parent)
    finally:
        services.close()


def tmpfs_runner(mount: Path, size: str) -> list[str]:
    """A prefix that runs a command with a ``size`` tmpfs mounted at ``mount`` (a private mount namespace)."""
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        pytest.skip("a private tmpfs needs Linux and unshare")
    prefix = [
        "unshare",
        "--user",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        f'mount -t tmpfs -o size={size} tmpfs "$0" && exec "$@"',
        str(mount),
    ]
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {probe.stderr.strip()}")
    return prefix


FULL_DISK = r"""
import json, os, sys
from desktop_app.core.services import Services
from desktop_app.core.store.chats import ReplyToken
from desktop_app.core.store.db import DatabaseError
home = sys.argv[1]
services = Services.open()
chat = services.chats.create_chat("before the disk filled")
user = services.chats.add_message(chat.id, "user", "hello")
services.chats.save_reply(chat.id, "hi", [ReplyToken(1, b"hi", 0.5, 0.5, 0.1)], parent_id=user.id)
filler = os.path.join(home, "filler")
fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
try:
    while True:
        os.write(fd, b"x" * 65536)
except OSError:
    pass
try:
    while True:
        os.write(fd, b"x" * 512)
except OSError:
    os.close(fd)
seen = {}
big = [ReplyToken(t % 1000, b"token %d" % t, 0.5, 0.4, 0.3) for t in range(20000)]
try:
    services.chats.save_reply(chat.id, "too long", big, parent_id=user.id)
except DatabaseError as exc:
    seen["error"] = [type(exc).__name__, str(exc)]
seen["kept"] = [(m.role, m.content) for m in services.chats.path(chat.id)]
os.unlink(filler)
services.chats.save_reply(chat.id, "after freeing space", big[:100], parent_id=user.id)
services.close()
services = Services.open()
seen["reopened"] = [[m.content for m in services.chats.path(c.id)] for c in services.chats.list_chats()]
seen["siblings"] = [m.content for m in services.chats.siblings(services.chats.path(chat.id)[-1].id)]
services.close()
print(json.dumps(seen))
"""


@posix_only
def test_a_really_full_disk_is_a_sentence_and_loses_nothing(tmp_path: Path, tokendice_home: Path):
    tokendice_home.mkdir(parents=True, exist_ok=True)
    prefix = tmpfs_runner(tokendice_home, "3m")
    done = subprocess.run(
        [*prefix, sys.executable, "-c", FULL_DISK, str(tokendice_home)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    db = tokendice_home / "data" / "tokendice.sqlite3"
    kind, sentence = seen["error"]
    assert kind == "DatabaseFull" and sentence.startswith(FULL.format(path=db))
    assert seen["kept"] == [["user", "hello"], ["assistant", "hi"]]
    assert seen["reopened"] == [["hello", "after freeing space"]]
    assert seen["siblings"] == ["hi", "after freeing space"]  # the reply from before the fault is kept


FULL_CLI = r"""
set -e
python="$1"; home="$2"; model="$3"; out="$4"
"$python" -m desktop_app models list > /dev/null
"$python" -c "
import os, sys
fd = os.open(os.path.join(sys.argv[1], 'filler'), os.O_WRONLY | os.O_CREAT)
for size in (65536, 512):
    try:
        while True:
            os.write(fd, b'x' * size)
    except OSError:
        pass
" "$home"
set +e
"$python" -m desktop_app models import --reference "$model" > "$out/import.out" 2> "$out/import.err"
echo $? > "$out/import.rc"
"$python" -m desktop_app models list --json > "$out/list.out" 2> "$out/list.err"
echo $? > "$out/list.rc"
"""


@posix_only
def test_the_command_line_on_a_full_disk_says_so_in_one_line(tmp_path: Path, tokendice_home: Path):
    tokendice_home.mkdir(parents=True, exist_ok=True)
    prefix = tmpfs_runner(tokendice_home, "1m")
    model = tiny_gguf(tmp_path / "tiny.gguf")
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(
        [*prefix, "sh", "-c", FULL_CLI, "sh", sys.executable, str(tokendice_home), str(model), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    db = tokendice_home / "data" / "tokendice.sqlite3"
    err = (out / "import.err").read_text()
    assert (out / "import.rc").read_text().strip() == "1" and "Traceback" not in err
    # No room even for SQLite's shared-memory file: the database opened read-only, and the import says why.
    assert err == (
        f"tokendice: error: The disk that holds the database {db} is full (disk I/O error), so TokenDice "
        "opened it read-only: everything in it can be read, but nothing can be saved. Free some space, then "
        "start TokenDice again.\n"
    )
    assert (out / "list.rc").read_text().strip() == "0", (out / "list.err").read_text()  # still lists
    listed = json.loads((out / "list.out").read_text())["models"]
    assert [m["id"] for m in listed] == ["bundled/SmolLM2-135M-Instruct-Q4_1"]


# --- the store's errors are its own ------------------------------------------------------------------


def test_a_write_to_a_read_only_database_is_the_stores_error():
    seed(chats=1, tokens=3)
    from desktop_app.core.store.db import Database

    with Database(db_path(), read_only=True, read_only_reason="Nothing can be saved here.") as db:
        with pytest.raises(DatabaseReadOnly, match=r"^Nothing can be saved here\.$"):
            db.conn.execute("DELETE FROM chats")
        with pytest.raises(DatabaseReadOnly, match=r"^Nothing can be saved here\.$"), db.transaction():
            pass
