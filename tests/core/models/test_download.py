"""Resumable, verified downloads against the loopback hub (tests/hubserver.py), with the real SmolLM2 GGUF."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from desktop_app.core.models.download import (
    Downloader,
    DownloadError,
    DownloadRequest,
    Progress,
)
from tests.helpers import sha256_file
from tests.hubserver import VALID_TOKEN, HubServer, hub  # noqa: F401  (hub is a fixture)

ROOT = Path(__file__).resolve().parents[3]
REPO = "tester/tiny-GGUF"
MB = 1024 * 1024


def blob(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def downloader(models: Path, server: HubServer, **kw) -> Downloader:
    kw.setdefault("backoff_s", 0.001)
    return Downloader(models, endpoint=server.url, **kw)


def gets(server: HubServer) -> list:
    return [r for r in server.requests if r.method == "GET"]


@pytest.fixture
def models(tmp_path: Path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def tiny(hub: HubServer) -> bytes:  # noqa: F811
    data = blob(3 * MB)
    hub.add_repo(REPO, {"model.gguf": data, "README.md": b"# tiny\n"}, downloads=3)
    return data


def part_of(target: Path) -> tuple[Path, Path]:
    return target.with_name(target.name + ".part"), target.with_name(target.name + ".part.json")


# --- the real model -------------------------------------------------------------------------------------
def test_full_download_of_the_real_gguf_is_verified(hub, smollm2_path: Path, models: Path):  # noqa: F811
    hub.add_repo("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", {"smollm2.gguf": smollm2_path})
    seen: list[Progress] = []
    start = time.monotonic()
    path = downloader(models, hub).download(
        DownloadRequest("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "smollm2.gguf"), progress=seen.append
    )
    elapsed = time.monotonic() - start
    assert path == models.resolve() / "HuggingFaceTB" / "SmolLM2-135M-Instruct-GGUF" / "smollm2.gguf"
    assert sha256_file(path) == sha256_file(smollm2_path)
    assert path.stat().st_size == smollm2_path.stat().st_size
    assert not any(p.exists() for p in part_of(path))
    # progress: monotonic, ends at the total, at most ~10 calls a second (plus the first and last)
    assert seen[-1].done_bytes == seen[-1].total_bytes == smollm2_path.stat().st_size
    assert [p.done_bytes for p in seen] == sorted(p.done_bytes for p in seen)
    assert len(seen) <= elapsed * 10 + 3
    # the protocol: HEAD on the hub's resolve URL, then one GET of the whole file on the CDN it points to
    head, get = hub.requests
    assert (head.server, head.method, head.status) == ("hub", "HEAD", 302)
    assert (get.server, get.method, get.status, get.range) == ("cdn", "GET", 200, None)


def test_a_drop_resumes_in_a_new_process_with_only_the_remaining_bytes(
    hub,  # noqa: F811
    smollm2_path: Path,
    models: Path,
):
    hub.add_repo(REPO, {"smollm2.gguf": smollm2_path})
    size = smollm2_path.stat().st_size
    cut = 40_000_000
    hub.drop_after("smollm2.gguf", cut)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from desktop_app.core.models.download import Downloader, DownloadError, DownloadRequest\n"
        "d = Downloader(Path(sys.argv[1]), endpoint=sys.argv[2], retries=0)\n"
        "try:\n"
        "    d.download(DownloadRequest(sys.argv[3], 'smollm2.gguf'))\n"
        "except DownloadError as exc:\n"
        "    print(exc.kind)\n"
        "    sys.exit(3)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(models), hub.url, REPO],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=dict(os.environ),
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "network"
    target = models / "tester" / "tiny-GGUF" / "smollm2.gguf"
    part, sidecar = part_of(target)
    assert part.stat().st_size == cut
    assert json.loads(sidecar.read_text())["size"] == size

    hub.clear_requests()
    path = downloader(models, hub).download(DownloadRequest(REPO, "smollm2.gguf"))
    assert sha256_file(path) == sha256_file(smollm2_path)
    [get] = gets(hub)
    assert (get.range, get.status, get.body_bytes) == (f"bytes={cut}-", 206, size - cut)
    assert not part.exists() and not sidecar.exists()


# --- resume, cancel, corruption -------------------------------------------------------------------------
def test_cancel_keeps_the_part_and_a_later_call_resumes(hub, models: Path):  # noqa: F811
    data = blob(8 * MB, seed=1)
    hub.add_repo(REPO, {"model.gguf": data})
    hub.throttle(16 * MB)
    cancel = threading.Event()

    def on_progress(p: Progress) -> None:
        if p.done_bytes > 0:
            cancel.set()

    d = downloader(models, hub)
    with pytest.raises(DownloadError) as err:
        d.download(DownloadRequest(REPO, "model.gguf"), progress=on_progress, cancel=cancel)
    assert err.value.kind == "cancelled"
    target = d.target_path(DownloadRequest(REPO, "model.gguf"))
    part, sidecar = part_of(target)
    kept = part.stat().st_size
    assert 0 < kept < len(data) and sidecar.exists() and not target.exists()

    hub.throttle(None)
    hub.clear_requests()
    path = d.download(DownloadRequest(REPO, "model.gguf"))
    assert path.read_bytes() == data
    [get] = gets(hub)
    assert get.range == f"bytes={kept}-" and get.body_bytes == len(data) - kept


def test_a_dropped_connection_is_resumed_within_the_same_call(hub, tiny: bytes, models: Path):  # noqa: F811
    hub.drop_after("model.gguf", 1_000_000)
    path = downloader(models, hub).download(DownloadRequest(REPO, "model.gguf"))
    assert path.read_bytes() == tiny
    first, second = gets(hub)
    assert (first.range, first.body_bytes) == (None, 1_000_000)
    assert second.range == "bytes=1000000-" and second.status == 206


def test_a_corrupted_byte_is_caught_by_the_hash_and_the_part_deleted(hub, tiny: bytes, models: Path):  # noqa: F811
    hub.corrupt("model.gguf", 1_234_567)
    d = downloader(models, hub)
    with pytest.raises(DownloadError) as err:
        d.download(DownloadRequest(REPO, "model.gguf"))
    assert err.value.kind == "hash_mismatch"
    assert "SHA-256" in err.value.message and "deleted" in err.value.message
    target = d.target_path(DownloadRequest(REPO, "model.gguf"))
    assert not target.exists() and not any(p.exists() for p in part_of(target))
    assert d.download(DownloadRequest(REPO, "model.gguf")).read_bytes() == tiny


def test_a_server_that_ignores_range_restarts_cleanly(hub, tiny: bytes, models: Path):  # noqa: F811
    d = downloader(models, hub, retries=0)
    hub.drop_after("model.gguf", 500_000)
    with pytest.raises(DownloadError):
        d.download(DownloadRequest(REPO, "model.gguf"))
    hub.ignore_range("model.gguf")
    hub.clear_requests()
    assert d.download(DownloadRequest(REPO, "model.gguf")).read_bytes() == tiny
    [get] = gets(hub)
    assert (get.range, get.status, get.body_bytes) == ("bytes=500000-", 200, len(tiny))


def test_a_new_file_version_on_the_hub_restarts_the_part(hub, tiny: bytes, models: Path):  # noqa: F811
    d = downloader(models, hub, retries=0)
    hub.drop_after("model.gguf", 500_000)
    with pytest.raises(DownloadError):
        d.download(DownloadRequest(REPO, "model.gguf"))
    new = blob(2 * MB, seed=7)
    hub.update_file(REPO, "model.gguf", new)
    hub.clear_requests()
    assert d.download(DownloadRequest(REPO, "model.gguf")).read_bytes() == new
    assert [g.range for g in gets(hub)] == [None]


def test_a_file_already_in_place_is_checked_not_downloaded_again(hub, tiny: bytes, models: Path):  # noqa: F811
    d = downloader(models, hub)
    path = d.download(DownloadRequest(REPO, "model.gguf"))
    hub.clear_requests()
    assert d.download(DownloadRequest(REPO, "model.gguf")) == path
    assert gets(hub) == []
    path.write_bytes(b"x" * len(tiny))  # same size, other bytes: downloaded again
    assert d.download(DownloadRequest(REPO, "model.gguf")).read_bytes() == tiny


def test_small_git_files_are_checked_by_size(hub, tiny: bytes, models: Path):  # noqa: F811
    path = downloader(models, hub).download(DownloadRequest(REPO, "README.md"))
    assert path.read_bytes() == b"# tiny\n"
    assert [(r.server, r.status) for r in gets(hub)] == [("hub", 200)]


def test_a_renamed_repo_redirects_on_the_same_host(hub, tiny: bytes, models: Path):  # noqa: F811
    hub.rename_repo(REPO, "tester/renamed-GGUF")
    path = downloader(models, hub).download(DownloadRequest(REPO, "model.gguf"))
    assert path.read_bytes() == tiny
    assert [r.status for r in hub.requests if r.method == "HEAD"] == [307, 302]


# --- the hub's errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [(401, "auth", "hf auth login"), (403, "auth", "HTTP 403"), (404, "not_found", "not found")],
)
def test_client_errors_give_their_own_sentence_without_retrying(
    hub,  # noqa: F811
    tiny: bytes,
    models: Path,
    status: int,
    kind: str,
    words: str,
):
    hub.fail_next("model.gguf", status, times=10)
    with pytest.raises(DownloadError) as err:
        downloader(models, hub).download(DownloadRequest(REPO, "model.gguf"))
    assert (err.value.kind, err.value.status) == (kind, status)
    assert words in err.value.message
    assert len(hub.requests) == 1


def test_missing_file_revision_and_repo(hub, tiny: bytes, models: Path):  # noqa: F811
    d = downloader(models, hub)
    cases = [
        (DownloadRequest(REPO, "nope.gguf"), "no file named “nope.gguf”"),
        (DownloadRequest(REPO, "model.gguf", "v9"), "no branch, tag or commit named “v9”"),
        (DownloadRequest("tester/missing", "model.gguf"), "not found on the hub, or it is private"),
    ]
    for request, words in cases:
        with pytest.raises(DownloadError) as err:
            d.download(request)
        assert err.value.kind == "not_found" and words in err.value.message


@pytest.mark.parametrize("method", ["HEAD", "GET"])
@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_errors_are_retried(hub, tiny: bytes, models: Path, method: str, status: int):  # noqa: F811
    hub.fail_next("model.gguf", status, times=2, method=method, headers={"Retry-After": "0"})
    path = downloader(models, hub).download(DownloadRequest(REPO, "model.gguf"))
    assert path.read_bytes() == tiny
    assert [r.status for r in hub.requests if r.method == method][:3] == [
        status,
        status,
        302 if method == "HEAD" else 200,
    ]


def test_a_server_error_that_does_not_go_away_gives_up(hub, tiny: bytes, models: Path):  # noqa: F811
    hub.fail_next("model.gguf", 500, times=100, method="GET")
    d = downloader(models, hub, retries=3)
    with pytest.raises(DownloadError) as err:
        d.download(DownloadRequest(REPO, "model.gguf"))
    assert err.value.kind == "network"
    assert "HTTP 500" in err.value.message and "3 retries" in err.value.message
    assert len(gets(hub)) == 4
    assert part_of(d.target_path(DownloadRequest(REPO, "model.gguf")))[1].exists()  # kept for later


def test_a_long_retry_after_is_not_waited_for(hub, tiny: bytes, models: Path):  # noqa: F811
    hub.fail_next("model.gguf", 429, headers={"Retry-After": "3600"})
    start = time.monotonic()
    with pytest.raises(DownloadError) as err:
        downloader(models, hub).download(DownloadRequest(REPO, "model.gguf"))
    assert err.value.kind == "network" and "60 minutes" in err.value.message
    assert time.monotonic() - start < 5


def test_gated_repo(hub, models: Path):  # noqa: F811
    data = blob(MB, seed=3)
    hub.add_repo("gate/keeper-GGUF", {"model.gguf": data}, gated="manual")
    request = DownloadRequest("gate/keeper-GGUF", "model.gguf")
    with pytest.raises(DownloadError) as err:
        downloader(models, hub).download(request)
    assert err.value.kind == "gated" and err.value.status == 401
    for words in ("licence", f"{hub.url}/gate/keeper-GGUF", "hf auth login", "HF_TOKEN"):
        assert words in err.value.message
    with pytest.raises(DownloadError) as err:
        downloader(models, hub, token="hf_someone_else").download(request)
    assert err.value.kind == "gated" and err.value.status == 403
    assert "hf_someone_else" not in err.value.message

    hub.clear_requests()
    path = downloader(models, hub, token=VALID_TOKEN).download(request)
    assert path.read_bytes() == data
    head, get = hub.requests
    assert head.authorized and not get.authorized  # the token never goes to the CDN host


def test_private_repo(hub, models: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    hub.add_repo("secret/stash", {"model.gguf": blob(MB)}, private=True)
    request = DownloadRequest("secret/stash", "model.gguf")
    with pytest.raises(DownloadError) as err:
        downloader(models, hub).download(request)
    assert err.value.kind == "not_found" and "private" in err.value.message
    with pytest.raises(DownloadError) as err:
        downloader(models, hub, token="hf_wrong").download(request)
    assert err.value.kind == "auth" and err.value.status == 403
    monkeypatch.setenv("HF_TOKEN", VALID_TOKEN)  # token=None: huggingface_hub's own resolution
    assert downloader(models, hub).download(request).stat().st_size == MB


# --- refused before any request -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("repo_id", "filename"),
    [
        ("tester/tiny", "../../escape.gguf"),
        ("tester/tiny", "sub/../../escape.gguf"),
        ("tester/tiny", "/etc/passwd"),
        ("tester/tiny", "sub\\evil.gguf"),
        ("tester/tiny", "C:/Windows/evil.gguf"),
        ("tester/tiny", "c:evil.gguf"),
        ("tester/tiny", "a//b.gguf"),
        ("tester/tiny", "./model.gguf"),
        ("tester/tiny", ""),
        ("tester/tiny", "model.gguf/"),
        ("../tiny", "model.gguf"),
        ("tester/..", "model.gguf"),
        ("tester", "model.gguf"),
        ("tester/tiny/extra", "model.gguf"),
        ("/tester/tiny", "model.gguf"),
        ("tester\\tiny", "model.gguf"),
    ],
)
def test_names_that_would_leave_the_models_folder_are_refused(hub, models: Path, repo_id, filename):  # noqa: F811
    with pytest.raises(DownloadError) as err:
        downloader(models, hub).download(DownloadRequest(repo_id, filename))
    assert err.value.kind == "bad_name"
    assert hub.requests == []
    assert not models.exists()


def test_a_file_in_a_repo_subfolder_lands_in_the_same_subfolder(hub, models: Path):  # noqa: F811
    hub.add_repo(REPO, {"Q4_K_M/model-00001-of-00002.gguf": blob(1000)})
    path = downloader(models, hub).download(DownloadRequest(REPO, "Q4_K_M/model-00001-of-00002.gguf"))
    assert path == models.resolve() / "tester" / "tiny-GGUF" / "Q4_K_M" / "model-00001-of-00002.gguf"


def test_not_enough_disk_space_is_refused_with_the_numbers(hub, tiny: bytes, models: Path):  # noqa: F811
    d = downloader(models, hub, free_space=lambda folder: 1_000_000)
    with pytest.raises(DownloadError) as err:
        d.download(DownloadRequest(REPO, "model.gguf"))
    assert err.value.kind == "disk_full"
    assert "3.1 MB" in err.value.message and "1.0 MB" in err.value.message
    assert gets(hub) == []


def test_offline_mode_is_refused_without_a_request(hub, tiny: bytes, models: Path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DownloadError) as err:
        downloader(models, hub).download(DownloadRequest(REPO, "model.gguf"))
    assert err.value.kind == "offline" and "HF_HUB_OFFLINE" in err.value.message
    assert hub.requests == []


# --- the queue ------------------------------------------------------------------------------------------
def test_the_loopback_hub_answers_huggingface_hub_calls(hub, tmp_path: Path, monkeypatch):  # noqa: F811
    import tqdm
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import GatedRepoError

    monkeypatch.setattr(tqdm.tqdm, "monitor_interval", 0)  # no tqdm monitor thread left behind
    for i in range(5):
        hub.add_repo(f"org/model-{i}-GGUF", {"m.gguf": blob(100, i)}, downloads=i * 10, likes=i)
    hub.add_repo("org/plain", {"model.safetensors": blob(100)}, downloads=1000)
    hub.add_repo("org/hidden-GGUF", {"m.gguf": b"x"}, private=True, downloads=10_000)
    hub.page_size = 2
    api = HfApi(endpoint=hub.url, token=False)
    found = [m.id for m in api.list_models(filter="gguf", search="model", sort="downloads")]
    assert found == [f"org/model-{i}-GGUF" for i in (4, 3, 2, 1, 0)]
    assert sum(1 for r in hub.requests if r.path.startswith("/api/models?")) == 3  # followed the Link pages
    info = api.model_info("org/model-1-GGUF", files_metadata=True)
    [sibling] = info.siblings
    assert sibling.lfs.sha256 == hashlib.sha256(blob(100, 1)).hexdigest() and sibling.size == 100
    [entry] = api.list_repo_tree("org/model-1-GGUF")
    assert entry.path == "m.gguf" and entry.lfs.sha256 == sibling.lfs.sha256
    local = hf_hub_download(
        "org/model-2-GGUF", "m.gguf", endpoint=hub.url, local_dir=tmp_path / "hf", token=False
    )
    assert Path(local).read_bytes() == blob(100, 2)
    hub.add_repo("org/gated-GGUF", {"m.gguf": b"x"}, gated=True)
    with pytest.raises(GatedRepoError):
        hf_hub_download("org/gated-GGUF", "m.gguf", endpoint=hub.url, local_dir=tmp_path / "g", token=False)


def test_the_part_is_durable_before_it_is_renamed(hub, tiny: bytes, models: Path, monkeypatch):  # noqa: F811
    events: list[tuple[str, object]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.fstat(fd).st_size))
        real_fsync(fd)

    def replace(src, dst) -> None:
        events.append(("replace", Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    downloader(models, hub).download(DownloadRequest(REPO, "model.gguf"))
    assert events[-2:] == [("fsync", len(tiny)), ("replace", "model.gguf")]
