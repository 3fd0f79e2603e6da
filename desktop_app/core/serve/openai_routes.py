"""OpenAI's ``/v1/chat/completions`` and ``/v1/completions`` over the served model, streamed (server-sent
events) or not, with ``logprobs`` as OpenAI, llama-server and vLLM give them (the model's own
probabilities, before any sampler) and TokenDice's own numbers for each token beside them."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from desktop_app.core.engine.chat import chat_prompt
from desktop_app.core.engine.chat_template import TemplateError
from desktop_app.core.engine.session import GenerationResult, Step
from desktop_app.core.serve.context import Served, read_json, watch_disconnect
from desktop_app.core.serve.protocol import (
    FINISH,
    ApiError,
    StreamedText,
    Submitted,
    bad,
    check_n,
    chosen_p_raw,
    count,
    ln,
    sampling,
    text_of,
    tokendice_data,
    top_candidates,
)
from desktop_app.core.serve.worker import Failed, Finished, Shown


def _messages(body: dict[str, Any]) -> list[dict[str, str]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad("messages must be a non-empty list of {role, content}", "messages")
    out = []
    for m in messages:
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise bad("each message needs a role and a content", "messages")
        content = m.get("content")
        if isinstance(content, list):  # OpenAI's content parts: the texts are joined, images refused
            texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
            joined = [t for t in texts if isinstance(t, str)]
            if len(joined) != len(content):
                raise bad("only text content is served by this model", "messages")
            content = "".join(joined)
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise bad("a message's content must be text", "messages")
        out.append({"role": m["role"], "content": content})
    return out


def _chat_entry(step: Step, n: int, piece_of: Callable[[int], bytes]) -> dict[str, Any]:
    piece = step.token.piece
    entry: dict[str, Any] = {
        "token": text_of(piece),
        "logprob": ln(chosen_p_raw(step)),
        "bytes": list(piece),
        "top_logprobs": [
            {"token": text_of(b), "logprob": ln(p), "bytes": list(b)}
            for _i, b, p in top_candidates(step, n, piece_of)
        ],
    }
    data = tokendice_data(step)
    if data is not None:
        entry["tokendice"] = data
    return entry


async def _whole(request: Request, submitted: Submitted) -> tuple[list[Step], GenerationResult]:
    """A reply not streamed: its steps and its result, once it has ended (a client that goes away
    before cancels it)."""
    steps: list[Step] = []
    async with watch_disconnect(request, submitted):
        async for item in submitted.items():
            if isinstance(item, Step):
                steps.append(item)
            elif isinstance(item, Finished):
                return steps, item.result
            elif isinstance(item, Failed):
                raise ApiError(item.status, item.sentence, code="engine_error")
    raise ApiError(500, "the model ended the reply without a result", code="engine_error")


def _usage(prompt_tokens: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
    }


def _sse(data: dict[str, Any] | str) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {text}\n\n".encode()


async def chat_completions(request: Request) -> Response:
    served: Served = request.app.state.served
    body = await read_json(request)
    served.check_model(body)
    check_n(body)
    s = sampling(body, n_ctx=served.engine.n_ctx, max_tokens_names=("max_completion_tokens", "max_tokens"))
    want_logprobs = body.get("logprobs") is True
    n_top = count(body, "top_logprobs", served.cap) if want_logprobs else 0
    messages = _messages(body)
    try:
        prompt = await served.in_thread(
            lambda: chat_prompt(served.engine, messages, template=served.template)
        )
    except (TemplateError, ValueError) as exc:
        raise bad(str(exc), "messages") from None
    stop = tuple(dict.fromkeys(s.stop + tuple(served.template.stop_strings)))
    job = {
        "prompt": list(prompt.tokens),
        "settings": s.settings,
        "max_tokens": s.max_tokens,
        "stop": stop,
        "top_n": max(n_top, 1),
        "what": f"a chat completion for {served.client(request)}",
        "shown": Shown(
            served.client(request), tuple(messages), prompt=prompt, template_origin=prompt.template.origin
        ),
    }
    rid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    head = {"id": rid, "created": created, "model": served.model_id}
    n_prompt = len(prompt.tokens)
    submitted = Submitted(served.worker, job)
    if body.get("stream") is True:
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return StreamingResponse(
            _chat_stream(submitted, served, head, want_logprobs, n_top, usage, n_prompt, StreamedText(stop)),
            media_type="text/event-stream",
        )
    steps, result = await _whole(request, submitted)
    logprobs = None
    if want_logprobs:
        logprobs = {"content": [_chat_entry(t, n_top, served.piece) for t in steps if not t.end]}
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": result.text},
        "logprobs": logprobs,
        "finish_reason": FINISH.get(result.stop_reason, "stop"),
    }
    generated = sum(1 for t in steps if not t.end)
    return JSONResponse(
        head | {"object": "chat.completion", "choices": [choice], "usage": _usage(n_prompt, generated)}
    )


async def _chat_stream(
    submitted: Submitted,
    served: Served,
    head: dict,
    want_logprobs: bool,
    n_top: int,
    usage: bool,
    n_prompt: int,
    text: StreamedText,
) -> AsyncIterator[bytes]:
    chunk = head | {"object": "chat.completion.chunk"}
    yield _sse(
        chunk
        | {
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": ""},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ]
        }
    )
    generated = 0
    async for item in submitted.items():
        if isinstance(item, Step):
            if item.end:
                continue
            generated += 1
            logprobs = {"content": [_chat_entry(item, n_top, served.piece)]} if want_logprobs else None
            choice = {
                "index": 0,
                "delta": {"content": text.feed(item.text)},
                "logprobs": logprobs,
                "finish_reason": None,
            }
            yield _sse(chunk | {"choices": [choice]})
        elif isinstance(item, Finished):
            finish = FINISH.get(item.result.stop_reason, "stop")
            rest = text.finish(item.result.stop_reason)
            delta = {"content": rest} if rest else {}
            yield _sse(
                chunk | {"choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
            )
        elif isinstance(item, Failed):
            yield _sse(ApiError(item.status, item.sentence, code="engine_error").body())
    if usage:
        yield _sse(chunk | {"choices": [], "usage": _usage(n_prompt, generated)})
    yield _sse("[DONE]")


def _completion_logprobs(steps: list[Step], n_top: int, piece_of, offset: int = 0) -> dict[str, Any]:
    """OpenAI's completion logprobs of ``steps``; ``offset``: where their text starts in the reply."""
    tokens, token_logprobs, tops, offsets, extra = [], [], [], [], []
    for t in steps:
        if t.end:
            continue
        tokens.append(text_of(t.token.piece))
        token_logprobs.append(ln(chosen_p_raw(t)))
        tops.append({text_of(b): ln(p) for _i, b, p in top_candidates(t, n_top, piece_of)})
        offsets.append(offset)
        offset += len(t.text)
        extra.append(tokendice_data(t))
    return {
        "tokens": tokens,
        "token_logprobs": token_logprobs,
        "top_logprobs": tops,
        "text_offset": offsets,
        "tokendice": extra,
    }


