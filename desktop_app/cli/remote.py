"""``--server URL``: the engine commands on a model that runs on a server (llama-server, or any
OpenAI-compatible one). Parsing and printing only; the work is in :mod:`desktop_app.core.remote`."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from desktop_app.cli.errors import CliError
from desktop_app.cli.io import print_json
from desktop_app.cli.step_json import known

if TYPE_CHECKING:
    from desktop_app.core.engine.distribution import Distribution
    from desktop_app.core.remote.remote_session import RemoteSession

API_KEY_ENV = "TOKENDICE_API_KEY"
#: Flags that choose or shape a local model: meaningless with --server (the server chose its model).
_LOCAL_FLAGS = ("model", "ctx", "gpu_layers", "threads", "extra_buffers")


def add_server_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--server",
        metavar="URL",
        help="use the model of a llama-server or OpenAI-compatible server at URL (e.g. http://127.0.0.1:8080)",
    )
    p.add_argument(
        "--api-key",
        metavar="KEY",
        help=f"the server's API key (default: ${API_KEY_ENV}; an option is visible to other users of this "
        "machine, the variable is not)",
    )
    p.add_argument("--server-model", metavar="NAME", help="which of the server's models (default: its first)")
    p.add_argument(
        "--insecure",
        action="store_true",
        help="do not check the server's TLS certificate (a self-signed one)",
    )


def _address(args: argparse.Namespace):
    from desktop_app.core.remote.connection import ServerAddress

    given = [f"--{name.replace('_', '-')}" for name in _LOCAL_FLAGS if getattr(args, name, None) is not None]
    if given:
        raise CliError(
            f"{', '.join(given)} choose a local model: with --server the server has chosen its own"
        )
    try:
        return ServerAddress(
            args.server, args.api_key or os.environ.get(API_KEY_ENV) or None, not args.insecure
        )
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def server_request(args: argparse.Namespace):
    """What ``chat --server`` loads: the server's model, through the conversation's backend."""
    from desktop_app.core.remote.load_request import ServerLoadRequest

    return ServerLoadRequest(_address(args), args.server_model)


@contextmanager
def remote_session(args: argparse.Namespace) -> Iterator[RemoteSession]:
    """Connect to ``--server`` and probe it; every fault is one CLI error."""
    from desktop_app.core.remote.connection import Connection, RemoteError
    from desktop_app.core.remote.remote_session import RemoteSession
    from desktop_app.core.remote.server_info import probe

    conn = Connection(_address(args))
    try:
        yield RemoteSession(conn, probe(conn, args.server_model))
    except RemoteError as exc:
        raise CliError(str(exc)) from exc
    except ValueError as exc:  # a setting the server's report cannot serve (the repeat penalty)
        raise CliError(str(exc)) from exc
    finally:
        conn.close()


def _messages(args: argparse.Namespace, text: str) -> list[dict]:
    from desktop_app.core.engine.chat import build_messages

    return build_messages(text, args.system)


def _candidates(d, pieces: list[bytes], n: int, eog: frozenset[int]) -> list[dict[str, Any]]:
    return [
        _token(d, i, pieces[i], eog) | {"removed_by": d.removed_by[i]} for i in range(min(n, len(pieces)))
    ]


def _token(d, i: int, piece: bytes, eog: frozenset[int]) -> dict[str, Any]:
    from desktop_app.core.engine.tokens import piece_label

    token = int(d.candidates[i])
    return {
        "id": token if token >= 0 else None,  # a text-only server names tokens without numbering them
        "piece": piece.decode("utf-8", "replace"),
        "bytes": piece.hex(),
        "label": piece_label(piece),
        "p_raw": known(float(d.p_raw[i])),
        "p_final": known(float(d.p_final[i])),
        "end": token in eog,
    }


def cmd_probs(args: argparse.Namespace, settings, text: str) -> int:
    import random

    from desktop_app.core.remote.remote_session import RemotePrompt
    from desktop_app.core.remote.reported import REST, judge

    if args.system and not args.chat:
        raise CliError("--system needs --chat: a system message only exists in a chat template")
    if settings.think_wait or settings.think_budget:
        raise CliError("--think-wait and --think-budget are for a model loaded here, not on a server")
    with remote_session(args) as session:
        info = session.info
        prompt = None
        d: Distribution
        u = None if settings.greedy else random.Random(settings.seed).random()
        if info.native:
            shown = session.render(_messages(args, text)) if args.chat else text
            prompt = session.prompt(shown, chat=args.chat)
            assert prompt.tokens is not None  # the native API gives them
            judged, d, chosen_piece = session.step(prompt.tokens, settings, u=u, top_n=args.top)
        else:  # no ids: TokenDice's die over the reported candidates, the server cannot pick from the rest
            if args.chat:
                rep = session.reported_chat(_messages(args, text), args.top)
            else:
                rep = session.reported(RemotePrompt(text), top_n=args.top)
            judged = judge(rep, settings)
            index = judged.roll(u)
            chosen_piece = rep.pieces[index] if index != REST else None
            d = judged.distribution(int(rep.ids[index if index != REST else 0]), settings=settings, u=u)
        pieces = list(judged.reported.pieces)
        if len(d.candidates) > len(pieces):  # the token the server picked from the rest
            pieces.append(chosen_piece or b"")
        candidates = _candidates(d, pieces, args.top, info.eog_ids)
        fell_in_rest = chosen_piece is None
        from_rest = info.native and math.isnan(float(d.p_raw[d.chosen_index]))
        data = {
            "server": session.conn.address.base,
            "server_kind": info.kind,
            "model": info.model or (info.models[0] if info.models else None),
            "prompt_tokens": list(prompt.tokens or ()) if prompt is not None else None,
            "candidates": candidates,
            "rest_p_raw": d.rest_p_raw,
            "rest_p_final": d.rest_p_final,
            "eos_probability": d.eos_p_raw if info.native else None,
            "u": d.u,
            "chosen": None if chosen_piece is None else _token(d, d.chosen_index, chosen_piece, info.eog_ids),
            "from_rest": from_rest or fell_in_rest,
            "settings": settings.to_dict(),
            "not_available": dict(info.missing),
        }
    if args.json:
        print_json(data)
        return 0
    print(f"{info.describe()} · {len(candidates)} candidates reported")
    print(f"{'token':>24}  {'id':>7}  {'p(model)':>9}  {'p(final)':>9}")
    for c in candidates:
        mark = "  ← end" if c["end"] else ""
        ident = "" if c["id"] is None else c["id"]
        print(f"{c['label'][:24]:>24}  {ident!s:>7}  {_pct(c['p_raw'])}  {_pct(c['p_final'])}{mark}")
    print(f"{'the rest, not reported':>24}  {'':>7}  {d.rest_p_raw:9.2%}  {d.rest_p_final:9.2%}")
    if d.u is not None:
        if fell_in_rest:
            print(f"the die rolled u = {d.u:.4f}: it fell in the rest, which this server does not itemise")
        else:
            where = " (from the rest: the server picked it)" if from_rest else ""
            print(f"the die rolled u = {d.u:.4f} and picked {data['chosen']['label']!r}{where}")
    return 0


def _pct(p: float | None) -> str:
    return f"{'?':>9}" if p is None else f"{p:9.2%}"


def cmd_generate(args: argparse.Namespace, settings, text: str) -> int:
    from desktop_app.cli.step_json import step_data
    from desktop_app.core.remote.connection import RemoteError
    from desktop_app.core.remote.remote_session import RemotePrompt
    from desktop_app.core.remote.server_info import NEEDS_IDS
    from desktop_app.core.remote.service import STOP_SERVER_FAILED

    if args.system and not args.chat:
        raise CliError("--system needs --chat: a system message only exists in a chat template")
    if settings.think_wait or settings.think_budget:
        raise CliError("--think-wait and --think-budget are for a model loaded here, not on a server")
    with remote_session(args) as session:
        info = session.info
        messages = _messages(args, text) if args.chat else None
        # TokenDice's die is needed to replace the end token with " Wait": each token one request.
        die = args.step_by_step or settings.wait_count > 0
        if not info.native and (die or settings.ban_eos):
            what = "--step-by-step" if args.step_by_step else "--wait" if settings.wait_count else "--ban-eos"
            raise CliError(f"{what} needs llama-server: {NEEDS_IDS.split(': ', 1)[0]}")
        if info.native:
            prompt = session.prompt(session.render(messages) if messages else text, chat=messages is not None)
            assert prompt.tokens is not None  # the native API gives them
            if die:
                reply = session.generate(prompt.tokens, settings, max_tokens=args.max_tokens, stop=args.stop)
            else:
                reply = session.stream(settings, prompt=prompt, max_tokens=args.max_tokens, stop=args.stop)
        else:
            prompt = None if messages else RemotePrompt(text)
            reply = session.stream(settings, prompt=prompt, messages=messages, max_tokens=args.max_tokens,
                                   stop=args.stop)  # fmt: skip
        out: list[dict[str, Any]] = []
        failure = None
        try:
            for step in reply:
                if not args.json:
                    sys.stdout.write(step.text)
                    sys.stdout.flush()
                out.append(step_data(step))
        except RemoteError as exc:
            failure = str(exc)  # the tokens that came are kept and printed
        r = reply.result
    data = {
        "server": session.conn.address.base,
        "server_kind": info.kind,
        "text": r.text,
        "tokens": out,
        "stop_reason": STOP_SERVER_FAILED if failure else r.stop_reason,
        "sampled_by": "tokendice" if die else "server",
        "seed": reply.seed,  # the rolls' seed (TokenDice's die), or the one the server was given
        "error": failure,
        "timings": {
            "decode_ms": round(r.decode_ms, 3),
            "decode_tokens_per_s": round(r.decode_tokens_per_s, 3),
        },
        "settings": settings.to_dict(),
    }
    if args.json:
        print_json(data)
    else:
        sys.stdout.write(
            f"\n[{data['stop_reason']}: {r.generated} tokens, {r.decode_tokens_per_s:.1f} tokens/s]\n"
        )
    if failure:
        raise CliError(failure)
    return 0


def cmd_tokens(args: argparse.Namespace, text: str) -> int:
    from desktop_app.core.engine.tokens import piece_label

    with remote_session(args) as session:
        split = session.tokenize_pieces(text, special=args.special)
        ids, pieces = [t for t, _ in split], [p for _, p in split]
        data = {
            "server": session.conn.address.base,
            "n_vocab": session.info.n_vocab,
            "n_tokens": len(ids),
            "tokens": [
                {"id": t, "piece": p.decode("utf-8", "replace"), "bytes": p.hex(), "label": piece_label(p)}
                for t, p in zip(ids, pieces, strict=True)
            ],
        }
    if args.json:
        print_json(data)
    else:
        print(f"{len(ids)} tokens")
        for t in data["tokens"]:
            print(f"{t['id']:>8}  {t['label']}")
    return 0


def cmd_template(args: argparse.Namespace, messages: list[dict]) -> int:
    if args.template or args.no_generation_prompt:
        raise CliError(
            "--template and --no-generation-prompt work on a local model: the server applies its own"
        )
    with remote_session(args) as session:
        rendered = session.render(messages)
        ids = session.tokenize(rendered, special=True)
        data = {
            "server": session.conn.address.base,
            "template_source": "server",
            "template": session.info.chat_template,
            "prompt": rendered,
            "tokens": ids,
            "n_tokens": len(ids),
            "n_ctx": session.info.n_ctx,
        }
    if args.json:
        print_json(data)
    else:
        print(f"[template: the server's; {len(ids)} tokens]")
        print(rendered)
    return 0
