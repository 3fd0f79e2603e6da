"""Bad inputs around a download get a sentence that names the real thing, and lose nothing: hub file
names the downloader refuses, a folder where the file should go, a GGUF whose header is cut short."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from desktop_app.core.models.acquire import AcquireError, acquire_model, fetch_model, find_model_file
from desktop_app.core.models.download import Downloader, DownloadError, DownloadRequest
from desktop_app.core.models.hub import Hub, group_gguf_files
from desktop_app.core.models.library import Library
from desktop_app.core.store.db import Database
from tests import helpers
from tests.hubserver import HubServer, hub  # noqa: F401  (hub is a fixture)

REPO = "tester/odd-GGUF"
MB = 1024 * 1024


def fake_gguf(tag: str, size: int) -> bytes:
    return helpers.fake_gguf(tag, size, noise=True)


def downloader(tmp_path: Path, server: HubServer) -> Downloader:
    return Downloader(tmp_path / "models", endpoint=server.url, backoff_s=0.001)


# --------------------------------------------------------------------------- names with ".."


@pytest.mark.parametrize(
    "name", ["../evil-Q4_K_M.gguf", "a/../../evil-Q4_K_M.gguf", "a\\..\\evil-Q4_K_M.gguf"]
)
def test_a_name_the_downloader_refuses_is_not_listed_as_loadable(name: str):
    bad, good = group_gguf_files([("good-Q4_0.gguf", 1000, None), (name, 500, None)])  # smaller first
    assert bad.name == name and good.name == "good-Q4_0.gguf"
    assert good.loadable and good.refused is None
    assert not bad.loadable and "without “..”" in (bad.refused or "")
    with pytest.raises(AcquireError) as err:
        find_model_file(REPO, [good, bad], name)
    assert err.value.kind == "bad_name" and name in str(err.value)


def test_the_hubs_listing_marks_a_dot_dot_name_refused(hub: HubServer, tmp_path: Path):  # noqa: F811
    hub.add_repo(REPO, {"../evil-Q4_K_M.gguf": fake_gguf("evil", 1000), "ok-Q4_0.gguf": fake_gguf("ok", 900)})
    listing = Hub(endpoint=hub.url).repo(REPO)
    by_name = {f.name: f for f in listing.files}
    assert by_name["ok-Q4_0.gguf"].loadable and not by_name["../evil-Q4_K_M.gguf"].loadable
    # A bare name that matches it in the listing is refused before any download request.
    hub.clear_requests()
    with pytest.raises(AcquireError) as err:
        fetch_model(REPO, "evil-Q4_K_M.gguf", downloader=downloader(tmp_path, hub))
    assert err.value.kind == "bad_name" and "../evil-Q4_K_M.gguf" in str(err.value)
    assert not [r for r in hub.requests if "/resolve/" in r.path]


# --------------------------------------------------------------------------- a folder in the way


def test_a_folder_at_the_target_is_named_and_nothing_is_fetched(hub: HubServer, tmp_path: Path):  # noqa: F811
    hub.add_repo(REPO, {"model-Q4_0.gguf": fake_gguf("m", 2 * MB)})
    d = downloader(tmp_path, hub)
    request = DownloadRequest(REPO, "model-Q4_0.gguf")
    target = d.target_path(request)
    target.mkdir(parents=True)
    with pytest.raises(DownloadError) as err:
        d.download(request)
    assert err.value.kind == "io"
    assert f"{target} is a folder" in str(err.value) and ".part" not in str(err.value)
    assert not [r for r in hub.requests if r.method == "GET"]  # nothing fetched only to be thrown away


def test_a_folder_made_during_the_download_is_named_and_the_bytes_are_kept(
    hub: HubServer,  # noqa: F811
    tmp_path: Path,
):
    data = fake_gguf("m", 2 * MB)
    hub.add_repo(REPO, {"model-Q4_0.gguf": data})
    d = downloader(tmp_path, hub)
    request = DownloadRequest(REPO, "model-Q4_0.gguf")
    target = d.target_path(request)

    def make_folder(p) -> None:
        target.mkdir(exist_ok=True)

    with pytest.raises(DownloadError) as err:
        d.download(request, progress=make_folder)
    assert f"{target} is a folder" in str(err.value) and ".part" not in str(err.value)
    part = target.with_name(target.name + ".part")
    assert part.read_bytes() == data  # verified and kept
    target.rmdir()
    hub.clear_requests()
    assert d.download(request).read_bytes() == data
    assert not [r for r in hub.requests if r.method == "GET"]  # the kept part was enough


# --------------------------------------------------------------------------- a truncated header


def truncated_gguf() -> bytes:
    """A GGUF header that announces one key and ends in the middle of its name's length."""
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + b"\x05\x00\x00"


def test_a_downloaded_file_with_a_truncated_header_is_named(hub: HubServer, tmp_path: Path):  # noqa: F811
    hub.add_repo(REPO, {"cut-Q4_0.gguf": truncated_gguf()})
    fetched = fetch_model(REPO, "cut-Q4_0.gguf", downloader=downloader(tmp_path, hub))
    assert fetched.inspection is not None
    error = fetched.inspection.error or ""
    assert "truncated" in error and "cut-Q4_0.gguf" in error
    db = Database(tmp_path / "db.sqlite3")
    try:
        entry = acquire_model(
            REPO,
            "cut-Q4_0.gguf",
            library=Library(db, check_loadable=True),
            downloader=downloader(tmp_path, hub),
        )
        assert not entry.usable and "cut-Q4_0.gguf" in (entry.error or "") and "truncated" in entry.error
    finally:
        db.close()
