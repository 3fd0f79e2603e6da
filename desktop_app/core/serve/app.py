"""The served API as an ASGI application (Starlette, run by uvicorn): OpenAI's routes, llama-server's
that TokenDice's remote backend uses, ``/health``; nothing else is served. Safe by default: an API key,
when one is set, is required on every route but ``/health``; no CORS headers unless origins are given;
request bodies are capped; every error is OpenAI's JSON shape with its status."""

from __future__ import annotations

import hmac
import time
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from desktop_app.core.engine.chat import template_for
from desktop_app.core.engine.engine import Engine
from desktop_app.core.serve import native_routes, openai_routes
from desktop_app.core.serve.context import Served
from desktop_app.core.serve.options import ServeOptions
from desktop_app.core.serve.protocol import ApiError
from desktop_app.core.serve.worker import ServeWorker

OPEN_PATHS = frozenset({"/health"})


async def health(request: Request) -> Response:
    served: Served = request.app.state.served
    status = served.worker.status()
    return JSONResponse(
        {
            "status": "ok",
            "model": served.model_id,
            "running": int(status.running is not None),
            "waiting": status.waiting,
        }
    )


async def models(request: Request) -> Response:
    served: Served = request.app.state.served
    created = int(served.path.stat().st_mtime) if served.path.exists() else int(time.time())
    meta = {"n_vocab": served.engine.n_vocab, "n_ctx": served.engine.n_ctx}
    model = {
        "id": served.model_id,
        "object": "model",
        "created": created,
        "owned_by": "tokendice",
        "meta": meta,
    }
    return JSONResponse({"object": "list", "data": [model]})


class KeyRequired:
    """Every route but ``/health`` needs ``Authorization: Bearer KEY`` (compared in constant time)."""

    def __init__(self, app: ASGIApp, key: str | None) -> None:
        self.app, self.key = app, key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.key
            and scope["type"] == "http"
            and scope["path"] not in OPEN_PATHS
            and scope["method"] != "OPTIONS"
        ):
            given = ""
            for name, value in scope.get("headers", ()):
                if name == b"authorization":
                    given = value.decode("latin-1")
            scheme, _, token = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                token.strip().encode(), self.key.encode()
            ):
                why = "a wrong API key" if given else "no API key"
                error = ApiError(
                    401, f"this server needs its API key ({why} was given)", code="invalid_api_key"
                )
                await JSONResponse(error.body(), status_code=401)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = ApiError(404, f"nothing is served at {request.url.path}", code="not_found")
    elif exc.status_code == 405:
        error = ApiError(
            405, f"{request.method} is not served at {request.url.path}", code="method_not_allowed"
        )
    else:
        error = ApiError(exc.status_code, str(exc.detail), code="http_error")
    return JSONResponse(error.body(), status_code=error.status)


def build_app(served: Served, *, cors: Sequence[str] = ()) -> Starlette:
    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/chat/completions", openai_routes.chat_completions, methods=["POST"]),
        Route("/v1/completions", openai_routes.completions, methods=["POST"]),
        Route("/props", native_routes.props, methods=["GET"]),
        Route("/tokenize", native_routes.tokenize, methods=["POST"]),
        Route("/detokenize", native_routes.detokenize, methods=["POST"]),
        Route("/apply-template", native_routes.apply_template, methods=["POST"]),
        Route("/completion", native_routes.completion, methods=["POST"]),
    ]
    middleware = [Middleware(KeyRequired, key=served.api_key)]
    if cors:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
            ),
        )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
    )
    app.state.served = served
    return app


class ServeServer(uvicorn.Server):
    """uvicorn's server, saying ``ready`` on standard output once it listens (what a script waits for)."""

    def __init__(self, config: uvicorn.Config, *, ready: str) -> None:
        super().__init__(config)
        self.ready = ready

    def handle_exit(self, sig: int, frame) -> None:
        """Ctrl+C or SIGTERM stops the server, and that is the end asked for: the process exits with 0
        (uvicorn would raise the signal again once shut down)."""
        super().handle_exit(sig, frame)
        self._captured_signals.clear()

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self.started:
            print(self.ready, flush=True)


def serve_config(engine: Engine, worker: ServeWorker, options: ServeOptions) -> uvicorn.Config:
    """uvicorn's configuration for serving ``engine``'s model through ``worker`` as ``options`` say."""
    template = template_for(engine, options.template_override)
    served = Served(
        engine,
        worker,
        template,
        options.model_id,
        Path(engine.path),
        cap=options.cap,
        max_body=options.max_body,
        api_key=options.api_key,
    )
    return uvicorn.Config(
        build_app(served, cors=options.cors),
        host=options.host,
        port=options.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
