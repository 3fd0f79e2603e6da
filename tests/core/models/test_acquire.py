"""acquire_model: one model (all parts of a split one) from the loopback hub into the library."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from desktop_app.core.models.acquire import AcquireError, ModelProgress, acquire_model, find_model_file
from desktop_app.core.models.download import Downloader
from desktop_app.core.models.hub import Hub
from desktop_app.core.models.library import Library
from desktop_app.core.models.local_files import model_files
from tests import helpers
from tests.hubserver import HubServer, hub  # noqa: F401  (hub is a fixture)

REPO = "tokendice/split-GGUF"
MB = 1024 * 1024


def fake_gguf(tag: str, size: int) -> bytes:
    return helpers.fake_gguf(tag, size, noise=True)


@pytest.fixture
def split_repo(hub: HubServer) -> dict[str, bytes]:  # noqa: F811
    files = {f"Q8_0/big-Q8_0-0000{i}-of-00003.gguf": fake_gguf(f"p{i}", (i + 1) * MB) for i in (1, 2, 3)}
    files["mmproj-big-f16.gguf"] = fake_gguf("proj", 1000)
    files["lonely-Q4_0-00001-of-00002.gguf"] = fake_gguf("lonely", 1000)
    files["README.md"] = b"# big\n"
    hub.add_repo(REPO, files)
    return files


def downloader(tmp_path: Path, server: HubServer, **kw) -> Downloader:
    return Downloader(tmp_path / "models", endpoint=server.url, backoff_s=0.001, **kw)


def test_every_part_lands_in_one_folder_with_one_progress(
    hub: HubServer,  # noqa: F811
    split_repo: dict[str, bytes],
    library: Library,
    tmp_path: Path,
):
    seen: list[ModelProgress] = []
    d = downloader(tmp_path, hub)
    entry = acquire_model(
        REPO, "big-Q8_0-00001-of-00003.gguf", library=library, downloader=d, progress=seen.append
    )
    folder = (tmp_path / "models").resolve() / "tokendice" / "split-GGUF" / "Q8_0"
    assert entry.path == folder / "big-Q8_0-00001-of-00003.gguf"
    for i in (1, 2, 3):
        name = f"big-Q8_0-0000{i}-of-00003.gguf"
        assert (folder / name).read_bytes() == split_repo[f"Q8_0/{name}"]
    assert model_files(entry.path) == [folder / f"big-Q8_0-0000{i}-of-00003.gguf" for i in (1, 2, 3)]
    assert (entry.source, entry.repo_id, entry.filename) == (
        "downloaded",
        REPO,
        "Q8_0/big-Q8_0-00001-of-00003.gguf",
    )
    assert entry.display_name == "big-Q8_0"
    total = (2 + 3 + 4) * MB
    assert {p.total_bytes for p in seen} == {total}
    done = [p.done_bytes for p in seen]
    assert done == sorted(done) and done[-1] == total
    assert [p.part for p in seen] == sorted(p.part for p in seen) and {p.part for p in seen} == {1, 2, 3}
    assert {p.parts for p in seen} == {3}
    # Every part from the commit the listing described.
    commit = Hub(endpoint=hub.url).repo(REPO).commit
    resolves = [r.path for r in hub.requests if "/resolve/" in r.path]
    assert len(resolves) == 3 and all(f"/resolve/{commit}/" in p for p in resolves)


def test_a_model_file_from_the_listing_and_a_second_call(
    hub: HubServer,  # noqa: F811
    split_repo: dict[str, bytes],
    library: Library,
    tmp_path: Path,
):
    listing = Hub(endpoint=hub.url).repo(REPO)
    model = next(f for f in listing.files if f.is_split and f.complete)
    d = downloader(tmp_path, hub)
    first = acquire_model(REPO, model, library=library, downloader=d, revision=listing.commit)
    hub.clear_requests()
    again = acquire_model(REPO, model, library=library, downloader=d, revision=listing.commit)
    assert again.id == first.id and len(library.entries()) == 1
    assert [r.method for r in hub.requests] == ["HEAD"] * 3  # verified in place, nothing fetched again


def test_cancel_keeps_the_part_and_a_later_call_resumes(
    hub: HubServer,  # noqa: F811
    split_repo: dict[str, bytes],
    library: Library,
    tmp_path: Path,
):
    cancel = threading.Event()
    hub.throttle(8 * MB)

    def on_progress(p: ModelProgress) -> None:
        if p.part == 2 and p.done_bytes > 2 * MB + 100_000:
            cancel.set()

    d = downloader(tmp_path, hub)
    with pytest.raises(AcquireError) as err:
        acquire_model(
            REPO,
            "big-Q8_0-00001-of-00003.gguf",
            library=library,
            downloader=d,
            progress=on_progress,
            cancel=cancel,
        )
    assert err.value.kind == "cancelled" and "resumes" in str(err.value)
    assert library.entries() == []
    folder = (tmp_path / "models") / "tokendice" / "split-GGUF" / "Q8_0"
    part2 = folder / "big-Q8_0-00002-of-00003.gguf.part"
    kept = part2.stat().st_size
    assert (folder / "big-Q8_0-00001-of-00003.gguf").exists() and 0 < kept < 3 * MB
    hub.throttle(None)
    hub.clear_requests()
    entry = acquire_model(REPO, "Q8_0/big-Q8_0-00001-of-00003.gguf", library=library, downloader=d)
    assert (folder / "big-Q8_0-00002-of-00003.gguf").read_bytes() == split_repo[
        "Q8_0/big-Q8_0-00002-of-00003.gguf"
    ]
    ranges = [r.range for r in hub.requests if r.method == "GET" and r.server == "cdn"]
    assert ranges == [f"bytes={kept}-", None]  # part 2 resumed, part 3 whole, part 1 only checked
    assert entry.path == folder.resolve() / "big-Q8_0-00001-of-00003.gguf" and library.entries() == [entry]


@pytest.mark.parametrize(
    ("name", "kind", "words"),
    [
        ("mmproj-big-f16.gguf", "not_a_model", "vision projector"),
        ("lonely-Q4_0-00001-of-00002.gguf", "incomplete", "only part(s) 1"),
        ("README.md", "not_in_repo", "Q8_0/big-Q8_0-00001-of-00003.gguf"),
        ("big-Q8_0.gguf", "not_in_repo", "tokendice models files"),
        ("../outside.gguf", "bad_name", "without “..”"),
    ],
)
def test_what_is_not_a_loadable_model_is_refused(
    hub: HubServer,  # noqa: F811
    split_repo: dict[str, bytes],
    library: Library,
    tmp_path: Path,
    name: str,
    kind: str,
    words: str,
):
    with pytest.raises(AcquireError) as err:
        acquire_model(REPO, name, library=library, downloader=downloader(tmp_path, hub))
    assert err.value.kind == kind and words in str(err.value)
    assert not any(r.method == "HEAD" for r in hub.requests)
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").rglob("*.gguf*"))


def test_a_later_part_names_the_whole_model(hub: HubServer, split_repo: dict[str, bytes]):  # noqa: F811
    files = Hub(endpoint=hub.url).files(REPO)
    assert find_model_file(REPO, files, "Q8_0/big-Q8_0-00003-of-00003.gguf").name == (
        "Q8_0/big-Q8_0-00001-of-00003.gguf"
    )


def test_the_space_for_all_parts_is_checked_before_the_first_byte(
    hub: HubServer,  # noqa: F811
    split_repo: dict[str, bytes],
    library: Library,
    tmp_path: Path,
):
    d = downloader(tmp_path, hub, free_space=lambda folder: 5 * MB)  # part 1 would fit, not all three
    with pytest.raises(AcquireError) as err:
        acquire_model(REPO, "big-Q8_0-00001-of-00003.gguf", library=library, downloader=d)
    assert err.value.kind == "disk_full" and "9.4 MB more" in str(err.value)
    assert not [r for r in hub.requests if "/resolve/" in r.path or r.server == "cdn"]


def test_removing_a_split_model_deletes_every_part(
    hub: HubServer,  # noqa: F811
    split_repo: dict[str, bytes],
    library: Library,
    tmp_path: Path,
):
    entry = acquire_model(
        REPO, "big-Q8_0-00001-of-00003.gguf", library=library, downloader=downloader(tmp_path, hub)
    )
    parts = model_files(entry.path)
    assert all(p.exists() for p in parts)
    message = library.remove(entry.id, delete_file=True)
    assert not any(p.exists() for p in parts) and "2 other part(s)" in message
