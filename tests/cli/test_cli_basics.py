from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app import __version__
from tests.helpers import run_cli


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("tokendice: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_version_and_help():
    proc = run_cli(["--version"])
    assert proc.returncode == 0 and proc.stdout.strip() == f"tokendice {__version__}"
    helped = run_cli(["--help"])
    assert helped.returncode == 0
    for command in ("gui", "models", "info"):
        assert command in helped.stdout


def test_console_scripts_are_installed():
    bindir = Path(sys.executable).parent
    for script in ("tokendice", "tokendice-gui"):
        assert (bindir / script).exists() or shutil.which(script), script
    proc = subprocess.run(
        [str(bindir / "tokendice"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.strip() == f"tokendice {__version__}"


def test_models_list_json_has_the_bundled_model_with_header_metadata(
    smollm2_path: Path, tokendice_home: Path
):
    proc = run_cli(["models", "list", "--json"])
    assert proc.returncode == 0, proc.stderr
    models = json.loads(proc.stdout)["models"]
    assert len(models) == 1
    m = models[0]
    assert m["default"] is True and m["source"] == "bundled" and m["status"] == "ok"
    assert Path(m["path"]) == smollm2_path
    meta = m["metadata"]
    assert meta["architecture"] == "llama"
    assert 130e6 < meta["parameter_count"] < 140e6
    assert meta["block_count"] == 30
    assert meta["context_length"] == 8192
    assert meta["vocab_size"] == 49152
    assert meta["quantization"] == "Q4_1"
    assert meta["file_size"] == smollm2_path.stat().st_size
    assert meta["has_chat_template"] is True
    assert (tokendice_home / "data" / "tokendice.sqlite3").exists()


def test_models_list_human_readable():
    proc = run_cli(["models", "list"])
    assert proc.returncode == 0
    assert "bundled/SmolLM2-135M-Instruct-Q4_1 (default)" in proc.stdout
    assert "vocabulary:    49,152" in proc.stdout


@pytest.mark.parametrize("spec", ["default", "bundled/SmolLM2-135M-Instruct-Q4_1"])
def test_models_info_by_alias_and_id(spec: str):
    proc = run_cli(["models", "info", spec, "--json"])
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["metadata"]["vocab_size"] == 49152


def test_models_info_by_path(gemma_path: Path):
    proc = run_cli(["models", "info", str(gemma_path), "--json"])
    assert proc.returncode == 0, proc.stderr
    meta = json.loads(proc.stdout)["metadata"]
    assert meta["architecture"] == "gemma3" and meta["vocab_size"] == 262144 and not meta["has_chat_template"]


def test_missing_file_is_one_clear_line(tmp_path: Path):
    assert_one_line_error(run_cli(["models", "info", str(tmp_path / "nowhere.gguf")]), "does not exist")


def test_text_file_renamed_gguf_is_one_clear_line(tmp_path: Path):
    fake = tmp_path / "essay.gguf"
    fake.write_text("Once upon a time there was a language model.\n")
    assert_one_line_error(run_cli(["models", "info", str(fake)]), "essay.gguf", "not a GGUF model file")
    assert_one_line_error(run_cli(["gui", "--model", str(fake)]), "not a GGUF model file")


def test_unknown_model_name_is_one_clear_line():
    assert_one_line_error(run_cli(["models", "info", "llama-9000"]), "no model 'llama-9000'")


@pytest.mark.parametrize(
    "args",
    [["--frobnicate"], ["models", "list", "--colour"], ["models", "explode"], ["nonsense"], ["models"]],
)
def test_bad_flags_and_commands_are_one_clear_line(args: list[str]):
    proc = run_cli(args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tokendice") and "error:" in lines[0], proc.stderr


def test_info_json_names_the_data_folders(tokendice_home: Path):
    proc = run_cli(["info", "--json"])
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert data["tokendice"] == __version__
    assert data["paths"]["portable"] is True
    assert Path(data["paths"]["database"]).is_relative_to(tokendice_home)
    assert data["packages"]["llama-cpp-python"] == "0.3.36"
    backends = data["backends"]
    import llama_cpp

    if not llama_cpp.llama_supports_gpu_offload():  # a CPU-only build must say so, not pretend
        assert backends["summary"].startswith("no GPU backend in this build")
    assert any(d["kind"] == "cpu" for d in backends["devices"])


def test_unreadable_database_is_one_clear_line(tokendice_home: Path):
    db = tokendice_home / "data" / "tokendice.sqlite3"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"garbage" * 1000)
    assert_one_line_error(run_cli(["models", "list"]), "cannot be opened")


@pytest.mark.parametrize("command", [["gui", "--smoke-test"], ["gui", "--smoke-test", "--model", "default"]])
def test_gui_starts_with_the_bundled_model(command: list[str]):
    proc = run_cli(command, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "smoke test: window shown with SmolLM2 135M Instruct" in proc.stdout


def test_gui_script_entry_point_starts(tmp_path: Path):
    import os

    launcher = Path(sys.executable).parent / "tokendice-gui"
    proc = subprocess.run(
        [str(launcher), "--smoke-test"], capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )
    assert proc.returncode == 0, proc.stderr
    assert "window shown" in proc.stdout
