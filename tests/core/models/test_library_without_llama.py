"""The library asks llama.cpp about files only through a child process: a process that registers, imports,
discovers and lists models (a real one, one llama.cpp refuses, one it aborts on) never maps llama.cpp's
libraries, and what the children answered is cached, so a listing starts none."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.core.models import library as library_module
from desktop_app.core.models.library import Library
from desktop_app.core.models.loadability import load_problem
from desktop_app.core.store.db import Database
from tests.gguf_builders import tiny_gguf, vocabulary_aborting_gguf

SCRIPT = r"""
import json, os, shutil, sys
from pathlib import Path

from desktop_app.core.models import library as library_module
from desktop_app.core.models.importing import import_file
from desktop_app.core.models.library import Library
from desktop_app.core.store.db import Database

work, smollm2, frob, aborting = (Path(a) for a in sys.argv[1:5])
checks = []
real_check = library_module.load_problem
library_module.load_problem = lambda path: checks.append(str(path)) or real_check(path)

db = Database(work / "library.sqlite3")
library = Library(db)
out = {"bundled": library.ensure_bundled().status}
out["copied"] = import_file(library, smollm2, copy=True, models_dir=work / "models").status
out["frob"] = library.add(frob, source="referenced").error
lms = work / "lmstudio" / "someone" / "broken"
lms.mkdir(parents=True)
shutil.copyfile(aborting, lms / "aborting.gguf")
[found] = library.discover([("lmstudio", work / "lmstudio")])
out["aborting"] = found.error
out["checks"] = len(checks)
out["listed"] = sorted(e.status for e in library.entries())
out["checks_after_listing"] = len(checks)
db.close()

# Another TokenDice holds the database (read-only) and a file changed since it was checked: one check,
# then listings from memory.
os.utime(frob, ns=(1, 1))
ro = Library(Database(work / "library.sqlite3", read_only=True))
ro.entries()
ro.entries()
out["read_only_checks"] = len(checks) - out["checks_after_listing"]

maps = Path("/proc/self/maps").read_text()
names = [line.split("/")[-1] for line in maps.splitlines()]
llama_libraries = {name for name in names if name.startswith(("libllama", "libggml"))}
out["mapped"] = sorted(llama_libraries)
out["llama_cpp_imported"] = "llama_cpp" in sys.modules
print(json.dumps(out))
"""


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads the mapped files from /proc")
def test_library_work_never_loads_llama_cpp_in_the_calling_process(smollm2_path: Path, tmp_path: Path):
    frob = tiny_gguf(tmp_path / "frob.gguf", "frobnicator")
    aborting = vocabulary_aborting_gguf(tmp_path / "aborting.gguf")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), str(smollm2_path), str(frob), str(aborting)],
        capture_output=True,
        text=True,
        timeout=180,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["mapped"] == [] and out["llama_cpp_imported"] is False
    assert out["bundled"] == "ok" and out["copied"] == "ok"
    assert "unknown model architecture: 'frobnicator'" in out["frob"]
    assert out["aborting"] == (
        "llama.cpp crashed (SIGABRT) while reading its vocabulary: the file may be damaged or unsupported"
    )
    assert out["checks"] == 3  # the copy, the refused file, the aborting one (the bundled file: no check)
    assert out["listed"] == ["invalid", "invalid", "ok", "ok"]
    assert out["checks_after_listing"] == 3  # the listing read the cache
    assert out["read_only_checks"] == 1


def test_no_answer_from_llama_cpp_is_remembered_for_this_run_only(
    smollm2_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A check that ran out of time is not written to the database (the next start asks again), and this
    run's listings do not start a child for it again."""
    impatient = functools.partial(load_problem, timeout=0.01)  # a real child, killed at its time limit
    calls = []
    monkeypatch.setattr(library_module, "load_problem", lambda p: calls.append(p) or impatient(p))
    db = Database(tmp_path / "library.sqlite3")
    try:
        library = Library(db)
        entry = library.add(smollm2_path, source="referenced")
        assert entry.status == "invalid" and "within 0.01 s" in entry.error
        library.entries()
        assert len(calls) == 1
        assert db.conn.execute("SELECT COUNT(*) FROM gguf_cache").fetchone()[0] == 0
        monkeypatch.setattr(library_module, "load_problem", load_problem)
        assert Library(db).get(entry.id).usable  # the next start: asked again, and answered
    finally:
        db.close()
