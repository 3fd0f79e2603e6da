"""``tokendice kit export|import``: a teacher's home exports a kit (a lesson pack, the built-in lessons and
the real SmolLM2) with the command line; a fresh home imports it, and its model and lessons are there; a
damaged kit is one line and nothing installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop_app.core.lessons import LESSONS
from tests.helpers import run_cli, sha256_file
from tests.pack_helpers import lesson_text, write_pack, write_zip

MODEL_PATH = "models/local/SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class Exported:
    kit: Path
    export: subprocess.CompletedProcess
    sha256: str


def _cli(args: list[str], home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TOKENDICE_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *args], capture_output=True, text=True, timeout=300, env=env
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path) -> Exported:
    """The kit a teacher's home exported (the 98 MB model is copied once a module)."""
    root = tmp_path_factory.mktemp("teacher")
    home = root / "home"
    lessons = {"a.toml": lesson_text("ants", "Ants"), "b.toml": lesson_text("bees", "Bees", thinks=True)}
    added = _cli(["lessons", "add", str(write_pack(root / "wk3", lessons, name="Week 3"))], home)
    assert added.returncode == 0, added.stderr
    export = _cli(
        ["kit", "export", str(root / "kit"), "--lessons", "week-3", "builtin", "--models", "default"], home
    )
    assert export.returncode == 0, export.stderr
    return Exported(root / "kit", export, sha256_file(smollm2_path))


def _json(args: list[str]) -> dict:
    out = run_cli(args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_export_says_what_the_kit_holds_and_which_models_it_lacks(exported):
    out = exported.export.stdout
    assert f"Exported the classroom kit to {exported.kit} (98.4 MB):" in out
    assert (
        "pack   week-3 “Week 3”: 2 lesson(s)" in out
        and f"builtin “TokenDice's lessons”: {len(LESSONS)}" in out
    )
    assert (
        "note: the lesson week-3/bees recommends Qwen/Qwen3-0.6B-GGUF Qwen3-0.6B-Q8_0.gguf, which is" in out
    )
    assert "week-3/ants recommends" not in out  # a lesson for any model
    # The progress, on standard error: plain lines, not a redrawn one, when it is not a terminal.
    assert f"copying {MODEL_PATH}: 98.4 MB of 98.4 MB (100%)" in exported.export.stderr
    assert "\r" not in exported.export.stderr


def test_a_kit_imported_into_a_fresh_home(exported, tokendice_home):
    data = _json(["kit", "import", str(exported.kit), "--json"])
    (model,) = data["models"]
    assert model["source"] == "imported" and model["status"] == "ok" and model["copied"]
    assert sha256_file(Path(model["path"])) == exported.sha256
    assert Path(model["path"]).is_relative_to(tokendice_home)
    listed = _json(["models", "list", "--json"])
    assert model["id"] in json.dumps(listed)
    lessons = _json(["lessons", "list", "--json"])
    ids = [r["id"] for r in lessons["lessons"]]
    assert "week-3/ants" in ids and "week-3/bees" in ids and "builtin/wait" in ids
    shown = _json(["lessons", "show", "week-3/bees", "--json"])
    assert shown["title"] == "Bees" and shown["thinking"]["recommends"]["filename"] == "Qwen3-0.6B-Q8_0.gguf"
    # Again: harmless, and nothing is copied twice.
    again = run_cli(["kit", "import", str(exported.kit)])
    assert again.returncode == 0, again.stderr
    assert "(already there)" in again.stdout and "(replaced the earlier one)" in again.stdout
    assert len(list((tokendice_home / "models" / "local").iterdir())) == 1


def test_a_damaged_kit_is_one_line_and_nothing_is_installed(exported, tmp_path, tokendice_home):
    kit = Path(shutil.copytree(exported.kit, tmp_path / "usb"))
    with (kit / MODEL_PATH).open("r+b") as f:
        f.seek(1234567)
        byte = f.read(1)
        f.seek(1234567)
        f.write(bytes([byte[0] ^ 0xFF]))
    out = run_cli(["kit", "import", str(kit)])
    assert out.returncode == 1
    errors = [line for line in out.stderr.splitlines() if line.startswith("tokendice: error:")]
    assert errors == [
        f"tokendice: error: The kit in {kit} is damaged: {MODEL_PATH} is not the file the teacher exported "
        "(its SHA-256 differs); nothing was installed. Copy the kit again."
    ]
    assert not (tokendice_home / "models").exists() or not any((tokendice_home / "models").rglob("*.gguf"))
    assert not (tokendice_home / "data" / "lessons").exists()
    assert [m["source"] for m in _json(["models", "list", "--json"])["models"]] == ["bundled"]


def test_export_refuses_an_unrelated_folder_and_an_empty_request(tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "photos").mkdir()
    out = run_cli(["kit", "export", str(busy), "--lessons", "builtin"])
    assert out.returncode == 1 and "holds other files (photos); choose an empty folder" in out.stderr
    assert [p.name for p in busy.iterdir()] == ["photos"]
    out = run_cli(["kit", "export", str(tmp_path / "kit")])
    assert out.returncode == 1 and "say what the kit carries" in out.stderr
    out = run_cli(["kit", "export", str(tmp_path / "kit"), "--lessons", "no-such-pack"])
    assert out.returncode == 1 and "there is no lesson pack 'no-such-pack'" in out.stderr
    out = run_cli(["kit", "import", str(tmp_path / "kit")])
    assert out.returncode == 1 and "There is no kit in" in out.stderr


def test_a_lessons_only_kit_from_a_zip(tmp_path, tokendice_home):
    entries = {"week5/pack.toml": 'name = "Week 5"\n', "week5/c.toml": lesson_text("cats", "Cats")}
    archive = write_zip(tmp_path / "week5.zip", entries)
    data = _json(["kit", "export", str(tmp_path / "kit"), "--lessons", str(archive), "--json"])
    assert [p["id"] for p in data["manifest"]["packs"]] == ["week-5"] and data["notes"] == []
    imported = _json(["kit", "import", str(tmp_path / "kit"), "--json"])
    assert imported["models"] == [] and imported["packs"][0]["lessons"] == [
        {"id": "week-5/cats", "title": "Cats"}
    ]
