"""Background: a call runs on a worker thread and its answer (a value, or an exception as a sentence) is
handed to the caller on the GUI thread; a call can be cancelled, a newer call of a kind supersedes the
older, no thread is left once it is shut down, and a call still running never holds up the process's exit.
Last, a real slow call: listing the library reads a changed GGUF file and asks llama.cpp about it off the
GUI thread."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QObject

from desktop_app.core.models import library as library_module
from desktop_app.core.models.hub import HubError
from desktop_app.core.models.library import Library
from desktop_app.core.store.db import Database
from desktop_app.ui import core_text
from desktop_app.ui.background import Background, running_threads
from desktop_app.ui.hub_calls import HubCalls
from desktop_app.ui.library_lookups import LookupCancelled, read_entries
from desktop_app.ui.widgets.models import ModelsPanel

WAIT_MS = 10_000
LOOKUP_MS = 60_000


@pytest.fixture(autouse=True)
def no_call_left_running():
    yield
    assert running_threads() == 0, "a Background call was left running"


@pytest.fixture
def background():
    b = Background(name="tokendice-test")
    yield b
    assert b.shutdown(5.0)


def thread_is_gone(native_id: int) -> bool:
    return not Path(f"/proc/self/task/{native_id}").exists()


def test_the_value_comes_back_on_the_gui_thread(qtbot, background: Background):
    ran_on, answered_on, answers, names = [], [], [], []

    def work() -> int:
        ran_on.append(threading.current_thread())
        names.append(Path(f"/proc/self/task/{threading.get_native_id()}/comm").read_text().strip())
        return 42

    def done(value: int) -> None:
        answered_on.append(threading.current_thread())
        answers.append(value)

    with qtbot.waitSignal(background.busy_changed, timeout=WAIT_MS, check_params_cb=lambda busy: not busy):
        background.run(work, done, pytest.fail)
        assert background.busy
    assert answers == [42]
    assert ran_on[0] is not threading.main_thread() and answered_on == [threading.main_thread()]
    assert names == ["tokendice-test"]  # the thread carries its owner's name (top, debuggers)
    assert not background.busy


def test_an_exception_comes_back_as_a_sentence(qtbot):
    b = Background(sentence=lambda exc: f"It did not work: {exc}.")
    errors: list[str] = []
    try:
        b.run(lambda: int("twelve"), pytest.fail, errors.append)
        qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
        assert errors == ["It did not work: invalid literal for int() with base 10: 'twelve'."]
    finally:
        assert b.shutdown(5.0)


def test_a_hub_error_is_the_interfaces_sentence_and_a_bug_says_so(qtbot):
    calls = HubCalls()
    errors: list[str] = []
    refused = HubError("The repository someone/x does not exist or is private.", "not_found")

    def refuse() -> None:
        raise refused

    def bug() -> None:
        raise KeyError("files")

    try:
        calls.run("files", refuse, pytest.fail, errors.append)
        calls.run("search", bug, pytest.fail, errors.append)
        qtbot.waitUntil(lambda: len(errors) == 2, timeout=WAIT_MS)
        assert core_text.hub_error(refused.kind, refused.sentence) in errors
        [unexpected] = [e for e in errors if "unexpected" in e]
        assert unexpected == "The hub call stopped on an unexpected error ('files'); please try again."
    finally:
        assert calls.shutdown(5.0)


def test_progress_and_start_arrive_in_order_before_the_answer(qtbot, background: Background):
    seen: list[object] = []

    def work(task) -> str:
        for i in range(5):
            task.report(i)
        return "done"

    background.run(
        work,
        lambda value: seen.append(value),
        pytest.fail,
        takes_task=True,
        on_start=lambda: seen.append("started"),
        on_progress=seen.append,
    )
    qtbot.waitUntil(lambda: "done" in seen, timeout=WAIT_MS)
    assert seen == ["started", 0, 1, 2, 3, 4, "done"]


def test_cancel_stops_a_running_call_and_a_queued_one_never_runs(qtbot):
    b = Background(threads=1)
    answers: list[str] = []
    started = threading.Event()
    ran_second = threading.Event()

    def first(task) -> str:
        started.set()
        task.cancelled.wait(WAIT_MS / 1000)
        return "stopped" if task.cancelled.is_set() else "not told"

    try:
        running = b.run(first, answers.append, pytest.fail, takes_task=True)
        queued = b.run(ran_second.set, pytest.fail, pytest.fail)
        assert started.wait(WAIT_MS / 1000)
        assert queued.cancel() is True  # not started: it never runs, nothing is answered
        assert running.cancel() is False  # running: told to stop; what it returns is answered
        qtbot.waitUntil(lambda: bool(answers), timeout=WAIT_MS)
        assert answers == ["stopped"]
        assert b.wait_idle(5.0) and not ran_second.is_set()
        qtbot.wait(50)  # any answer still queued would arrive now
        assert answers == ["stopped"] and not b.busy
    finally:
        assert b.shutdown(5.0)


def test_calls_run_in_the_order_asked_on_at_most_threads_threads(qtbot):
    """``threads=1``: one call at a time, in the order asked; more: up to that many side by side, the
    rest waiting their turn."""
    one, two = Background(threads=1), Background(threads=2)
    ran: list[int] = []
    answers: list[int] = []
    release = threading.Event()
    started: list[int] = []

    def call(i: int) -> int:
        ran.append(i)
        return i

    def held(i: int) -> int:
        started.append(i)
        release.wait(WAIT_MS / 1000)
        return i

    try:
        for i in range(6):
            one.run(lambda i=i: call(i), answers.append, pytest.fail)
        qtbot.waitUntil(lambda: len(answers) == 6, timeout=WAIT_MS)
        assert ran == answers == list(range(6))
        assert one.wait_idle(5.0)  # its thread ended with its queue
        for i in range(4):
            two.run(lambda i=i: held(i), answers.append, pytest.fail)
        qtbot.waitUntil(lambda: len(started) == 2, timeout=WAIT_MS)
        qtbot.wait(100)  # a third call would have started by now
        assert started == [0, 1] and running_threads() == 2
        release.set()
        qtbot.waitUntil(lambda: len(answers) == 10, timeout=WAIT_MS)
        assert sorted(answers[6:]) == [0, 1, 2, 3] and sorted(started) == [0, 1, 2, 3]
    finally:
        release.set()
        assert one.shutdown(5.0) and two.shutdown(5.0)


def test_a_newer_call_of_a_kind_supersedes_the_older(qtbot, background: Background):
    answers: list[str] = []
    release = threading.Event()

    def slow(task) -> str:
        release.wait(WAIT_MS / 1000)
        return "old"

    old = background.run(slow, answers.append, pytest.fail, kind="search", takes_task=True)
    background.run(lambda: "new", answers.append, pytest.fail, kind="search")
    assert old.cancelled.is_set()
    qtbot.waitUntil(lambda: bool(answers), timeout=WAIT_MS)
    release.set()
    assert background.wait_idle(5.0)
    qtbot.wait(50)
    assert answers == ["new"]


def test_shutdown_ends_the_threads_and_drops_late_answers(qtbot):
    b = Background(threads=2)
    answers: list[object] = []
    ids: list[int] = []
    release = threading.Event()

    def work() -> str:
        ids.append(threading.get_native_id())
        release.wait(WAIT_MS / 1000)
        return "late"

    b.run(work, answers.append, answers.append)
    b.run(work, answers.append, answers.append)
    qtbot.waitUntil(lambda: len(ids) == 2, timeout=WAIT_MS)
    assert not b.shutdown(0.05)  # both still in their call: it says so, and does not wait long
    assert b.closed
    with pytest.raises(RuntimeError):
        b.run(work, answers.append, answers.append)
    release.set()
    assert b.shutdown(5.0)
    assert running_threads() == 0
    # Joined by the shutdown; the system lets go of a thread a moment after it returned.
    qtbot.waitUntil(lambda: all(thread_is_gone(i) for i in ids), timeout=2000)
    qtbot.wait(50)
    assert answers == []


def test_a_call_outliving_its_owner_answers_nobody(qtbot):
    owner = QObject()
    b = Background(owner)
    answers: list[object] = []
    started, release = threading.Event(), threading.Event()

    def work() -> str:
        started.set()
        release.wait(WAIT_MS / 1000)
        return "nobody listens"

    b.run(work, answers.append, answers.append)
    assert started.wait(WAIT_MS / 1000)
    shiboken6.delete(owner)  # the window closed without shutting it down
    assert not shiboken6.isValid(b)
    del b
    gc.collect()  # nothing but the running call holds on to the pool now
    release.set()
    qtbot.waitUntil(lambda: running_threads() == 0, timeout=WAIT_MS)
    qtbot.wait(50)
    assert answers == []


EXIT_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtWidgets import QApplication
    from desktop_app.ui.background import Background

    def main(shut_down: bool) -> int:
        app = QApplication(sys.argv[:1])
        background = Background(app, name="tokendice-exit-test")

        def quit_now() -> None:  # on the GUI thread, once a worker has taken the call up
            if shut_down:  # as the window does when it closes: a short wait, then the call is abandoned
                assert not background.shutdown(0.2)
            print("QUITTING", time.monotonic(), flush=True)
            app.quit()

        background.run(lambda: time.sleep(20), print, print, on_start=quit_now)
        return app.exec()

    sys.exit(main(sys.argv[1] == "shut-down"))
    """
)


