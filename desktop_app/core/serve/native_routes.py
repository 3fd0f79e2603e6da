"""The part of llama-server's own API that TokenDice's remote backend uses (``--server URL``, the window's
*On a server* tab): ``/props``, ``/tokenize``, ``/detokenize``, ``/apply-template`` and ``/completion``
with ``n_probs``, answered as llama-server answers them. So one teacher's TokenDice serves, and the
students' TokenDice windows step through the model with their own die."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from desktop_app import __version__
from desktop_app.core.engine.chat_template import TemplateError
from desktop_app.core.engine.session import STOP_EOG, STOP_STRING, Step
from desktop_app.core.serve.context import Served, read_json, watch_disconnect
from desktop_app.core.serve.protocol import (
    ApiError,
    StreamedText,
    Submitted,
    bad,
    chosen_p_raw,
    count,
    ln,
    sampling,
    top_candidates,
)
from desktop_app.core.serve.worker import Failed, Finished, Picked, Shown

#: llama-server's sampler names, and the settings that turn each off when a request leaves it out.
NEUTRAL = {
    "top_k": {"top_k": 0},
    "top_p": {"top_p": 1.0},
    "min_p": {"min_p": 0.0},
    "temperature": {"temperature": 1.0},
    "penalties": {"repeat_penalty": 1.0, "frequency_penalty": 0.0, "presence_penalty": 0.0},
}


def _piece_json(piece: bytes) -> str | list[int]:
    """A piece as llama-server writes it: text when it is whole UTF-8, else its byte values."""
    try:
        return piece.decode("utf-8")
    except UnicodeDecodeError:
        return list(piece)


def _text(piece: bytes) -> str:
    return piece.decode("utf-8", errors="replace")


async def props(request: Request) -> Response:
    served: Served = request.app.state.served
    engine = served.engine
    others = sorted(t for t in engine.eog_ids if t != engine.eos_id)
    answer: dict[str, Any] = {
        "default_generation_settings": {"n_ctx": engine.n_ctx},
        "total_slots": 1,
        "model_path": str(served.path),
        "chat_template": served.template.source_text,
        "bos_token": engine.token_text(engine.bos_id) if engine.bos_id >= 0 else "",
        "eos_token": engine.token_text(engine.eos_id) if engine.eos_id >= 0 else "",
        "build_info": f"TokenDice {__version__}",
    }
    if others:
        answer["eot_token"] = engine.token_text(others[0])
    return JSONResponse(answer)


async def tokenize(request: Request) -> Response:
    served: Served = request.app.state.served
    body = await read_json(request)
    content = body.get("content", "")
    if not isinstance(content, str):
        raise bad("content must be text", "content")
    engine = served.engine
    ids = await served.in_thread(
        lambda: engine.tokenize(
            content,
            add_bos=body.get("add_special") is True,
            special=body.get("parse_special", True) is not False,
        )
    )
    if body.get("with_pieces") is True:
        return JSONResponse({"tokens": [{"id": t, "piece": _piece_json(engine.piece(t))} for t in ids]})
    return JSONResponse({"tokens": ids})


async def detokenize(request: Request) -> Response:
    served: Served = request.app.state.served
    body = await read_json(request)
    tokens = body.get("tokens", [])
    n_vocab = served.engine.n_vocab
    if not isinstance(tokens, list) or not all(isinstance(t, int) and 0 <= t < n_vocab for t in tokens):
        raise bad(f"tokens must be a list of token ids below {n_vocab}", "tokens")
    return JSONResponse({"content": _text(b"".join(served.piece(t) for t in tokens))})


async def apply_template(request: Request) -> Response:
    served: Served = request.app.state.served
    body = await read_json(request)
    messages = body.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise bad("messages must be a list of {role, content}", "messages")
    try:
        rendered = await served.in_thread(lambda: served.template.render(messages))
    except (TemplateError, ValueError) as exc:
        raise bad(str(exc), "messages") from None
    return JSONResponse({"prompt": rendered.text})


def _settings_fields(body: dict[str, Any]) -> dict[str, Any]:
    """llama-server's ``samplers`` list: a stage it leaves out is off."""
    samplers = body.get("samplers")
    if samplers is None:
        return body
    if not isinstance(samplers, list) or not all(isinstance(s, str) for s in samplers):
        raise bad("samplers must be a list of sampler names", "samplers")
    fields = dict(body)
    for name, off in NEUTRAL.items():
        if name not in samplers:
            fields |= off
    return fields


def _bans(body: dict[str, Any]) -> frozenset[int] | None:
    """``logit_bias`` as ``[[id, false], …]``: the tokens banned (the only bias served)."""
    bias = body.get("logit_bias")
    if bias in (None, [], {}):
        return None
    ok = isinstance(bias, list) and all(
        isinstance(b, list) and len(b) == 2 and isinstance(b[0], int) and b[1] is False for b in bias
    )
    if not ok:
        raise bad("logit_bias is served only as bans: [[token id, false], …]", "logit_bias")
    return frozenset(int(b[0]) for b in bias)


