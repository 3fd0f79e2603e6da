"""What every route of the served API shares: the model, its engine and queue (:class:`Served`), reading a
request's JSON within the size limit, and noticing a client that goes away before its answer."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
from starlette.requests import Request

from desktop_app.core.engine.chat_template import ChatTemplate
from desktop_app.core.engine.engine import Engine
from desktop_app.core.serve.options import DEFAULT_CAP, DEFAULT_MAX_BODY
from desktop_app.core.serve.protocol import ApiError, Submitted, bad
from desktop_app.core.serve.worker import ServeWorker

T = TypeVar("T")


@dataclass
class Served:
    """The served model and how it is served."""

    engine: Engine
    worker: ServeWorker
    template: ChatTemplate
    model_id: str
    path: Path
    cap: int = DEFAULT_CAP
    max_body: int = DEFAULT_MAX_BODY
    api_key: str | None = None

    def check_model(self, body: dict[str, Any]) -> None:
        """A request for another model than the one served is a 404 that names the served one."""
        model = body.get("model")
        if model is None or model in (self.model_id, "default", self.path.name, self.path.stem):
            return
        raise ApiError(
            404,
            f"this server serves the model {self.model_id!r}, not {model!r}",
            code="model_not_found",
            param="model",
        )

    def piece(self, token: int) -> bytes:
        return self.engine.piece(token)

    @staticmethod
    def client(request: Request) -> str:
        return request.client.host if request.client else "a client"

    async def in_thread(self, fn: Callable[[], T]) -> T:
        """``fn()`` off the event loop (a template to render, a long prompt to tokenize)."""
        return await anyio.to_thread.run_sync(fn)


async def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object, read no further than the size limit (413 past it)."""
    served: Served = request.app.state.served
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > served.max_body:
        raise _too_large(served.max_body)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > served.max_body:
            raise _too_large(served.max_body)
    try:
        body = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise bad(f"the request is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise bad("the request must be a JSON object")
    return body


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"the request is larger than this server takes ({limit:,} bytes)", code="too_large")


@contextlib.asynccontextmanager
async def watch_disconnect(request: Request, submitted: Submitted) -> AsyncIterator[None]:
    """While the body runs, a client that disconnects abandons ``submitted`` (its request stops within
    one token, or never starts)."""

    async def watch() -> None:
        while True:
            message = await request.receive()
            if message.get("type") == "http.disconnect":
                submitted.abandon()
                return

    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        try:
            yield
        finally:
            group.cancel_scope.cancel()
