"""Importing a model file in the window: the copy and llama.cpp's check run off the GUI thread while the
Models page says so; the library takes the file in on the GUI thread and lists it; a failure is a
sentence; closing the window mid-copy leaves no partial file behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from desktop_app.core.services import Services
from desktop_app.ui import imports as imports_module
from desktop_app.ui.main_window import MainWindow
from tests.helpers import sha256_file

IMPORT_MS = 60_000


def os_thread_names() -> list[str]:
    """This process's threads as the system names them (Qt names a pool's threads after the pool; Linux
    keeps 15 characters)."""
    names = []
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
            names.append((task / "comm").read_text().strip())
    return names


@pytest.fixture
def window(qtbot):
    services = Services.open()
    w = MainWindow(services, current=None)  # no model to load: only the library is at work
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()
    services.close()


def test_an_imported_copy_is_made_off_the_gui_thread_and_appears_in_the_list(
    window: MainWindow, qtbot, smollm2_path: Path, tokendice_home: Path, monkeypatch: pytest.MonkeyPatch
):
    library, models = window.services.library, window.models
    prepared_on, registered_on = [], []
    prepare, add = imports_module.prepare_import, library.add

    def prepare_spy(*args, **kw):
        prepared_on.append(threading.current_thread())
        return prepare(*args, **kw)

    def add_spy(*args, **kw):
        registered_on.append(threading.current_thread())
        return add(*args, **kw)

    monkeypatch.setattr(imports_module, "prepare_import", prepare_spy)
    monkeypatch.setattr(library, "add", add_spy)
    with qtbot.waitSignal(models.imports.finished, timeout=IMPORT_MS):
        window.import_model(str(smollm2_path), copy=True)
        # The page says it is busy while the file is copied and checked.
        assert models.imports.busy and models.message.isVisible()
        assert "Adding SmolLM2-135M-Instruct.Q4_1.gguf to the library" in models.message.text()
    assert prepared_on and prepared_on[0] is not threading.main_thread()
    assert registered_on == [threading.main_thread()]  # the library's SQLite thread
    copy = tokendice_home.resolve() / "models" / "local" / smollm2_path.name
    entry = next(e for e in models.list.entries.values() if e.path == copy)
    assert entry.source == "imported" and entry.usable and models.list.selected_id() == entry.id
    assert sha256_file(copy) == sha256_file(smollm2_path)
    assert [p.name for p in copy.parent.iterdir()] == [smollm2_path.name]  # no .part left
    assert not models.imports.busy and not models.message.isVisible()
    assert "Added SmolLM2-135M-Instruct.Q4_1" in window.statusBar().currentMessage()


def test_a_copy_that_cannot_be_made_is_a_sentence(window: MainWindow, qtbot, smollm2_path: Path):
    local = window.services.paths.models_dir / "local"
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_text("a file where the folder should be")  # a real OSError from the file system
    with qtbot.waitSignal(window.models.imports.finished, timeout=IMPORT_MS):
        window.import_model(str(smollm2_path), copy=True)
    text = window.models.message.text()
    assert text.startswith(f"{smollm2_path.name} cannot be added: copying {smollm2_path.name} into {local} ")
    assert "use the file where it is instead" in text
    assert [e.source for e in window.services.library.entries()] == ["bundled"]


def test_imports_queue_and_a_refused_file_does_not_stop_the_next(
    window: MainWindow, qtbot, smollm2_path: Path, tmp_path: Path
):
    notes = tmp_path / "notes.gguf"
    notes.write_text("not a model\n" * 50)
    seen = []
    window.models.imports.finished.connect(lambda: seen.append(window.models.message.text()))
    model = shutil.copyfile(smollm2_path, tmp_path / "model.gguf")
    window.import_model(str(notes), copy=True)
    idle = window.models.imports.busy_changed
    with qtbot.waitSignal(idle, timeout=IMPORT_MS, check_params_cb=lambda busy: not busy):
        window.import_model(str(model), copy=False)  # queued behind the first
    assert len(seen) == 2 and "notes.gguf cannot be added" in seen[0] and "not a GGUF model file" in seen[0]
    [entry] = [e for e in window.services.library.entries() if e.source != "bundled"]
    assert entry.path == notes.with_name("model.gguf") and entry.source == "referenced" and entry.usable
    assert not window.models.imports.busy


def test_closing_the_window_mid_copy_removes_the_partial_file(
    qtbot, smollm2_path: Path, tmp_path: Path, tokendice_home: Path
):
    big = tmp_path / "big.gguf"  # a real model with 1.5 GB of padding: seconds to copy
    shutil.copyfile(smollm2_path, big)
    os.truncate(big, big.stat().st_size + 1_500_000_000)
    services = Services.open()
    window = MainWindow(services, current=None)
    qtbot.addWidget(window)
    window.show()
    part = tokendice_home.resolve() / "models" / "local" / "big.gguf.part"
    try:
        window.import_model(str(big), copy=True)
        qtbot.waitUntil(lambda: part.exists() and part.stat().st_size > 50_000_000, timeout=IMPORT_MS)
    finally:
        started = time.perf_counter()
        window.close()
        elapsed = time.perf_counter() - started
        services.close()
    assert elapsed < 2.0, f"closing took {elapsed:.2f} s"
    assert not any(t.name == "tokendice-import" for t in threading.enumerate())
    # Qt has joined the import's thread; the system lets go of a thread a moment after it returned.
    qtbot.waitUntil(
        lambda: not any(name.startswith("tokendice-impor") for name in os_thread_names()), timeout=2000
    )
    assert list(part.parent.iterdir()) == []


def test_discovery_checks_files_off_the_gui_thread_and_registers_on_it(
    qtbot, smollm2_path: Path, tmp_path: Path
):
    """ModelImports.discover: the walk and llama.cpp's checks on the worker, the library's writes here."""
    from desktop_app.core.models.library import Library
    from desktop_app.core.store.db import Database
    from desktop_app.ui.imports import ModelImports

    lms = tmp_path / "lmstudio"
    (lms / "someone" / "demo").mkdir(parents=True)
    shutil.copyfile(smollm2_path, lms / "someone" / "demo" / "demo.gguf")
    db = Database(tmp_path / "library.sqlite3")
    imports = ModelImports()
    answers = []
    try:
        with qtbot.waitSignal(imports.finished, timeout=IMPORT_MS):
            imports.discover(Library(db), answers.append, answers.append, roots=[("lmstudio", lms)])
        [[entry]] = answers
        assert entry.repo_id == "someone/demo" and entry.source == "referenced" and entry.usable
    finally:
        assert imports.shutdown()
        db.close()
