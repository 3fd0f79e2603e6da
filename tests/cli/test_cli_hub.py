"""models search / curated / files / download: the real CLI in a subprocess against the loopback hub."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_app.core.models.hub import CURATED
from tests.cli.test_cli_basics import assert_one_line_error
from tests.helpers import fake_gguf, run_cli, sha256_file
from tests.hubserver import VALID_TOKEN, HubServer, hub  # noqa: F401  (hub is a fixture)

SMOL_REPO, SMOL_FILE = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "smollm2-135m-instruct-q4_1.gguf"
SMOL_GGUF = {
    "total": 134_515_008,
    "architecture": "llama",
    "context_length": 8192,
    "chat_template": "{{ m }}",
}


def cli_json(args: list[str]) -> dict:
    proc = run_cli([*args, "--json"])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def app_requests(server: HubServer) -> list:
    """The requests TokenDice made: without huggingface_hub's own daily fetch of its list of AI agents
    (``/api/agent-harnesses``, for its user-agent header), which a fresh HF_HOME triggers."""
    return [r for r in server.requests if not r.path.startswith("/api/agent-harnesses")]


def file_gets(server: HubServer) -> list:
    """The GETs of file contents (the listing is a GET of /api/models/… too)."""
    return [r for r in server.requests if r.method == "GET" and not r.path.startswith("/api/")]


@pytest.fixture
def smol_repo(hub: HubServer, smollm2_path: Path) -> Path:  # noqa: F811
    hub.add_repo(
        SMOL_REPO, {SMOL_FILE: smollm2_path, "README.md": b"# SmolLM2\n"}, downloads=50, gguf=SMOL_GGUF
    )
    return smollm2_path


def mixed_repo(server: HubServer) -> dict[str, bytes]:
    parts = {f"F16/tiny-F16-0000{i}-of-00003.gguf": fake_gguf(f"split{i}", 1000 * i) for i in (1, 2, 3)}
    files = {
        **parts,
        "tiny-Q8_0.gguf": fake_gguf("q8", 3000),
        "mmproj-tiny-f16.gguf": fake_gguf("proj", 500),
        "half-Q4_K_M-00001-of-00002.gguf": fake_gguf("half", 700),
        "README.md": b"# tiny\n",
    }
    server.add_repo("tokendice/mixed-GGUF", files, gguf=SMOL_GGUF, downloads=3, tags=["license:mit"])
    return files


# --- search ----------------------------------------------------------------------------------------------
def test_search_lists_repositories_with_counts_and_access(hub: HubServer):  # noqa: F811
    hub.add_repo("alice/alpha-GGUF", {"alpha-Q4_K_M.gguf": fake_gguf("a")}, downloads=10, likes=50)
    hub.add_repo("bob/beta-GGUF", {"beta-Q8_0.gguf": fake_gguf("b")}, downloads=3000, likes=1)
    hub.add_repo(
        "erin/delta-GGUF", {"delta-Q2_K.gguf": fake_gguf("e")}, downloads=20, likes=3, gated="manual"
    )
    hub.add_repo("dan/not-gguf", {"model.safetensors": b"x" * 10}, downloads=10**6)

    data = cli_json(["models", "search"])
    assert [r["repo_id"] for r in data["results"]] == ["bob/beta-GGUF", "erin/delta-GGUF", "alice/alpha-GGUF"]
    beta, delta = data["results"][0], data["results"][1]
    assert (beta["downloads"], beta["likes"], beta["gated"]) == (3000, 1, False)
    assert delta["gated"] is True and delta["url"] == f"{hub.url}/erin/delta-GGUF"
    assert beta["updated"].startswith("2024-06-01")
    assert data["endpoint"] == hub.url and data["sort"] == "downloads"

    liked = cli_json(["models", "search", "--sort", "likes", "--limit", "2"])
    assert [r["repo_id"] for r in liked["results"]] == ["alice/alpha-GGUF", "erin/delta-GGUF"]

    text = run_cli(["models", "search"])
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["REPOSITORY", "DOWNLOADS", "LIKES", "UPDATED", "ACCESS"]
    assert lines[1].split()[:2] == ["bob/beta-GGUF", "3.0k"]
    assert lines[2].split()[-1] == "gated"
    assert "tokendice models curated" in text.stdout  # no query: the curated list is offered too

    query = run_cli(["models", "search", "alpha"])
    assert "alice/alpha-GGUF" in query.stdout and "bob/beta-GGUF" not in query.stdout
    assert "models curated" not in query.stdout
    nothing = run_cli(["models", "search", "no-such-words"])
    assert nothing.returncode == 0
    assert "No GGUF repositories match “no-such-words”" in nothing.stdout
    assert "tokendice models curated" in nothing.stdout


def test_search_limit_is_checked_before_any_request(hub: HubServer):  # noqa: F811
    proc = run_cli(["models", "search", "--limit", "500"])
    assert proc.returncode == 2 and "at most 100" in proc.stderr
    assert hub.requests == []  # not even huggingface_hub's own


# --- curated ---------------------------------------------------------------------------------------------
def test_curated_lists_sizes_and_a_fit_for_this_machine_without_the_network():
    data = cli_json(["models", "curated", "--ctx", "2048"])  # HF_HUB_OFFLINE=1 here: no request needed
    assert [(m["repo_id"], m["filename"], m["size_bytes"]) for m in data["models"]] == [
        (c.repo_id, c.filename, c.size_bytes) for c in CURATED
    ]
    assert data["n_ctx"] == 2048 and data["memory"]["ram_available_bytes"] > 0
    for m in data["models"]:
        fit = m["fit"]
        assert fit["verdict"] in ("fits", "tight", "won't fit")
        assert fit["needs_bytes"] == fit["weights_bytes"] + fit["kv_cache_bytes"] + fit["compute_bytes"]
        assert fit["weights_bytes"] == m["size_bytes"] and fit["basis"] == "hub"
        assert m["in_library"] is None
    needs = [m["fit"]["needs_bytes"] for m in data["models"]]
    assert needs == sorted(needs)  # smallest first, and the estimate grows with the model
    longer = cli_json(["models", "curated", "--ctx", "16384"])
    assert all(
        b["fit"]["kv_cache_bytes"] > a["fit"]["kv_cache_bytes"]
        for a, b in zip(data["models"], longer["models"], strict=True)
    )
    text = run_cli(["models", "curated"])
    assert CURATED[0].repo_id in text.stdout and "fits: needs" in text.stdout


# --- files -----------------------------------------------------------------------------------------------
def test_files_shows_split_models_as_one_row_with_a_fit(hub: HubServer):  # noqa: F811
    files = mixed_repo(hub)
    data = cli_json(["models", "files", "tokendice/mixed-GGUF", "--ctx", "2048"])
    assert data["license"] == "mit" and data["gguf"]["parameters"] == SMOL_GGUF["total"]
    by_name = {f["name"]: f for f in data["files"]}
    assert set(by_name) == {
        "F16/tiny-F16-00001-of-00003.gguf",
        "tiny-Q8_0.gguf",
        "mmproj-tiny-f16.gguf",
        "half-Q4_K_M-00001-of-00002.gguf",
    }
    split = by_name["F16/tiny-F16-00001-of-00003.gguf"]
    assert split["split_total"] == 3 and split["loadable"] and split["quantization"] == "F16"
    assert [p["path"] for p in split["parts"]] == [f"F16/tiny-F16-0000{i}-of-00003.gguf" for i in (1, 2, 3)]
    assert split["size_bytes"] == sum(len(files[p["path"]]) for p in split["parts"])
    assert split["fit"]["verdict"] == "fits" and split["fit"]["weights_bytes"] == split["size_bytes"]
    assert (
        by_name["mmproj-tiny-f16.gguf"]["kind"] == "mmproj" and by_name["mmproj-tiny-f16.gguf"]["fit"] is None
    )
    assert not by_name["half-Q4_K_M-00001-of-00002.gguf"]["complete"]
    longer = cli_json(["models", "files", "tokendice/mixed-GGUF", "--ctx", "32768"])
    q8 = next(f for f in longer["files"] if f["name"] == "tiny-Q8_0.gguf")
    assert q8["fit"]["kv_cache_bytes"] > by_name["tiny-Q8_0.gguf"]["fit"]["kv_cache_bytes"]

    text = run_cli(["models", "files", "tokendice/mixed-GGUF"])
    assert text.returncode == 0, text.stderr
    rows = {
        line.split()[0]: line
        for line in text.stdout.splitlines()
        if line.split()[:1] and line.split()[0].endswith(".gguf")
    }
    assert set(rows) == set(by_name)  # parts 2 and 3 have no rows of their own
    assert "(3 parts)" in rows["F16/tiny-F16-00001-of-00003.gguf"]
    assert "fits: needs" in rows["tiny-Q8_0.gguf"] and "free" in rows["tiny-Q8_0.gguf"]
    assert "vision projector" in rows["mmproj-tiny-f16.gguf"]
    assert "1 of 2 parts" in rows["half-Q4_K_M-00001-of-00002.gguf"]
    assert "FIT (4,096-token context)" in text.stdout


# --- download --------------------------------------------------------------------------------------------
def test_download_of_the_real_model_registers_it(hub: HubServer, smol_repo: Path, tokendice_home: Path):  # noqa: F811
    proc = run_cli(["models", "download", SMOL_REPO, SMOL_FILE, "--json"])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    path = Path(data["path"])
    assert path == tokendice_home.resolve() / "models" / SMOL_REPO / SMOL_FILE
    assert sha256_file(path) == sha256_file(smol_repo) and data["parts"] == [str(path)]
    assert data["size_bytes"] == smol_repo.stat().st_size
    assert data["entry"]["source"] == "downloaded" and data["entry"]["status"] == "ok"
    assert len(proc.stderr.splitlines()) <= 3  # not a terminal: a start line and a done line, no flood

    listed = {m["id"]: m for m in cli_json(["models", "list"])["models"]}
    entry = listed[data["id"]]
    assert entry["source"] == "downloaded" and entry["status"] == "ok" and entry["repo_id"] == SMOL_REPO
    assert entry["filename"] == SMOL_FILE and entry["metadata"]["architecture"] == "llama"

    # Again: the file in place is verified, not fetched again, and the library entry is the same one.
    hub.clear_requests()
    again = run_cli(["models", "download", SMOL_REPO, SMOL_FILE])
    assert again.returncode == 0, again.stderr
    assert f"library id: {data['id']}" in again.stdout
    assert [r for r in file_gets(hub) if r.body_bytes > 1_000_000] == []
    assert len(cli_json(["models", "list"])["models"]) == len(listed)


def test_download_of_a_split_model_fetches_every_part(hub: HubServer, tokendice_home: Path):  # noqa: F811
    files = mixed_repo(hub)
    data = cli_json(["models", "download", "tokendice/mixed-GGUF", "tiny-F16-00001-of-00003.gguf"])
    folder = tokendice_home.resolve() / "models" / "tokendice" / "mixed-GGUF" / "F16"
    assert data["parts"] == [str(folder / f"tiny-F16-0000{i}-of-00003.gguf") for i in (1, 2, 3)]
    for i in (1, 2, 3):
        assert (folder / f"tiny-F16-0000{i}-of-00003.gguf").read_bytes() == files[
            f"F16/tiny-F16-0000{i}-of-00003.gguf"
        ]
    assert data["path"] == data["parts"][0] and data["entry"]["name"] == "tiny-F16"


def _start_download(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "desktop_app", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def _wait_for(path: Path, n_bytes: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size >= n_bytes:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"{path} did not reach {n_bytes} bytes")


@pytest.mark.parametrize("how", ["ctrl-c", "killed"])
def test_an_interrupted_download_resumes_with_only_the_remaining_bytes(
    hub: HubServer,  # noqa: F811
    smol_repo: Path,
    tokendice_home: Path,
    how: str,
):
    size = smol_repo.stat().st_size
    target = tokendice_home.resolve() / "models" / SMOL_REPO / SMOL_FILE
    part = target.with_name(target.name + ".part")
    hub.throttle(12_000_000)  # about 8 s for the whole file
    proc = _start_download(["models", "download", SMOL_REPO, SMOL_FILE])
    try:
        _wait_for(part, 4_000_000, proc)
        proc.send_signal(signal.SIGINT if how == "ctrl-c" else signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if how == "ctrl-c":
        assert proc.returncode == 130
        assert "Traceback" not in err
        lines = err.strip().splitlines()
        assert lines[-1].startswith("tokendice: error: The download of")
        assert "was cancelled" in lines[-1] and "resumes" in lines[-1]
        assert [line for line in lines[:-1] if not line.startswith("downloading ")] == []
    else:
        assert proc.returncode == -signal.SIGKILL
    kept = part.stat().st_size
    assert 4_000_000 <= kept < size and not target.exists()
    assert part.with_name(part.name + ".json").exists()

    hub.throttle(None)
    hub.clear_requests()
    proc2 = run_cli(["models", "download", SMOL_REPO, SMOL_FILE, "--json"])
    assert proc2.returncode == 0, proc2.stderr
    assert sha256_file(target) == sha256_file(smol_repo) and not part.exists()
    [get] = file_gets(hub)
    assert (get.range, get.status, get.body_bytes) == (f"bytes={kept}-", 206, size - kept)
    assert json.loads(proc2.stdout)["entry"]["status"] == "ok"


# --- refusals, each one line -----------------------------------------------------------------------------
def test_a_missing_repository_is_one_line(hub: HubServer):  # noqa: F811
    for args in (
        ["models", "files", "nobody/nothing-GGUF"],
        ["models", "download", "nobody/nothing-GGUF", "x.gguf"],
    ):
        assert_one_line_error(
            run_cli(args), "nobody/nothing-GGUF does not exist or is private", "hf auth login"
        )


def test_a_rejected_token_is_one_line(hub: HubServer, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    mixed_repo(hub)
    monkeypatch.setenv("HF_TOKEN", "hf_expired")
    hub.fail_next("/api/models/tokendice/mixed-GGUF", 401, headers={"X-Error-Message": "Invalid credentials"})
    proc = run_cli(["models", "files", "tokendice/mixed-GGUF"])
    assert_one_line_error(proc, "rejected your access token", "hf auth login", "HF_TOKEN")
    assert "hf_expired" not in proc.stderr
    assert [r.authorized for r in app_requests(hub)] == [True]  # HF_TOKEN was sent


def test_a_gated_model_says_how_to_get_access_and_works_with_a_token(
    hub: HubServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
):
    data = fake_gguf("locked", 5000)
    hub.add_repo("meta/locked-GGUF", {"l-Q4_K_M.gguf": data}, gated="manual")
    proc = run_cli(["models", "download", "meta/locked-GGUF", "l-Q4_K_M.gguf"])
    assert_one_line_error(proc, "gated model", f"{hub.url}/meta/locked-GGUF", "`hf auth login`", "HF_TOKEN")
    monkeypatch.setenv("HF_TOKEN", VALID_TOKEN)
    proc = run_cli(["models", "download", "meta/locked-GGUF", "l-Q4_K_M.gguf", "--json"])
    assert proc.returncode == 0, proc.stderr
    assert Path(json.loads(proc.stdout)["path"]).read_bytes() == data
    assert VALID_TOKEN not in proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["../../../etc/passwd.gguf", "/etc/passwd", "a/../../b.gguf", "C:\\x.gguf"])
def test_a_path_traversal_file_name_is_refused_before_any_request(hub: HubServer, name: str):  # noqa: F811
    mixed_repo(hub)
    hub.clear_requests()
    assert_one_line_error(run_cli(["models", "download", "tokendice/mixed-GGUF", name]), "not a file name")
    assert hub.requests == []  # not even huggingface_hub's own


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("mmproj-tiny-f16.gguf", "vision projector"),
        ("half-Q4_K_M-00001-of-00002.gguf", "split into 2 parts"),
        ("README.md", "no GGUF model file"),
        ("tiny-Q4_K_M.gguf", "tiny-Q8_0.gguf"),  # the models it does have are named
    ],
)
def test_files_that_are_not_models_are_refused_without_downloading(hub: HubServer, name: str, words: str):  # noqa: F811
    mixed_repo(hub)
    hub.clear_requests()
    assert_one_line_error(run_cli(["models", "download", "tokendice/mixed-GGUF", name]), words)
    requests = app_requests(hub)
    assert requests and all(r.path.startswith("/api/models/tokendice/mixed-GGUF") for r in requests)


def test_offline_mode_is_refused_without_a_request(hub: HubServer, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    mixed_repo(hub)
    hub.clear_requests()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for args in (
        ["models", "search"],
        ["models", "files", "tokendice/mixed-GGUF"],
        ["models", "download", "tokendice/mixed-GGUF", "tiny-Q8_0.gguf"],
    ):
        assert_one_line_error(run_cli(args), "offline", "HF_HUB_OFFLINE")
    assert hub.requests == []  # not even huggingface_hub's own


def test_download_waits_for_the_desktop_app_to_close_but_listing_does_not(
    hub: HubServer,  # noqa: F811
    tokendice_home: Path,
):
    from desktop_app.core.services import Services

    mixed_repo(hub)
    run_cli(["models", "list"])  # create the database first
    services = Services.open()  # what the running desktop app holds
    try:
        assert cli_json(["models", "files", "tokendice/mixed-GGUF"])["files"]
        hub.clear_requests()
        proc = run_cli(["models", "download", "tokendice/mixed-GGUF", "tiny-Q8_0.gguf"])
        assert_one_line_error(proc, "already running")
        assert file_gets(hub) == []
    finally:
        services.close()
