"""llama.cpp's vocabulary check runs in a short-lived child process: its refusals keep their sentences, and
a child that aborts, hangs or cannot start is a sentence too while the caller lives on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.core.models.loadability import CHILD_ARG, ProbeUnavailable, child_command, load_problem
from tests.gguf_builders import tiny_gguf, vocabulary_aborting_gguf

ROOT = Path(__file__).resolve().parents[3]


def test_a_loadable_model_has_no_problem(smollm2_path: Path, gemma_path: Path):
    assert load_problem(smollm2_path) is None
    assert load_problem(gemma_path) is None


def test_an_unknown_architecture_keeps_todays_sentence(tmp_path: Path):
    problem = load_problem(tiny_gguf(tmp_path / "frob.gguf", "frobnicator"))
    assert problem == (
        "this version of llama.cpp cannot run it (unknown model architecture: 'frobnicator'); "
        "a newer TokenDice may"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX signal ends the child")
def test_a_child_that_aborts_in_llama_cpp_is_a_sentence_and_the_caller_lives(tmp_path: Path):
    """The file makes llama.cpp's vocabulary loader abort (a real GGML_ASSERT, SIGABRT): checked in this
    process, it would end the test run."""
    problem = load_problem(vocabulary_aborting_gguf(tmp_path / "duplicate-token.gguf"))
    assert problem == (
        "llama.cpp crashed (SIGABRT) while reading its vocabulary: the file may be damaged or unsupported"
    )
    assert load_problem(tiny_gguf(tmp_path / "fine.gguf")) is None  # and the next check works


def test_a_child_past_its_time_limit_is_killed_and_no_answer(smollm2_path: Path):
    with pytest.raises(
        ProbeUnavailable, match=r"^llama.cpp did not finish reading its vocabulary within 0.01 s"
    ):
        load_problem(smollm2_path, timeout=0.01)


def test_a_child_that_cannot_start_is_a_sentence(smollm2_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    with pytest.raises(ProbeUnavailable, match=r"^the llama.cpp check could not start \(No such file"):
        load_problem(smollm2_path)


def test_a_child_whose_llama_cpp_cannot_load_says_so(smollm2_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A broken installation (llama-cpp-python's library not found) is not blamed on the file."""
    monkeypatch.setenv("LLAMA_CPP_LIB_PATH", "/nonexistent")
    with pytest.raises(ProbeUnavailable) as raised:
        load_problem(smollm2_path)
    assert str(raised.value) == (
        "the llama.cpp check failed (FileNotFoundError: Shared library with base name 'llama' not found); "
        "reinstalling TokenDice may help"
    )


def test_the_frozen_launcher_hands_the_child_argument_to_the_probe(smollm2_path: Path, tmp_path: Path):
    """Even the windowed ``tokendice-gui`` executable, started with the child's argument, checks the file
    and prints its answer instead of opening a window."""
    script = (
        "import runpy, sys\n"
        "sys.executable = '/x/TokenDice/tokendice-gui'\n"
        f"sys.argv = ['tokendice-gui', {CHILD_ARG!r}, {str(tmp_path / 'frob.gguf')!r}]\n"
        f"runpy.run_path({str(ROOT / 'packaging' / 'tokendice_launcher.py')!r}, run_name='__main__')\n"
    )
    tiny_gguf(tmp_path / "frob.gguf", "frobnicator")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr
    [line] = [s for s in done.stdout.splitlines() if s.startswith("tokendice-probe-result: ")]
    answer = json.loads(line.split(": ", 1)[1])
    assert "unknown model architecture: 'frobnicator'" in answer["problem"]


def test_a_frozen_bundle_runs_its_console_executable_as_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    gui, console = tmp_path / "tokendice-gui", tmp_path / "tokendice"
    gui.touch()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(gui))
    assert child_command("m.gguf") == [str(gui), CHILD_ARG, "m.gguf"]  # no console twin: itself
    console.touch()
    assert child_command("m.gguf") == [str(console), CHILD_ARG, "m.gguf"]
    monkeypatch.setattr(sys, "frozen", False)
    assert child_command("m.gguf")[1:] == ["-m", "desktop_app.core.engine.probe", "m.gguf"]
