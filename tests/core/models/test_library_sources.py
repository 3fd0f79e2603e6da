"""Import, discovery and removal in the library, and models llama.cpp cannot run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop_app.core.models.bundled import BUNDLED_ID
from desktop_app.core.models.gguf_meta import GGUFError
from desktop_app.core.models.importing import import_file
from desktop_app.core.models.library import Library
from desktop_app.core.store.db import Database
from tests.gguf_builders import tiny_gguf


@pytest.fixture
def library(tmp_path: Path):
    db = Database(tmp_path / "lib.sqlite3")
    yield Library(db)
    db.close()


def test_unknown_architecture_is_marked_with_llama_cpps_reason(library: Library, tmp_path: Path):
    path = tiny_gguf(tmp_path / "frob.gguf", "frobnicator")
    entry = library.add(path, source="referenced")
    assert entry.status == "invalid"
    assert "unknown model architecture: 'frobnicator'" in entry.error
    assert entry.metadata is not None and entry.metadata.architecture == "frobnicator"


def test_import_by_copy_and_by_reference(library: Library, smollm2_path: Path, tmp_path: Path):
    models = tmp_path / "models"
    copied = import_file(library, smollm2_path, copy=True, models_dir=models)
    assert copied.source == "imported" and copied.usable
    assert (
        copied.path.parent == models / "local" and copied.path.stat().st_size == smollm2_path.stat().st_size
    )
    assert not list((models / "local").glob("*.part"))
    referenced = import_file(library, smollm2_path, copy=False, models_dir=models)
    assert referenced.source == "referenced" and referenced.path == smollm2_path
    again = import_file(library, smollm2_path, copy=True, models_dir=models)
    assert again.id == copied.id  # the same file is not copied twice


def test_import_refuses_a_non_gguf_file(library: Library, tmp_path: Path):
    fake = tmp_path / "photo.gguf"
    fake.write_bytes(b"\x89PNG\r\n" + b"\0" * 100)
    with pytest.raises(GGUFError, match="not a GGUF model file"):
        import_file(library, fake, copy=True, models_dir=tmp_path / "models")
    assert library.entries() == []
    assert not (tmp_path / "models" / "local" / "photo.gguf").exists()


def test_discover_hf_cache_and_lm_studio_without_copying(
    library: Library, smollm2_path: Path, tmp_path: Path
):
    hf = tmp_path / "hf" / "hub"
    snap = hf / "models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    blob = hf / "models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF" / "blobs" / "deadbeef"
    blob.parent.mkdir(parents=True)
    shutil.copyfile(smollm2_path, blob)
    (snap / "smollm2-135m-instruct-q4_1.gguf").symlink_to(blob)
    lms = tmp_path / "lmstudio"
    (lms / "lmstudio-community" / "gemma-demo").mkdir(parents=True)
    tiny_gguf(lms / "lmstudio-community" / "gemma-demo" / "demo.gguf", "llama")
    (lms / "lmstudio-community" / "gemma-demo" / "mmproj-demo.gguf").write_bytes(b"GGUF")
    found = library.discover([("hf", hf), ("lmstudio", lms)])
    by_repo = {e.repo_id: e for e in found}
    assert set(by_repo) == {"HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "lmstudio-community/gemma-demo"}
    hf_entry = by_repo["HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"]
    assert hf_entry.source == "referenced" and hf_entry.usable and hf_entry.path.parent == snap.resolve()
    assert library.discover([("hf", hf), ("lmstudio", lms)]) == []  # nothing new the second time
    assert blob.stat().st_nlink == 1  # nothing was copied or linked


def test_remove_never_deletes_what_the_app_does_not_own(library: Library, smollm2_path: Path, tmp_path: Path):
    copy = tmp_path / "elsewhere.gguf"
    shutil.copyfile(smollm2_path, copy)
    ref = import_file(library, copy, copy=False, models_dir=tmp_path / "models")
    message = library.remove(ref.id, delete_file=True)
    assert copy.exists() and "left alone" in message
    owned = import_file(library, copy, copy=True, models_dir=tmp_path / "models")
    kept = library.remove(owned.id, delete_file=False)
    assert owned.path.exists() and "was kept" in kept
    owned = import_file(library, owned.path, copy=False, models_dir=tmp_path / "models")
    library.db.conn.execute("UPDATE models SET source = 'downloaded' WHERE id = ?", (owned.id,))
    deleted = library.remove(owned.id, delete_file=True)
    assert not owned.path.exists() and "deleted" in deleted
    library.ensure_bundled()
    with pytest.raises(ValueError, match="bundled"):
        library.remove(BUNDLED_ID, delete_file=True)