async def completions(request: Request) -> Response:
    served: Served = request.app.state.served
    body = await read_json(request)
    served.check_model(body)
    check_n(body)
    s = sampling(body, n_ctx=served.engine.n_ctx)
    prompt_text = body.get("prompt")
    if isinstance(prompt_text, list) and len(prompt_text) == 1 and isinstance(prompt_text[0], str):
        prompt_text = prompt_text[0]
    if not isinstance(prompt_text, str):
        raise bad("prompt must be a string", "prompt")
    if body.get("echo"):
        raise bad("echo is not served", "echo")
    n_top = count(body, "logprobs", served.cap)
    want_logprobs = body.get("logprobs") is not None
    engine = served.engine
    tokens = await served.in_thread(lambda: engine.tokenize(prompt_text, add_bos=engine.add_bos))
    if len(tokens) >= engine.n_ctx:
        raise bad(
            f"the prompt is {len(tokens):,} tokens long and the context holds {engine.n_ctx:,}", "prompt"
        )
    job = {
        "prompt": tokens,
        "settings": s.settings,
        "max_tokens": s.max_tokens,
        "stop": s.stop,
        "top_n": max(n_top, 1),
        "what": f"a completion for {served.client(request)}",
        "shown": Shown(
            served.client(request),
            ({"role": "user", "content": prompt_text},),
            plain=True,
            prompt_ids=tuple(tokens),
        ),
    }
    head = {"id": f"cmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()), "model": served.model_id}
    submitted = Submitted(served.worker, job)
    if body.get("stream") is True:
        return StreamingResponse(
            _completion_stream(submitted, served, head, want_logprobs, n_top, StreamedText(s.stop)),
            media_type="text/event-stream",
        )
    steps, result = await _whole(request, submitted)
    logprobs = _completion_logprobs(steps, n_top, served.piece) if want_logprobs else None
    choice = {
        "index": 0,
        "text": result.text,
        "logprobs": logprobs,
        "finish_reason": FINISH.get(result.stop_reason, "stop"),
    }
    generated = sum(1 for t in steps if not t.end)
    return JSONResponse(
        head | {"object": "text_completion", "choices": [choice], "usage": _usage(len(tokens), generated)}
    )


async def _completion_stream(
    submitted: Submitted, served: Served, head: dict, want_logprobs: bool, n_top: int, text: StreamedText
) -> AsyncIterator[bytes]:
    chunk = head | {"object": "text_completion"}
    async for item in submitted.items():
        if isinstance(item, Step):
            if item.end:
                continue
            offset = text.sent
            out = text.feed(item.text)
            logprobs = _completion_logprobs([item], n_top, served.piece, offset) if want_logprobs else None
            yield _sse(
                chunk | {"choices": [{"index": 0, "text": out, "logprobs": logprobs, "finish_reason": None}]}
            )
        elif isinstance(item, Finished):
            finish = FINISH.get(item.result.stop_reason, "stop")
            rest = text.finish(item.result.stop_reason)
            yield _sse(
                chunk | {"choices": [{"index": 0, "text": rest, "logprobs": None, "finish_reason": finish}]}
            )
        elif isinstance(item, Failed):
            yield _sse(ApiError(item.status, item.sentence, code="engine_error").body())
    yield _sse("[DONE]")