def _entry(step: Step, n: int, served: Served) -> dict[str, Any]:
    piece = step.token.piece
    return {
        "id": step.token.id,
        "token": _text(piece),
        "bytes": list(piece),
        "logprob": ln(chosen_p_raw(step)),
        "top_logprobs": [
            {"id": i, "token": _text(b), "bytes": list(b), "logprob": ln(p)}
            for i, b, p in top_candidates(step, n, served.piece)
        ],
    }


def _stop_type(reason: str) -> str:
    return "eos" if reason == STOP_EOG else "word" if reason == STOP_STRING else "limit"


def _text_of(prompt: str | list[int], served: Served) -> str:
    """A prompt as the window shows it: its text, or its tokens' bytes read as text."""
    if isinstance(prompt, str):
        return prompt
    return b"".join(served.piece(t) for t in prompt).decode("utf-8", errors="replace")


async def completion(request: Request) -> Response:
    served: Served = request.app.state.served
    body = await read_json(request)
    served.check_model(body)
    engine = served.engine
    prompt = body.get("prompt")
    if isinstance(prompt, str):
        text = prompt
        tokens = await served.in_thread(lambda: engine.tokenize(text, add_bos=engine.add_bos, special=True))
    elif isinstance(prompt, list) and all(isinstance(t, int) and 0 <= t < engine.n_vocab for t in prompt):
        tokens = list(prompt)
    else:
        raise bad("prompt must be text or a list of token ids", "prompt")
    if not tokens or len(tokens) >= engine.n_ctx:
        raise bad(f"the prompt must be 1 to {engine.n_ctx - 1:,} tokens long, not {len(tokens):,}", "prompt")
    s = sampling(_settings_fields(body), n_ctx=engine.n_ctx, max_tokens_names=("n_predict", "max_tokens"))
    n_probs = count(body, "n_probs", served.cap)
    bans = _bans(body)
    if bans is not None and s.max_tokens != 1:
        raise bad("bans (logit_bias) are served for one token at a time (n_predict 1)", "logit_bias")
    job = {
        "prompt": tokens,
        "settings": s.settings,
        "max_tokens": s.max_tokens,
        "stop": s.stop,
        "top_n": max(n_probs, 1),
        "pick_excluding": bans,
        "what": f"a completion for {served.client(request)}",
        "shown": Shown(
            served.client(request),
            ({"role": "user", "content": _text_of(prompt, served)},),
            plain=True,
            prompt_ids=tuple(tokens),
        ),
    }
    submitted = Submitted(served.worker, job)
    if body.get("stream") is True:
        stream = _stream(submitted, served, n_probs, len(tokens), StreamedText(s.stop))
        return StreamingResponse(stream, media_type="text/event-stream")
    started = time.perf_counter()
    steps: list[Step] = []
    answer: dict[str, Any] = {}
    async with watch_disconnect(request, submitted):
        async for item in submitted.items():
            if isinstance(item, Step):
                steps.append(item)
            elif isinstance(item, Picked):
                entry = {
                    "id": item.token,
                    "token": _text(item.piece),
                    "bytes": list(item.piece),
                    "logprob": item.logprob,
                    "top_logprobs": [],
                }
                answer = {
                    "content": _text(item.piece),
                    "tokens": [item.token],
                    "stop_type": "limit",
                    "completion_probabilities": [entry],
                }
            elif isinstance(item, Finished):
                kept = [t for t in steps if not t.end]
                answer = {
                    "content": item.result.text,
                    "tokens": [t.token.id for t in kept],
                    "stop_type": _stop_type(item.result.stop_reason),
                    "completion_probabilities": [_entry(t, n_probs, served) for t in steps]
                    if n_probs
                    else [],
                }
            elif isinstance(item, Failed):
                raise ApiError(item.status, item.sentence, code="engine_error")
    elapsed = time.perf_counter() - started
    n = len(answer.get("tokens", []))
    return JSONResponse(
        answer
        | {
            "stop": True,
            "model": served.model_id,
            "tokens_predicted": n,
            "tokens_evaluated": len(tokens),
            "timings": {"predicted_n": n, "predicted_ms": elapsed * 1000},
        }
    )


async def _stream(
    submitted: Submitted, served: Served, n_probs: int, n_prompt: int, text: StreamedText
) -> AsyncIterator[bytes]:
    started = time.perf_counter()
    n = 0
    async for item in submitted.items():
        if isinstance(item, Step):
            event = {
                "content": text.feed(item.text),
                "tokens": [item.token.id],
                "stop": False,
                "completion_probabilities": [_entry(item, n_probs, served)] if n_probs else [],
            }
            n += 0 if item.end else 1
        elif isinstance(item, Finished):
            ms = (time.perf_counter() - started) * 1000
            event = {
                "content": text.finish(item.result.stop_reason),
                "tokens": [],
                "stop": True,
                "stop_type": _stop_type(item.result.stop_reason),
                "tokens_predicted": n,
                "tokens_evaluated": n_prompt,
                "timings": {
                    "predicted_n": n,
                    "predicted_ms": ms,
                    "predicted_per_second": n / (ms / 1000) if ms > 0 else 0.0,
                },
            }
        elif isinstance(item, Failed):
            event = ApiError(item.status, item.sentence, code="engine_error").body()
        else:
            continue
        yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()
