"""``tokendice serve`` as a real subprocess on a free loopback port, and what its tests read from it:
the ready line, server-sent events, OpenAI's error shape.

The server is started the way a user starts it (``python -m desktop_app serve ...``) with its own
TokenDice home, its standard output and error in files (nothing can block on a full pipe), and is
stopped with SIGINT, after which it must exit with status 0.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from tests.model_servers import free_port

#: What the server prints on standard output once it answers.
READY = re.compile(r"^TokenDice serves (?P<model>\S+) at (?P<url>http://\S+)/v1$")
#: The bundled model's library id (``tokendice models list --json``), which the server serves it as.
BUNDLED_ID = "bundled/SmolLM2-135M-Instruct-Q4_1"
START_TIMEOUT_S = 90.0


@dataclass
class Served:
    proc: subprocess.Popen
    url: str  # http://127.0.0.1:PORT, without /v1
    model: str  # the served model's id, as the ready line names it
    out: Path
    err: Path
    _http: httpx2.Client | None = field(default=None, repr=False, compare=False)

    @property
    def v1(self) -> str:
        return self.url + "/v1"

    def stderr(self) -> str:
        return self.err.read_text(errors="replace") if self.err.exists() else ""

    def health(self) -> dict:
        """/health, on one kept connection: the tests poll it every 10 ms while they time the engine, and a
        new client for each poll (27 ms of CPU to build) would keep a core busy and slow the engine they
        time."""
        answer = self._poller().get(self.url + "/health")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def _poller(self) -> httpx2.Client:
        if self._http is None:
            self._http = httpx2.Client(timeout=5)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None


def server_env(home: Path, api_key: str | None = None) -> dict[str, str]:
    """The test's environment with its own TokenDice home, offline, and no API key but ``api_key``."""
    env = dict(os.environ)
    env.update(TOKENDICE_HOME=str(home), HF_HUB_OFFLINE="1")
    env.pop("TOKENDICE_API_KEY", None)
    if api_key is not None:
        env["TOKENDICE_API_KEY"] = api_key
    return env


def serve_command(port: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "desktop_app", "serve", "--port", str(port), *args]


def start(home: Path, *args: str, env_key: str | None = None) -> Served:
    """``tokendice serve --port FREE ARGS`` (``--model default --ctx 2048`` unless ARGS name them),
    once its ready line is printed and /health answers 200."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    defaults = [*(["--model", "default"] if "--model" not in args else []),
                *(["--ctx", "2048"] if "--ctx" not in args else [])]  # fmt: skip
    out, err = home / f"serve-{port}.out", home / f"serve-{port}.err"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            serve_command(port, *defaults, *args),
            stdout=o,
            stderr=e,
            env=server_env(home, env_key),
            start_new_session=True,  # a Ctrl-C in the terminal stops pytest, which then stops it
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"tokendice serve exited with {proc.returncode} before it was ready:\n"
                f"{err.read_text(errors='replace')[-3000:]}"
            )
        lines = out.read_text(errors="replace").splitlines()
        ready = READY.match(lines[0]) if lines else None
        if ready:
            served = Served(proc, ready["url"], ready["model"], out, err)
            try:
                if httpx2.get(served.url + "/health", timeout=2).status_code == 200:
                    assert served.url == f"http://127.0.0.1:{port}", lines[0]
                    return served
            except httpx2.HTTPError:
                pass
        time.sleep(0.1)
    proc.kill()
    proc.wait(10)
    raise RuntimeError(
        f"tokendice serve was not ready within {START_TIMEOUT_S:.0f} s:\n{err.read_text()[-3000:]}"
    )


def stop(served: Served, timeout: float = 30.0) -> int | None:
    """SIGINT, then its exit status (None, after a SIGKILL, when it did not stop within ``timeout``)."""
    served.close()
    if served.proc.poll() is None:
        served.proc.send_signal(signal.SIGINT)
        try:
            served.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            served.proc.kill()
            served.proc.wait(10)
            return None
    return served.proc.returncode


@contextmanager
def serving(home: Path, *args: str, env_key: str | None = None) -> Iterator[Served]:
    """A server for the ``with`` block; on a clean exit it must stop on SIGINT with status 0."""
    served = start(home, *args, env_key=env_key)
    try:
        yield served
    except BaseException:
        stop(served)
        raise
    code = stop(served)
    assert code == 0, f"tokendice serve exited with {code} on SIGINT:\n{served.stderr()[-3000:]}"


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``condition`` until it holds (failing with ``what`` after ``timeout`` s); the seconds it took."""
    t0 = time.monotonic()
    while not condition():
        assert time.monotonic() - t0 < timeout, f"{what} within {timeout} s"
        time.sleep(0.01)
    return time.monotonic() - t0


def sse(response: httpx2.Response) -> Iterator[dict]:
    """The JSON of each ``data:`` event of a streamed answer, up to ``data: [DONE]`` (which must come)."""
    for line in response.iter_lines():
        if not line.startswith("data:"):
            assert not line.strip() or line.startswith(":"), f"not a server-sent event line: {line!r}"
            continue
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            return
        yield json.loads(data)
    raise AssertionError("the stream ended without data: [DONE]")


def assert_error(response: httpx2.Response, status: int, code: str | None = None) -> dict:
    """``response`` is OpenAI's error shape with ``status`` (and ``code``, when given); its error."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"message", "type", "code"} <= set(error), error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    assert isinstance(error["type"], str) and error["type"], error
    if code is not None:
        assert error["code"] == code, error
    return error