@pytest.mark.parametrize("how", ["shut-down", "left-running"])
def test_a_call_still_running_does_not_hold_up_the_exit(how: str):
    """The product's bar: quitting exits with status 0 within 3 s, whatever call is running (here one
    that sleeps 20 s), whether its owner was shut down first or not."""
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(root))
    proc = subprocess.Popen(
        [sys.executable, "-c", EXIT_SCRIPT, how], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, cwd=root,
    )  # fmt: skip
    quitting = None
    try:
        for line in proc.stdout:
            if line.startswith("QUITTING "):
                quitting = float(line.split()[1])
                break
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ended = time.monotonic()
    stderr = proc.stderr.read()[-3000:]
    proc.stdout.close()
    proc.stderr.close()
    assert quitting is not None, stderr
    assert code == 0, stderr
    assert ended - quitting < 3.0, f"the process took {ended - quitting:.1f} s to exit"


def test_listing_the_library_reads_changed_files_off_the_gui_thread(
    qtbot, smollm2_path: Path, tmp_path: Path
):
    """A file the cache does not know: its header is read, and llama.cpp asked, on a worker; the panel
    shows the entry; the GUI thread's library has it cached afterwards."""
    model = shutil.copyfile(smollm2_path, tmp_path / "model.gguf")
    db = Database(tmp_path / "library.sqlite3")
    library = Library(db)
    entry = library.add(Path(model), source="referenced")
    with db.transaction() as conn:  # as if the file had changed since it was read
        conn.execute("DELETE FROM gguf_cache")
    read_on: list[threading.Thread] = []
    inspect_file = library_module.inspect_file

    def spy(path: Path, **kw):
        read_on.append(threading.current_thread())
        return inspect_file(path, **kw)

    panel = ModelsPanel(None)
    qtbot.addWidget(panel)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(library_module, "inspect_file", spy)
            with qtbot.waitSignal(panel.refreshed, timeout=LOOKUP_MS):
                panel.refresh(library, None)
                assert panel.list.entries == {}  # refresh returned before any file was read
            assert len(read_on) == 1 and read_on[0] is not threading.main_thread()
            shown = panel.list.entries[entry.id]
            assert shown.usable and shown.metadata is not None and shown.metadata.architecture == "llama"
            assert library.get(entry.id) == shown  # from the cache the GUI thread's connection wrote
            assert len(read_on) == 1
    finally:
        assert panel.shutdown()
        db.close()


def test_a_cancelled_library_lookup_stops_before_the_next_file(smollm2_path: Path, tmp_path: Path):
    db = Database(tmp_path / "library.sqlite3")
    try:
        entry = Library(db, check_loadable=False).add(smollm2_path, source="referenced")
        cancel = threading.Event()
        entries, _read = read_entries(db.path, check_loadable=False, cancel=cancel)
        assert [e.id for e in entries] == [entry.id]
        cancel.set()
        with pytest.raises(LookupCancelled, match=f"before {smollm2_path.name}"):
            read_entries(db.path, check_loadable=False, cancel=cancel)
    finally:
        db.close()
