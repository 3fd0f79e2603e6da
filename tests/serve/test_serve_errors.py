"""What ``tokendice serve`` refuses, each time in OpenAI's error shape with its status: a missing or wrong
API key, another model, a path it does not serve, a malformed or oversized request, a full queue; and the
command lines it refuses to start with."""

from __future__ import annotations

import json
import signal
import subprocess
import threading

import httpx2
import openai
import pytest

from tests.helpers import fake_gguf
from tests.model_servers import free_port
from tests.serve.serving import (
    BUNDLED_ID,
    Served,
    assert_error,
    serve_command,
    server_env,
    serving,
    sse,
    start,
    wait_until,
)

KEY = "sesame"
AUTH = {"Authorization": f"Bearer {KEY}"}
CAP = 10
MAX_BODY = 4096
ALLOWED = "http://allowed.test"
LONG_CHAT = "Write a very long story about a dragon who learns to bake bread."


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, smollm2_path) -> Served:
    """A server with a key, a small cap, a small body limit, room for one waiting request and one CORS
    origin."""
    with serving(
        tmp_path_factory.mktemp("serve-guarded"),
        *("--api-key", KEY, "--max-top-logprobs", str(CAP), "--max-body-bytes", str(MAX_BODY)),
        *("--queue", "1", "--cors", ALLOWED),
    ) as server:
        yield server


@pytest.fixture
def client(guarded: Served):
    with openai.OpenAI(base_url=guarded.v1, api_key=KEY, max_retries=0, timeout=120) as c:
        yield c


def _chat(**fields) -> dict:
    return {"model": BUNDLED_ID, "messages": user("Hi"), "max_tokens": 2, "temperature": 0} | fields


def _post(served: Served, path: str, body: dict | None = None, **kwargs) -> httpx2.Response:
    kwargs.setdefault("headers", AUTH)
    if body is not None:
        kwargs["json"] = body
    return httpx2.post(served.url + path, timeout=60, **kwargs)


# --- the key -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}])
def test_every_route_but_health_needs_the_key(guarded, headers):
    for path, body in (
        ("/v1/chat/completions", _chat()),
        ("/v1/completions", {"prompt": "Hi"}),
        ("/completion", {"prompt": "Hi", "n_predict": 1}),
        ("/tokenize", {"content": "Hi"}),
    ):
        assert_error(_post(guarded, path, body, headers=headers), 401)
    for path in ("/v1/models", "/props"):
        assert_error(httpx2.get(guarded.url + path, headers=headers, timeout=10), 401)
    assert httpx2.get(guarded.url + "/health", headers=headers, timeout=10).status_code == 200


def test_the_openai_client_with_a_wrong_key_and_with_the_right_one(guarded, client):
    with (
        openai.OpenAI(base_url=guarded.v1, api_key="wrong", max_retries=0) as stranger,
        pytest.raises(openai.AuthenticationError) as refused,
    ):
        stranger.chat.completions.create(model=BUNDLED_ID, messages=user("Hi"), max_tokens=1)
    assert refused.value.status_code == 401 and refused.value.message
    assert [m.id for m in client.models.list()] == [BUNDLED_ID]


# --- 404 ---------------------------------------------------------------------------------------------
def test_another_model_is_not_found(guarded, client):
    with pytest.raises(openai.NotFoundError) as refused:
        client.chat.completions.create(model="gpt-4o", messages=user("Hi"), max_tokens=1)
    assert refused.value.code == "model_not_found"
    error = assert_error(_post(guarded, "/v1/completions", {"model": "gpt-4o", "prompt": "Hi"}), 404)
    assert error["code"] == "model_not_found" and BUNDLED_ID in error["message"]


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/"), ("GET", "/v1/engines"), ("POST", "/v1/embeddings"), ("GET", "/static/index.html"),
     ("POST", "/v1/nothing")],
)  # fmt: skip
def test_a_path_that_is_not_served_is_not_found(guarded, method, path):
    answer = httpx2.request(method, guarded.url + path, headers=AUTH, json={}, timeout=10)
    assert_error(answer, 404)


# --- 400 ---------------------------------------------------------------------------------------------
def test_a_body_that_is_not_json_is_refused(guarded):
    for content in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        answer = _post(guarded, "/v1/chat/completions", content=content,
                       headers=AUTH | {"Content-Type": "application/json"})  # fmt: skip
        assert_error(answer, 400)


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v1/chat/completions", _chat(logprobs=True, top_logprobs=CAP + 1)),
        ("/v1/completions", {"prompt": "Hi", "max_tokens": 1, "logprobs": CAP + 1}),
        ("/v1/chat/completions", _chat(n=2)),
        ("/v1/completions", {"prompt": "Hi", "max_tokens": 1, "n": 2}),
        ("/v1/chat/completions", _chat(temperature="hot")),
        ("/v1/chat/completions", _chat(max_tokens=-1)),
        ("/v1/chat/completions", _chat(messages="Hi")),
        ("/v1/completions", {"prompt": 42}),
    ],
    ids=[
        "top_logprobs-cap",
        "logprobs-cap",
        "chat-n2",
        "completion-n2",
        "temperature",
        "max_tokens",
        "messages",
        "prompt",
    ],
)
def test_a_field_of_the_wrong_type_or_range_is_refused(guarded, path, body):
    assert_error(_post(guarded, path, body), 400)


