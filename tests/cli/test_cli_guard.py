"""The commands that load a model run in a child: llama.cpp's aborts and crashes become one line, status 3.

Real faults throughout: a GGUF that makes llama.cpp abort on a GGML_ASSERT, real SIGSEGV and SIGKILL sent
to the engine's process mid-generation, real Ctrl+C to the process group.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_app.cli.guard import EXIT_ENGINE_CRASHED, LOG_ENV, LOG_NAME, crash_sentence
from desktop_app.core.native_exit import abort_reason
from tests.helpers import asserting_gguf, run_cli

ASSERT_TEXT = "GGML_ASSERT(eps >= 0.0f) failed"


@pytest.fixture(scope="module")
def asserting_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return asserting_gguf(tmp_path_factory.mktemp("damaged"))


def _log(home: Path) -> Path:
    return home / "logs" / LOG_NAME


def _assert_one_clean_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "#0 " not in stderr and "0x" not in stderr
    return lines[0]


# --- the damaged file --------------------------------------------------------------------------------


def test_the_asserting_gguf_loads_then_aborts_at_the_first_evaluation(asserting_model: Path):
    script = (
        "import sys, llama_cpp\n"
        "m = llama_cpp.Llama(sys.argv[1], n_ctx=128, verbose=False)\n"
        "print('loaded', flush=True)\n"
        "m.eval(m.tokenize(b'hi'))\n"
        "print('evaluated', flush=True)\n"
    )
    env = {**os.environ, "GGML_NO_BACKTRACE": "1"}
    r = subprocess.run(
        [sys.executable, "-c", script, str(asserting_model)], capture_output=True, text=True, env=env
    )
    assert r.returncode == -signal.SIGABRT, r.stderr
    assert r.stdout == "loaded\n"
    assert ASSERT_TEXT in r.stderr
    assert asserting_gguf(asserting_model.parent) == asserting_model  # one copy per folder


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_an_abort_in_llama_cpp_is_one_line_with_its_reason(
    asserting_model: Path, tokendice_home: Path, json_flag: list[str]
):
    r = run_cli(["probs", "--model", str(asserting_model), *json_flag, "hi"])
    assert r.returncode == EXIT_ENGINE_CRASHED
    assert r.stdout == ""
    line = _assert_one_clean_line(r.stderr)
    log = _log(tokendice_home)
    assert line == (
        f"tokendice: llama.cpp crashed (SIGABRT: {ASSERT_TEXT} at ops.cpp:"
        + line.split("ops.cpp:")[1].split(")")[0]
        + ") while running 'probs'; the model file may be damaged or unsupported; "
        f"details in {log.resolve()}"
    )
    text = log.read_text()
    assert ASSERT_TEXT in text and "tokendice probs --model" in text


# --- signals from outside, mid-generation -------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # it ended while we looked
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _start_generation(**popen) -> tuple[subprocess.Popen, int, bytes]:
    """A long ``tokendice generate``, once it has streamed its first text: (parent, child pid, text)."""
    args = ["generate", "--ban-eos", "--max-tokens", "1500", "--ctx", "2048", "--seed", "1"]
    args.append("Once upon a time")
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_app", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
        **popen,
    )
    first = os.read(proc.stdout.fileno(), 4096)  # blocks until the first tokens are out
    assert first, proc.communicate()
    [child] = _children(proc.pid)
    return proc, child, first


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the child through /proc")
@pytest.mark.parametrize(
    ("signum", "expected"),
    [
        (signal.SIGSEGV, "llama.cpp crashed (SIGSEGV) while running 'generate'; the model file may be"),
        (signal.SIGKILL, "the engine was killed (SIGKILL) while running 'generate', perhaps for lack of"),
    ],
)
def test_a_crashed_or_killed_engine_is_one_line_and_keeps_the_streamed_text(
    tokendice_home: Path, signum: int, expected: str
):
    proc, child, first = _start_generation()
    try:
        os.kill(child, signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == EXIT_ENGINE_CRASHED
    line = _assert_one_clean_line(err.decode())
    assert line.startswith(f"tokendice: {expected}") and line.endswith(
        f"details in {_log(tokendice_home).resolve()}"
    )
    assert len(first + out) > 0 and b"[length" not in out  # the text so far, and no end summary


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the child through /proc")
@pytest.mark.parametrize("to", ["process group", "parent only"])
def test_ctrl_c_stops_the_child_as_before(to: str):
    proc, child, _ = _start_generation(start_new_session=True)
    try:
        if to == "process group":  # what a terminal's Ctrl+C does
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert err.decode() == "tokendice: interrupted\n"
    assert not Path(f"/proc/{child}").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_tokendice_leaves_no_engine_running():
    proc, child, _ = _start_generation()
    proc.kill()
    proc.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "Z":  # dead, waiting for init to reap it
            break
        time.sleep(0.05)
    else:
        assert not Path(f"/proc/{child}").exists()


# --- normal runs are unchanged ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["probs", "--json", "--seed", "3", "The capital of France is"], None),
        (["tokens", "臺灣 hello"], None),
        (["template", "--json", "--system", "Be brief.", "Hello"], None),
        (["tokens", "--json", "-"], "from standard input"),
    ],
)
def test_normal_commands_print_the_same_through_the_child(tokendice_home: Path, args: list[str], stdin):
    guarded = run_cli(args, input=stdin)
    assert guarded.returncode == 0 and guarded.stderr == "", guarded.stderr
    log = _log(tokendice_home)
    assert f"tokendice {' '.join(args)}" in log.read_text()  # it ran in a child
    os.environ[LOG_ENV] = str(tokendice_home / "direct.log")  # as the child itself: no second process
    try:
        direct = run_cli(args, input=stdin)
    finally:
        del os.environ[LOG_ENV]
    assert direct.returncode == 0 and direct.stdout == guarded.stdout
    if "--json" in args:
        json.loads(guarded.stdout)


def test_a_cli_error_in_the_child_is_its_usual_line(tokendice_home: Path, tmp_path: Path):
    missing = tmp_path / "nowhere.gguf"
    r = run_cli(["tokens", "--model", str(missing), "hi"])
    assert r.returncode == 1 and r.stdout == ""
    line = _assert_one_clean_line(r.stderr)
    assert line.startswith("tokendice: error: ") and "nowhere.gguf" in line
    assert f"tokendice tokens --model {missing}" in _log(tokendice_home).read_text()
    r = run_cli(["probs", "--system", "s", "hi"])
    assert (r.returncode, r.stderr) == (
        1,
        "tokendice: error: --system needs --chat: a system message only exists in a chat template\n",
    )


def test_commands_that_load_no_model_run_in_one_process(tokendice_home: Path):
    assert run_cli(["info", "--json"]).returncode == 0
    assert run_cli(["models", "list", "--json"]).returncode == 0
    assert not _log(tokendice_home).exists()


# --- the sentence ------------------------------------------------------------------------------------


def test_the_reason_is_read_from_ggml_and_cxx_aborts():
    ggml = "load ok\n/src/ggml-cpu/ops.cpp:4132: GGML_ASSERT(eps >= 0.0f) failed\n#0 0x1 in wait4.c:30\n"
    assert abort_reason(ggml) == "GGML_ASSERT(eps >= 0.0f) failed at ops.cpp:4132"
    cxx = "terminate called after throwing an instance of 'std::out_of_range'\n  what():  vector::_M_range\n"
    assert abort_reason(cxx) == "std::out_of_range: vector::_M_range"
    assert abort_reason("nothing useful\n") is None
    assert crash_sentence(signal.SIGILL, "tokens", Path("/l"), "").startswith(
        "llama.cpp crashed (SIGILL) while running 'tokens'; this llama.cpp build may need a newer CPU"
    )
