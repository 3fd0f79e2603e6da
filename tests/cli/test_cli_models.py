"""models import / remove / discover from the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli.test_cli_basics import assert_one_line_error
from tests.helpers import run_cli


def test_import_copy_then_remove_keeps_the_file_without_yes(
    smollm2_path: Path, tmp_path: Path, tokendice_home
):
    src = tmp_path / "mine.gguf"
    shutil.copyfile(smollm2_path, src)
    proc = run_cli(["models", "import", str(src), "--json"])
    assert proc.returncode == 0, proc.stderr
    entry = json.loads(proc.stdout)
    copied = Path(entry["path"])
    assert entry["source"] == "imported" and copied.is_relative_to(tokendice_home / "models")
    listed = json.loads(run_cli(["models", "list", "--json"]).stdout)["models"]
    assert entry["id"] in {m["id"] for m in listed}
    # No terminal to ask in: the file is kept unless --yes is given.
    proc = run_cli(["models", "remove", entry["id"], "--delete-file"])
    assert proc.returncode == 0 and copied.exists() and "--yes" in proc.stderr
    again = json.loads(run_cli(["models", "import", str(copied), "--reference", "--json"]).stdout)
    proc = run_cli(["models", "remove", again["id"], "--delete-file", "--yes"])
    assert proc.returncode == 0 and copied.exists() and "left alone" in proc.stdout


def test_import_of_a_text_file_is_one_line(tmp_path: Path):
    fake = tmp_path / "notes.gguf"
    fake.write_text("hello")
    assert_one_line_error(run_cli(["models", "import", str(fake)]), "not a GGUF model file")


def test_remove_unknown_and_bundled_are_one_line():
    assert_one_line_error(run_cli(["models", "remove", "nope"]), "no model 'nope'")
    assert_one_line_error(run_cli(["models", "remove", "bundled/SmolLM2-135M-Instruct-Q4_1"]), "bundled")


def test_discover_reads_hf_hub_cache(smollm2_path: Path, tmp_path: Path, monkeypatch):
    cache = tmp_path / "hub"
    snap = cache / "models--someone--tiny-GGUF" / "snapshots" / "0123"
    snap.mkdir(parents=True)
    (snap / "tiny-q4_1.gguf").symlink_to(smollm2_path)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    data = json.loads(run_cli(["models", "discover", "--json"]).stdout)
    assert [m["repo_id"] for m in data["found"]] == ["someone/tiny-GGUF"]
    assert json.loads(run_cli(["models", "discover", "--json"]).stdout)["found"] == []


def test_read_commands_work_while_the_app_holds_the_lock(tokendice_home: Path, smollm2_path: Path):
    from desktop_app.core.services import Services

    run_cli(["models", "list"])  # create the database first
    services = Services.open()  # what the running desktop app holds
    try:
        listed = run_cli(["models", "list", "--json"])
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout)["models"][0]["status"] == "ok"
        probs = run_cli(["probs", "--top", "3", "--json", "Hello"])
        assert probs.returncode == 0, probs.stderr
        assert_one_line_error(run_cli(["models", "import", str(smollm2_path)]), "already running")
    finally:
        services.close()
