"""``tokendice serve``: the model behind an OpenAI-compatible HTTP API (and the part of llama-server's that
TokenDice's own remote backend uses), with whole distributions. Parsing and printing only; the server is
:mod:`desktop_app.core.serve`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from desktop_app.cli.args import whole

API_KEY_ENV = "TOKENDICE_API_KEY"


def register(sub: Any, json_flag: Callable[[argparse.ArgumentParser], None]) -> dict[str, Callable]:
    from desktop_app.cli.engine import add_model_flags

    p = sub.add_parser(
        "serve",
        help="serve a model over an OpenAI-compatible API, with whole distributions",
        description="Serve a model at http://HOST:PORT/v1 (chat completions, completions, models; streamed "
        "or not; logprobs before any sampler, and TokenDice's own numbers for every token), plus the part "
        "of llama-server's API that `tokendice … --server URL` and the window's servers tab use. Requests "
        "wait in one queue, first come first served; Ctrl+C stops.",
    )
    add_model_flags(p, server=False)
    p.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=whole(1, 65535), default=8080, help="the port (8080)")
    p.add_argument(
        "--api-key",
        metavar="KEY",
        help=f"the key clients must send (default: ${API_KEY_ENV}); required to listen beyond this machine",
    )
    p.add_argument(
        "--max-top-logprobs",
        type=whole(1, 100_000),
        default=100,
        metavar="N",
        help="the most candidates a token may report (100; OpenAI's own limit is 20)",
    )
    p.add_argument(
        "--queue",
        type=whole(1, 10_000),
        default=32,
        metavar="N",
        help="requests that may wait for the model; more are refused with 429 (32)",
    )
    p.add_argument(
        "--cors",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow browser pages from ORIGIN (repeat for several; none by default)",
    )
    p.add_argument(
        "--max-body-bytes",
        type=whole(1024),
        default=1 << 20,
        metavar="N",
        help="the largest request body (1 MiB)",
    )
    return {"serve": cmd_serve}


def cmd_serve(args: argparse.Namespace) -> int:
    from desktop_app.cli.engine import open_engine
    from desktop_app.cli.errors import EXIT_USAGE
    from desktop_app.core.serve.options import ServeOptions, is_loopback

    key = args.api_key or os.environ.get(API_KEY_ENV) or None
    if not is_loopback(args.host) and not key:
        print(
            f"tokendice: error: listening on {args.host} lets other machines in: give an --api-key "
            f"(or set ${API_KEY_ENV}) first",
            file=sys.stderr,
        )
        return EXIT_USAGE

    from desktop_app.core.serve.app import ServeServer, serve_config
    from desktop_app.core.serve.worker import ServeWorker
    from desktop_app.core.services import Services

    services = Services.open(read_only_if_locked=True)
    try:
        model_id = services.library.resolve(args.model).id
    finally:
        services.close()
    options = ServeOptions(
        model_id,
        host=args.host,
        port=args.port,
        api_key=key,
        cap=args.max_top_logprobs,
        max_waiting=args.queue,
        max_body=args.max_body_bytes,
        cors=tuple(args.cors),
    )
    engine = open_engine(args)
    worker = ServeWorker(engine, max_waiting=options.max_waiting)
    server = ServeServer(
        serve_config(engine, worker, options), ready=f"TokenDice serves {model_id} at {options.address}"
    )
    try:
        server.run()
    finally:
        worker.close()
        engine.close()
    if not server.started:
        print(
            f"tokendice: error: could not listen on {args.host}:{args.port} (is it in use?)", file=sys.stderr
        )
        return 1
    return 0
