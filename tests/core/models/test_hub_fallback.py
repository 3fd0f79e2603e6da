"""A hub that serves only the file routes (a mirror set with HF_ENDPOINT): listing from the tree, and
downloads from the resolve URLs, still verified; the hub's own word (a missing repository) still said."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from desktop_app.core.models.acquire import AcquireError, ModelProgress, acquire_model, fetch_model
from desktop_app.core.models.download import Downloader
from desktop_app.core.models.hub import Hub, HubError
from desktop_app.core.models.library import Library
from tests import helpers
from tests.hubserver import HubServer, hub  # noqa: F401  (hub is a fixture)

REPO = "mirror/tiny-GGUF"
MB = 1024 * 1024


def fake_gguf(tag: str, size: int) -> bytes:
    return helpers.fake_gguf(tag, size, noise=True)


@pytest.fixture
def files(hub: HubServer) -> dict[str, bytes]:  # noqa: F811
    files = {f"Q8_0/big-Q8_0-0000{i}-of-00003.gguf": fake_gguf(f"p{i}", (i + 1) * MB) for i in (1, 2, 3)}
    files["tiny-Q4_K_M.gguf"] = fake_gguf("tiny", 3 * MB)
    files["mmproj-tiny-f16.gguf"] = fake_gguf("proj", 1000)
    files["README.md"] = b"# tiny\n"
    hub.add_repo(REPO, files, gguf={"total": 1000, "architecture": "llama"}, tags=["license:mit"])
    hub.repo_api = False  # from here on only the tree listing and resolve answer
    return files


def downloader(tmp_path: Path, server: HubServer, **kw) -> Downloader:
    return Downloader(tmp_path / "models", endpoint=server.url, backoff_s=0.001, **kw)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def folder(tmp_path: Path) -> Path:
    return (tmp_path / "models").resolve() / "mirror" / "tiny-GGUF"


# --------------------------------------------------------------------------- the listing


@pytest.mark.parametrize("status", [404, 401, 403, 500, 502])
def test_without_the_repository_api_the_files_come_from_the_tree(
    hub: HubServer,  # noqa: F811
    files: dict[str, bytes],
    status: int,
):
    hub.no_route_status = status
    listing = Hub(endpoint=hub.url).repo(REPO)
    assert listing.source == "tree" and listing.commit is None and listing.gguf is None
    by_name = {f.name: f for f in listing.files}
    tiny = by_name["tiny-Q4_K_M.gguf"]
    assert (tiny.size, tiny.sha256, tiny.loadable) == (3 * MB, sha(files["tiny-Q4_K_M.gguf"]), True)
    split = by_name["Q8_0/big-Q8_0-00001-of-00003.gguf"]
    assert split.complete and split.size == 9 * MB
    assert [p.sha256 for p in split.parts] == [sha(files[p.path]) for p in split.parts]
    assert by_name["mmproj-tiny-f16.gguf"].kind == "mmproj"
    paths = [r.path.split("?")[0] for r in hub.requests]
    assert paths == [f"/api/models/{REPO}", f"/api/models/{REPO}/tree/main"]  # one more request, no loop


def test_a_missing_repository_still_gets_its_sentence(hub: HubServer, files: dict[str, bytes]):  # noqa: F811
    client = Hub(endpoint=hub.url)
    with pytest.raises(HubError) as info:
        client.repo("nobody/nothing-GGUF")
    assert info.value.kind == "not_found"
    assert "The repository nobody/nothing-GGUF does not exist or is private" in str(info.value)
    assert len(hub.requests) == 2  # the repository API, then the tree, which said so
    with pytest.raises(HubError) as info:
        client.repo(REPO, revision="no-such-branch")
    assert info.value.kind == "not_found" and "no-such-branch" in str(info.value)
    # The hub's own word about a repository is not second-guessed: with the API on, one request.
    hub.repo_api = True
    hub.clear_requests()
    with pytest.raises(HubError) as info:
        client.repo("nobody/nothing-GGUF")
    assert "does not exist or is private" in str(info.value) and len(hub.requests) == 1


def test_without_the_tree_either_the_listing_says_what_is_missing(
    hub: HubServer,  # noqa: F811
    files: dict[str, bytes],
):
    hub.tree_api = False
    with pytest.raises(HubError) as info:
        Hub(endpoint=hub.url).repo(REPO)
    sentence = str(info.value)
    assert info.value.kind == "unsupported" and "Traceback" not in sentence
    assert f"does not list the files of {REPO}" in sentence and "HTTP 404" in sentence
    assert f"tokendice models download {REPO} FILE" in sentence


def test_search_says_the_mirror_has_no_search(hub: HubServer, files: dict[str, bytes]):  # noqa: F811
    for status in (404, 401):
        hub.no_route_status = status
        with pytest.raises(HubError) as info:
            Hub(endpoint=hub.url).search("tiny")
        sentence = str(info.value)
        assert info.value.kind == "unsupported" and f"HTTP {status}" in sentence
        assert "does not answer requests for search results" in sentence
        assert "tokendice models download REPO FILE" in sentence and "access token" not in sentence


# --------------------------------------------------------------------------- downloads


def test_a_download_without_the_repository_api_is_verified_and_pinned(
    hub: HubServer,  # noqa: F811
    files: dict[str, bytes],
    library: Library,
    tmp_path: Path,
):
    d = downloader(tmp_path, hub)
    entry = acquire_model(REPO, "tiny-Q4_K_M.gguf", library=library, downloader=d)
    assert entry.path == folder(tmp_path) / "tiny-Q4_K_M.gguf"
    assert entry.path.read_bytes() == files["tiny-Q4_K_M.gguf"]
    # A split model: every part from the one commit the first part's HEAD named.
    hub.clear_requests()
    seen: list[ModelProgress] = []
    split = acquire_model(
        REPO, "big-Q8_0-00001-of-00003.gguf", library=library, downloader=d, progress=seen.append
    )
    for i in (1, 2, 3):
        name = f"Q8_0/big-Q8_0-0000{i}-of-00003.gguf"
        assert (folder(tmp_path) / name).read_bytes() == files[name]
    assert split.filename == "Q8_0/big-Q8_0-00001-of-00003.gguf" and seen[-1].done_bytes == 9 * MB
    commit = hub._repos[REPO].commit
    resolves = [r.path for r in hub.requests if "/resolve/" in r.path]
    assert resolves[0].startswith(f"/{REPO}/resolve/main/")  # the HEAD that finds the commit
    assert all(f"/resolve/{commit}/" in p for p in resolves[1:]) and len(resolves) == 4


def test_a_corrupted_file_is_refused_with_its_name(
    hub: HubServer,  # noqa: F811
    files: dict[str, bytes],
    library: Library,
    tmp_path: Path,
):
    hub.corrupt("tiny-Q4_K_M", offset=1000)
    with pytest.raises(AcquireError) as err:
        acquire_model(REPO, "tiny-Q4_K_M.gguf", library=library, downloader=downloader(tmp_path, hub))
    assert err.value.kind == "hash_mismatch"
    assert "The download of tiny-Q4_K_M.gguf was corrupted" in str(err.value)
    assert library.entries() == [] and not any(folder(tmp_path).iterdir())


def test_a_cancelled_download_resumes_without_the_repository_api(
    hub: HubServer,  # noqa: F811
    files: dict[str, bytes],
    library: Library,
    tmp_path: Path,
):
    cancel = threading.Event()
    hub.throttle(8 * MB)

    def on_progress(p: ModelProgress) -> None:
        if p.done_bytes > MB:
            cancel.set()

    d = downloader(tmp_path, hub)
    with pytest.raises(AcquireError) as err:
        fetch_model(REPO, "tiny-Q4_K_M.gguf", downloader=d, progress=on_progress, cancel=cancel)
    assert err.value.kind == "cancelled"
    kept = (folder(tmp_path) / "tiny-Q4_K_M.gguf.part").stat().st_size
    assert 0 < kept < 3 * MB
    hub.throttle(None)
    hub.clear_requests()
    fetched = fetch_model(REPO, "tiny-Q4_K_M.gguf", downloader=d)
    assert fetched.path.read_bytes() == files["tiny-Q4_K_M.gguf"]
    ranges = [r.range for r in hub.requests if r.method == "GET" and r.server == "cdn"]
    assert ranges == [f"bytes={kept}-"]


def test_a_missing_file_or_repository_still_gets_its_sentence(
    hub: HubServer,  # noqa: F811
    files: dict[str, bytes],
    tmp_path: Path,
):
    d = downloader(tmp_path, hub)
    with pytest.raises(AcquireError) as err:
        fetch_model("nobody/nothing-GGUF", "x.gguf", downloader=d)
    assert err.value.kind == "not_found" and "nobody/nothing-GGUF does not exist or is private" in str(
        err.value
    )
    with pytest.raises(AcquireError) as err:
        fetch_model(REPO, "huge-Q2_K.gguf", downloader=d)
    assert err.value.kind == "not_in_repo" and "tiny-Q4_K_M.gguf" in str(err.value)


# --------------------------------------------------------------------------- only resolve


def test_with_only_resolve_a_download_by_path_still_works(
    hub: HubServer,  # noqa: F811
    files: dict[str, bytes],
    library: Library,
    tmp_path: Path,
):
    hub.tree_api = False
    d = downloader(tmp_path, hub)
    entry = acquire_model(REPO, "tiny-Q4_K_M.gguf", library=library, downloader=d)
    assert entry.path.read_bytes() == files["tiny-Q4_K_M.gguf"]
    # A later part's name brings the whole model, every part verified against its HEAD's SHA-256.
    split = acquire_model(REPO, "Q8_0/big-Q8_0-00002-of-00003.gguf", library=library, downloader=d)
    assert split.path == folder(tmp_path) / "Q8_0" / "big-Q8_0-00001-of-00003.gguf"
    for i in (1, 2, 3):
        name = f"Q8_0/big-Q8_0-0000{i}-of-00003.gguf"
        assert (folder(tmp_path) / name).read_bytes() == files[name]
    # What the name says is still refused, and the hub's answers are still sentences.
    for name, kind, words in (
        ("mmproj-tiny-f16.gguf", "not_a_model", "vision projector"),
        ("README.md", "not_in_repo", "not a GGUF file"),
        ("nothing-Q4_0.gguf", "not_found", "has no file named “nothing-Q4_0.gguf”"),
    ):
        with pytest.raises(AcquireError) as err:
            fetch_model(REPO, name, downloader=d)
        assert err.value.kind == kind and words in str(err.value)
    with pytest.raises(AcquireError) as err:
        fetch_model("nobody/nothing-GGUF", "x.gguf", downloader=d)
    assert err.value.kind == "not_found" and "not found on the hub, or it is private" in str(err.value)


def test_with_only_resolve_a_split_model_with_a_missing_part_is_incomplete(
    hub: HubServer,  # noqa: F811
    tmp_path: Path,
):
    hub.add_repo(REPO, {"half-Q4_0-00001-of-00002.gguf": fake_gguf("half", 1000)})
    hub.repo_api = hub.tree_api = False
    with pytest.raises(AcquireError) as err:
        fetch_model(REPO, "half-Q4_0-00001-of-00002.gguf", downloader=downloader(tmp_path, hub))
    assert err.value.kind == "incomplete" and "only part(s) 1" in str(err.value)
    assert not [r for r in hub.requests if r.method == "GET" and "/resolve/" in r.path]
