"""fetch_model: every part on disk and verified without a library; the caller registers it, on its thread."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from desktop_app.core.models.acquire import AcquireError, FetchedModel, fetch_model
from desktop_app.core.models.download import Downloader
from desktop_app.core.models.library import Library
from desktop_app.core.store.db import Database
from tests.core.models.test_acquire import MB, REPO, split_repo  # noqa: F401  (split_repo is a fixture)
from tests.hubserver import HubServer, hub  # noqa: F401  (hub is a fixture)


def test_a_worker_thread_fetches_and_the_librarys_thread_registers(
    hub: HubServer,  # noqa: F811
    split_repo: dict[str, bytes],  # noqa: F811
    tmp_path: Path,
):
    db = Database(tmp_path / "db.sqlite3")  # opened on this thread: only this thread may use it
    library = Library(db, check_loadable=False)
    try:
        results: list[FetchedModel | BaseException] = []

        def work() -> None:
            try:
                results.append(
                    fetch_model(
                        REPO,
                        "big-Q8_0-00001-of-00003.gguf",
                        downloader=Downloader(tmp_path / "models", endpoint=hub.url, backoff_s=0.001),
                    )
                )
            except BaseException as exc:  # handed to the test's thread
                results.append(exc)

        worker = threading.Thread(target=work)
        worker.start()
        worker.join(60)
        [fetched] = results
        assert isinstance(fetched, FetchedModel), fetched
        folder = (tmp_path / "models").resolve() / "tokendice" / "split-GGUF" / "Q8_0"
        assert dataclasses.replace(fetched, inspection=None) == FetchedModel(
            folder / "big-Q8_0-00001-of-00003.gguf", REPO, "Q8_0/big-Q8_0-00001-of-00003.gguf", "big-Q8_0", 3
        )
        assert library.entries() == []  # nothing registered by the download
        entry = fetched.register(library)
        assert (entry.path, entry.source, entry.repo_id, entry.display_name) == (
            fetched.path,
            "downloaded",
            REPO,
            "big-Q8_0",
        )
        assert fetched.register(library).id == entry.id and len(library.entries()) == 1
    finally:
        db.close()


def test_fetch_model_refuses_what_acquire_model_refuses(
    hub: HubServer,  # noqa: F811
    split_repo: dict[str, bytes],  # noqa: F811
    tmp_path: Path,
):
    d = Downloader(tmp_path / "models", endpoint=hub.url, free_space=lambda _folder: 5 * MB)
    with pytest.raises(AcquireError) as err:
        fetch_model(REPO, "big-Q8_0-00001-of-00003.gguf", downloader=d)
    assert err.value.kind == "disk_full"
    with pytest.raises(AcquireError) as err:
        fetch_model(REPO, "mmproj-big-f16.gguf", downloader=d)
    assert err.value.kind == "not_a_model"


def test_the_download_thread_reads_the_header_and_registering_does_not(
    hub: HubServer,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    """Registering happens on the GUI thread: the parse of the header (49,152 tokens for SmolLM2) and
    llama.cpp's check are done by the thread that downloaded the file."""
    from desktop_app.core.models import library as library_module
    from desktop_app.core.models.bundled import bundled_model_path
    from desktop_app.core.models.gguf_meta import read_metadata

    hub.add_repo("demo/SmolLM2-GGUF", {"smollm2-q4_1.gguf": bundled_model_path()})
    results: list = []
    downloader = Downloader(tmp_path / "m", endpoint=hub.url)

    def work() -> None:
        results.append(fetch_model("demo/SmolLM2-GGUF", "smollm2-q4_1.gguf", downloader=downloader))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(120)
    [fetched] = results
    assert fetched.inspection is not None and fetched.inspection.error is None
    assert fetched.inspection.metadata == read_metadata(fetched.path)

    def no_parsing(*args, **kwargs):
        raise AssertionError("the registering thread parsed the header again")

    monkeypatch.setattr(library_module, "read_metadata", no_parsing)
    monkeypatch.setattr(library_module, "load_problem", no_parsing)
    db = Database(tmp_path / "db.sqlite3")
    try:
        entry = fetched.register(Library(db))
        assert entry.usable and entry.metadata == fetched.inspection.metadata
        assert entry.metadata.vocab_size == 49152
    finally:
        db.close()
