"""Talking HTTP to a model server: JSON requests, server-sent event streams, and every fault turned into
one sentence (:class:`RemoteError`) that says what happened and what to do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2

from desktop_app.core.remote.address import ServerAddress

#: Seconds to wait for a connection, and for each part of an answer (a token is one part of a stream).
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 120.0


class RemoteError(Exception):
    """A request to the server failed; ``str()`` is a sentence for the user. ``status`` is the HTTP
    status (None when no answer came); ``kind`` names the fault for callers that react to it:
    ``unreachable``, ``timeout``, ``auth``, ``not_found``, ``busy``, ``server``, ``refused``,
    ``cut``, ``malformed``, ``unsupported``."""

    def __init__(self, message: str, *, kind: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


class Connection:
    """One server, one HTTP client (kept alive between requests: a step is one small request)."""

    def __init__(self, address: ServerAddress, *, read_timeout: float = READ_TIMEOUT_S) -> None:
        self.address = address
        headers = {"Authorization": f"Bearer {address.api_key}"} if address.api_key else {}
        self._client = httpx2.Client(
            base_url=address.base,
            headers=headers,
            verify=address.verify,
            timeout=httpx2.Timeout(read_timeout, connect=CONNECT_TIMEOUT_S),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- requests ----------------------------------------------------------------------------------
    def get(self, path: str) -> Any:
        return self._json("GET", path, None)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._json("POST", path, body)

    def _json(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        with self._errors(path):
            response = self._client.request(method, path, json=body)
        self._check(response, path)
        return _decoded(response.content, path)

    def stream(self, path: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The JSON events of a server-sent event stream, until ``[DONE]`` or the end of the stream.
        Closing the iterator closes the connection (how a reply is stopped on the server)."""
        with self._errors(path), self._client.stream("POST", path, json=body) as response:
            if response.status_code >= 400:
                response.read()
                self._check(response, path)
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue  # comments, event names and the blank lines between events
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    return
                event = _decoded(data.encode(), path)
                if isinstance(event, dict) and "error" in event:
                    raise _error_event(event["error"])
                yield event

    # --- faults ------------------------------------------------------------------------------------
    def _errors(self, path: str):
        return _Faults(self.address, path)

    def _check(self, response: httpx2.Response, path: str) -> None:
        status = response.status_code
        if status < 400:
            return
        detail = _detail(response.content)
        where = self.address.base
        if status in (401, 403):
            said = "no API key was given" if not self.address.api_key else "the API key was refused"
            raise RemoteError(
                f"{where} refused the request ({status}): {said}. Check the server's API key.",
                kind="auth",
                status=status,
            )
        if status == 404:
            raise RemoteError(
                f"{where} has no {path}{': ' + detail if detail else ''}. It may not be a llama-server or "
                "OpenAI-compatible server, or the model name is not one it serves.",
                kind="not_found",
                status=status,
            )
        if status == 429:
            raise RemoteError(
                f"{where} is busy (too many requests): try again in a moment.", kind="busy", status=status
            )
        if status == 503:
            raise RemoteError(
                f"{where} is not ready{': ' + detail if detail else ''} (it may still be loading the model): "
                "try again in a moment.",
                kind="busy",
                status=status,
            )
        if status >= 500:
            raise RemoteError(
                f"{where} failed with HTTP {status}{': ' + detail if detail else ''}.",
                kind="server",
                status=status,
            )
        raise RemoteError(
            f"{where} refused the request (HTTP {status}){': ' + detail if detail else ''}.",
            kind="refused",
            status=status,
        )


class _Faults:
    """Turns the HTTP library's exceptions, raised inside a ``with`` block, into :class:`RemoteError`."""

    def __init__(self, address: ServerAddress, path: str) -> None:
        self.where = address.base
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, _type: object, exc: BaseException | None, _tb: object) -> None:
        if exc is None or isinstance(exc, RemoteError):
            return
        if isinstance(exc, httpx2.ConnectTimeout):
            raise RemoteError(
                f"{self.where} did not answer within {CONNECT_TIMEOUT_S:.0f} s: "
                "check the address and the network.",
                kind="timeout",
            ) from exc
        if isinstance(exc, httpx2.ConnectError):
            raise RemoteError(
                f"Nothing answers at {self.where}: is the server running, and is the address right? ({exc})",
                kind="unreachable",
            ) from exc
        if isinstance(exc, httpx2.TimeoutException):
            raise RemoteError(
                f"{self.where} stopped answering for more than {READ_TIMEOUT_S:.0f} s.", kind="timeout"
            ) from exc
        if isinstance(exc, (httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.NetworkError)):
            raise RemoteError(
                f"The connection to {self.where} was cut before the answer was complete "
                f"({exc or type(exc).__name__}).",
                kind="cut",
            ) from exc
        if isinstance(exc, httpx2.HTTPError):
            raise RemoteError(f"The request to {self.where} failed: {exc}", kind="unreachable") from exc


def _decoded(content: bytes, path: str) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        start = content[:80].decode("utf-8", "replace")
        raise RemoteError(
            f"The server's answer to {path} is not JSON (it began {start!r}): is this a model server?",
            kind="malformed",
        ) from None


def _detail(content: bytes) -> str:
    """The error message inside an error answer (OpenAI's and llama-server's shape), else its text."""
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return content[:200].decode("utf-8", "replace").strip()
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body))
        if isinstance(error, dict):
            return str(error.get("message") or error.get("msg") or "")[:300]
        if isinstance(error, list) and error and isinstance(error[0], dict):  # FastAPI's validation list
            return str(error[0].get("msg", ""))[:300]
        return str(error)[:300]
    return ""


def _error_event(error: Any) -> RemoteError:
    message = error.get("message") if isinstance(error, dict) else str(error)
    return RemoteError(f"The server stopped the reply: {message}", kind="server")