def test_the_cap_itself_is_served(guarded, client):
    answer = client.chat.completions.create(
        model=BUNDLED_ID, messages=user("Hi"), max_tokens=1, logprobs=True, top_logprobs=CAP
    )
    assert len(answer.choices[0].logprobs.content[0].top_logprobs) == CAP
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model=BUNDLED_ID, messages=user("Hi"), max_tokens=1, logprobs=True, top_logprobs=CAP + 1
        )


# --- 413 ---------------------------------------------------------------------------------------------
def test_a_body_over_the_limit_is_refused(guarded):
    big = _chat(messages=user("word " * MAX_BODY))
    assert_error(_post(guarded, "/v1/chat/completions", big), 413)

    def chunked():  # no Content-Length: the server must count what it reads
        data = json.dumps(big).encode()
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    answer = _post(guarded, "/v1/chat/completions", content=chunked(),
                   headers=AUTH | {"Content-Type": "application/json"})  # fmt: skip
    assert_error(answer, 413)
    assert _post(guarded, "/v1/chat/completions", _chat()).status_code == 200  # still serving


# --- 429 ---------------------------------------------------------------------------------------------
def test_a_full_queue_refuses_at_once(guarded, client):
    """--queue 1: one request runs, one waits, the next is refused with 429 (not kept waiting)."""
    body = _chat(messages=user(LONG_CHAT), max_tokens=2000, stream=True)
    enough = threading.Event()

    def wait_in_line():  # until told, then it goes away (which cancels it)
        with (
            httpx2.Client(timeout=60, headers=AUTH) as b,
            b.stream("POST", guarded.url + "/v1/chat/completions", json=body) as waiting,
        ):
            for _ in sse(waiting):
                if enough.is_set():
                    return

    with (
        httpx2.Client(timeout=60, headers=AUTH) as a,
        a.stream("POST", guarded.url + "/v1/chat/completions", json=body) as running,
    ):
        assert running.status_code == 200
        events = sse(running)  # kept: a generator dropped half-read would close the connection
        next(events)
        wait_until(lambda: guarded.health()["running"] == 1, 10, "the first request runs")
        line = threading.Thread(target=wait_in_line)
        line.start()
        try:
            wait_until(lambda: guarded.health()["waiting"] == 1, 10, "the second request waits")
            error = assert_error(_post(guarded, "/v1/chat/completions", _chat()), 429)
            assert error["message"]
            with pytest.raises(openai.RateLimitError):
                client.completions.create(model=BUNDLED_ID, prompt="Hi", max_tokens=1)
            assert_error(_post(guarded, "/completion", {"prompt": "Hi", "n_predict": 1}), 429)
            assert guarded.health() | {"model": None} == {"status": "ok", "model": None, "running": 1,
                                                          "waiting": 1}  # fmt: skip
        finally:
            enough.set()
            running.close()  # the waiting one then runs, reads that it is enough, and goes too
            line.join(30)
    wait_until(lambda: guarded.health()["running"] == 0, 5, "the engine is free again")
    assert _post(guarded, "/v1/chat/completions", _chat()).status_code == 200


# --- CORS --------------------------------------------------------------------------------------------
def test_cors_headers_only_for_the_origins_given(guarded, served):
    got = httpx2.get(guarded.url + "/v1/models", headers=AUTH | {"Origin": ALLOWED}, timeout=10)
    assert got.status_code == 200 and got.headers.get("access-control-allow-origin") == ALLOWED
    preflight = httpx2.options(guarded.url + "/v1/chat/completions", timeout=10, headers={
        "Origin": ALLOWED, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})  # fmt: skip
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == ALLOWED
    other = httpx2.get(guarded.url + "/v1/models", headers=AUTH | {"Origin": "http://evil.test"}, timeout=10)
    assert "access-control-allow-origin" not in other.headers
    none = httpx2.get(served.url + "/v1/models", headers={"Origin": ALLOWED}, timeout=10)
    assert none.status_code == 200 and "access-control-allow-origin" not in none.headers


# --- starting and stopping ---------------------------------------------------------------------------
def _run_serve(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(serve_command(free_port(), *args), capture_output=True, text=True, timeout=120,
                          env=server_env(tmp_path / "home"))  # fmt: skip


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_listening_beyond_this_machine_needs_a_key(tmp_path, host):
    done = _run_serve(tmp_path, "--host", host)
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--api-key" in lines[0], done.stderr
    assert done.stdout == ""


def test_a_model_that_cannot_be_loaded_exits_1_with_one_line(tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(fake_gguf("broken"))
    for model in (str(broken), str(tmp_path / "missing.gguf")):
        done = _run_serve(tmp_path, "--model", model)
        assert done.returncode == 1, done
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].strip(), done.stderr


@pytest.mark.slow
def test_sigterm_stops_it_with_status_0_and_the_key_may_come_from_the_environment(tmp_path, smollm2_path):
    server = start(tmp_path / "home", env_key=KEY)
    try:
        assert_error(httpx2.get(server.url + "/v1/models", timeout=10), 401)
        assert httpx2.get(server.url + "/v1/models", headers=AUTH, timeout=10).status_code == 200
    finally:
        server.proc.send_signal(signal.SIGTERM)
        code = server.proc.wait(30)
    assert code == 0, server.stderr()
