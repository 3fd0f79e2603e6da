"""``models files | search | download`` against a mirror that serves only the file routes, and the
sentences for hub names the downloader refuses and for a downloaded file whose header is cut short."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from tests.cli.test_cli_basics import assert_one_line_error
from tests.helpers import fake_gguf, run_cli
from tests.hubserver import HubServer, hub  # noqa: F401  (hub is a fixture)

REPO = "mirror/tiny-GGUF"


def mirror(server: HubServer) -> dict[str, bytes]:
    files = {
        "tiny-Q8_0.gguf": fake_gguf("q8", 3000),
        "F16/tiny-F16-00001-of-00002.gguf": fake_gguf("f1", 2000),
        "F16/tiny-F16-00002-of-00002.gguf": fake_gguf("f2", 1000),
        "README.md": b"# tiny\n",
    }
    server.add_repo(REPO, files, tags=["license:mit"], gguf={"total": 1000, "architecture": "llama"})
    server.repo_api = False
    return files


def test_download_and_files_work_without_the_repository_api(
    hub: HubServer,  # noqa: F811
    tokendice_home: Path,
):
    files = mirror(hub)
    proc = run_cli(["models", "download", REPO, "tiny-F16-00001-of-00002.gguf", "--json"])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    folder = tokendice_home.resolve() / "models" / "mirror" / "tiny-GGUF" / "F16"
    assert data["parts"] == [str(folder / f"tiny-F16-0000{i}-of-00002.gguf") for i in (1, 2)]
    for i in (1, 2):
        name = f"tiny-F16-0000{i}-of-00002.gguf"
        assert (folder / name).read_bytes() == files[f"F16/{name}"]
    assert "does not exist" not in proc.stderr

    listing = run_cli(["models", "files", REPO, "--json"])
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    assert data["source"] == "tree" and data["commit"] is None and data["gguf"] is None
    by_name = {f["name"]: f for f in data["files"]}
    assert by_name["tiny-Q8_0.gguf"]["size_bytes"] == 3000 and by_name["tiny-Q8_0.gguf"]["fit"] is not None
    assert by_name["F16/tiny-F16-00001-of-00002.gguf"]["in_library"] == json.loads(proc.stdout)["id"]
    text = run_cli(["models", "files", REPO])
    assert text.returncode == 0, text.stderr
    assert "did not answer its repository API" in text.stdout and "tiny-Q8_0.gguf" in text.stdout


def test_what_a_files_only_mirror_cannot_do_is_one_line(hub: HubServer):  # noqa: F811
    mirror(hub)
    assert_one_line_error(
        run_cli(["models", "search", "tiny"]), "does not answer requests for search results", "HTTP 404"
    )
    assert_one_line_error(
        run_cli(["models", "download", "nobody/nothing-GGUF", "x.gguf"]),
        "nobody/nothing-GGUF does not exist or is private",
    )
    hub.tree_api = False
    assert_one_line_error(
        run_cli(["models", "files", REPO]), f"does not list the files of {REPO}", "models download"
    )
    proc = run_cli(["models", "download", REPO, "tiny-Q8_0.gguf", "--json"])  # resolve is enough
    assert proc.returncode == 0, proc.stderr
    assert Path(json.loads(proc.stdout)["path"]).read_bytes() == fake_gguf("q8", 3000)


def test_files_does_not_offer_a_name_the_download_refuses(hub: HubServer):  # noqa: F811
    hub.add_repo(REPO, {"../evil-Q4_K_M.gguf": fake_gguf("evil", 1000), "ok-Q4_0.gguf": fake_gguf("ok", 900)})
    data = json.loads(run_cli(["models", "files", REPO, "--json"]).stdout)
    by_name = {f["name"]: f for f in data["files"]}
    evil = by_name["../evil-Q4_K_M.gguf"]
    assert not evil["loadable"] and evil["fit"] is None and "without “..”" in evil["refused"]
    assert by_name["ok-Q4_0.gguf"]["loadable"] and by_name["ok-Q4_0.gguf"]["refused"] is None
    text = run_cli(["models", "files", REPO])
    [row] = [line for line in text.stdout.splitlines() if line.startswith("../evil")]
    assert "refused" in row and "fits" not in row


def test_a_downloaded_file_with_a_truncated_header_is_named(hub: HubServer):  # noqa: F811
    cut = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + b"\x05\x00\x00"  # ends inside its first key's name
    hub.add_repo(REPO, {"cut-Q4_0.gguf": cut})
    proc = run_cli(["models", "download", REPO, "cut-Q4_0.gguf"])
    assert proc.returncode == 0, proc.stderr
    [warning] = [line for line in proc.stderr.splitlines() if line.startswith("tokendice: warning:")]
    assert "cut-Q4_0.gguf" in warning and "truncated" in warning
