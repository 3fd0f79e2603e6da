"""The engine commands of ``tokendice``: probs, generate, template, tokens (parsing and printing only)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from desktop_app.cli.args import add_sampling_flags, context_size, gpu_layers, threads, whole
from desktop_app.cli.io import print_json
from desktop_app.cli.remote import add_server_flags
from desktop_app.cli.step_json import step_data
from desktop_app.core.safe_text import decoded

CANDIDATE_FLAGS = ("temperature", "top_k", "top_p", "min_p", "repeat_penalty", "repeat_last_n")


def add_model_flags(p: argparse.ArgumentParser, *, server: bool = True) -> None:
    """The flags that choose a model (``server``: also --server and its company)."""
    p.add_argument("--model", "-m", help="a .gguf path, a library id, or 'default' (the bundled model)")
    p.add_argument("--ctx", type=context_size, default=None, metavar="N", help="context size in tokens")
    p.add_argument(
        "--gpu-layers",
        type=gpu_layers,
        default=None,
        metavar="N|auto|all",
        help="layers to offload to a GPU",
    )
    p.add_argument("--threads", type=threads, default=None, metavar="N", help="CPU threads")
    p.add_argument(
        "--extra-buffers",
        choices=("auto", "on", "off"),
        default=None,
        help="llama.cpp's extra buffer types (weight repacking); auto turns them off on Intel AMX CPUs, "
        "where they crash llama.cpp (default: the setting, auto; TOKENDICE_EXTRA_BUFFERS overrides both)",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    if server:
        add_server_flags(p)


def add_prompt_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--chat", action="store_true", help="TEXT is one user message, rendered by the chat template"
    )
    p.add_argument("--system", help="a system message (with --chat)")
    p.add_argument("text", metavar="TEXT", help="the prompt ('-' reads standard input)")


def register(sub: Any, json_flag: Callable[[argparse.ArgumentParser], None]) -> dict[str, Callable]:
    probs = sub.add_parser("probs", help="the next-token distribution after a prompt")
    add_model_flags(probs)
    add_prompt_flags(probs)
    probs.add_argument(
        "--top",
        type=whole(1, 1000),
        default=10,
        metavar="N",
        help="how many candidates to list (10)",
    )
    add_sampling_flags(probs)

    gen = sub.add_parser("generate", help="generate text token by token, with each token's probability")
    add_model_flags(gen)
    add_prompt_flags(gen)
    gen.add_argument("--max-tokens", type=whole(1), default=128, metavar="N")
    gen.add_argument(
        "--stop", action="append", default=[], metavar="TEXT", help="stop at this text (repeatable)"
    )
    gen.add_argument(
        "--step-by-step",
        action="store_true",
        help="with --server (llama-server): every token one request, picked by TokenDice's die, not the "
        "server's sampler (--wait implies it)",
    )
    add_sampling_flags(gen)

    tpl = sub.add_parser("template", help="the exact prompt the chat template makes, and its tokens")
    add_model_flags(tpl)
    tpl.add_argument("--system", help="a system message")
    tpl.add_argument(
        "--messages", metavar="FILE", help="a JSON list of {role, content} messages ('-': stdin)"
    )
    tpl.add_argument("--no-generation-prompt", action="store_true", help="leave out the assistant's opening")
    tpl.add_argument(
        "--template", metavar="FILE", help="a Jinja chat template to render with instead of the model's own"
    )
    tpl.add_argument("text", nargs="?", metavar="TEXT", help="a user message to end with")

    tok = sub.add_parser("tokens", help="how a text is split into tokens")
    add_model_flags(tok)
    tok.add_argument("--special", action="store_true", help="parse special-token texts such as <|im_start|>")
    tok.add_argument("text", metavar="TEXT", help="the text ('-' reads standard input)")
    return {"probs": cmd_probs, "generate": cmd_generate, "template": cmd_template, "tokens": cmd_tokens}


# --- helpers ----------------------------------------------------------------------------------------


def read_stdin() -> str:
    """Standard input as text: bytes that are not UTF-8 become U+FFFD (never an exception)."""
    if sys.stdin is None:
        return ""
    stream = getattr(sys.stdin, "buffer", None)
    return decoded(stream.read()) if stream is not None else sys.stdin.read()


def _read_text(value: str) -> str:
    return read_stdin() if value == "-" else value


def _settings(args: argparse.Namespace):
    from desktop_app.core.sampler_settings import SamplerSettings

    try:
        return SamplerSettings(
            temperature=args.temperature,
            top_k=args.top_k,
            top_p=args.top_p,
            min_p=args.min_p,
            repeat_penalty=args.repeat_penalty,
            repeat_last_n=args.repeat_last_n,
            frequency_penalty=args.frequency_penalty,
            presence_penalty=args.presence_penalty,
            seed=args.seed,
            ban_eos=args.ban_eos,
            wait_count=args.wait,
            wait_text=args.wait_text,
            think_wait=getattr(args, "think_wait", 0),
            think_budget=getattr(args, "think_budget", 0),
        )
    except ValueError as exc:
        from desktop_app.cli.errors import CliError

        raise CliError(str(exc)) from exc


def open_engine(args: argparse.Namespace):
    """Resolve --model through the library and load it (errors become one-line CLI errors)."""
    from desktop_app.cli.errors import CliError
    from desktop_app.core.engine.engine import Engine
    from desktop_app.core.services import Services

    services = Services.open(read_only_if_locked=True)  # works while the desktop app is open
    try:
        entry = services.library.resolve(args.model)
        if not entry.usable:
            raise CliError(entry.error or f"the model {entry.id} cannot be used")
        config = engine_config(args, services.settings.settings)
    finally:
        services.close()
    return Engine(entry.path, config)


def engine_config(args: argparse.Namespace, settings):
    """The engine's configuration: the model flags, else the saved settings."""
    from desktop_app.core.engine.engine import EngineConfig

    return EngineConfig(
        n_ctx=args.ctx or settings.n_ctx,
        n_threads=args.threads or settings.n_threads,
        n_gpu_layers=settings.n_gpu_layers if args.gpu_layers is None else args.gpu_layers,
        extra_buffers=args.extra_buffers or settings.extra_buffers,
    )


def _prompt(engine, args: argparse.Namespace, text: str):
    """(token ids, template origin or None) for TEXT as raw text or, with --chat, a chat message."""
    from desktop_app.core.engine.chat import build_messages, chat_prompt

    if args.chat:
        prompt = chat_prompt(engine, build_messages(text, args.system))
        return list(prompt.tokens), prompt.source
    if args.system:
        from desktop_app.cli.errors import CliError

        raise CliError("--system needs --chat: a system message only exists in a chat template")
    return engine.tokenize(text, add_bos=engine.add_bos, special=False), None


def _candidate(engine, d, i: int) -> dict[str, Any]:
    token = int(d.candidates[i])
    view = engine.token_view(token)
    return {
        "id": token,
        "piece": view.text,
        "bytes": view.hex,
        "label": view.label,
        "logit": float(d.logits[i]),
        "p_raw": float(d.p_raw[i]),
        "p_final": float(d.p_final[i]),
        "removed_by": d.removed_by[i],
        "end": token in engine.eog_ids,
    }


# --- commands ---------------------------------------------------------------------------------------


def cmd_probs(args: argparse.Namespace) -> int:
    from desktop_app.core.engine.session import Session

    settings = _settings(args)
    if args.server:
        from desktop_app.cli import remote

        return remote.cmd_probs(args, settings, _read_text(args.text))
    with open_engine(args) as engine:
        tokens, source = _prompt(engine, args, _read_text(args.text))
        d = Session(engine).distribution_now(tokens, settings, top_n=args.top)
        n = min(args.top, len(d.candidates))
        candidates = [_candidate(engine, d, i) for i in range(len(d.candidates))]
        data = {
            "model": str(engine.path),
            "n_vocab": engine.n_vocab,
            "prompt_tokens": tokens,
            "template": source,
            "entropy_bits": d.entropy_bits,
            "eos_probability": d.eos_p_raw,
            "candidates": candidates[:n],
            "rest_p_raw": float(1.0 - sum(c["p_raw"] for c in candidates[:n])),
            "u": d.u,
            "chosen": _candidate(engine, d, d.chosen_index),
            "settings": settings.to_dict(),
        }
    if args.json:
        print_json(data)
        return 0
    print(f"{len(tokens)} prompt tokens · vocabulary {data['n_vocab']:,} · entropy {d.entropy_bits:.2f} bits")
    print(f"{'token':>24}  {'id':>7}  {'p(model)':>9}  {'p(final)':>9}")
    for c in data["candidates"]:
        mark = "  ← end" if c["end"] else ""
        print(f"{c['label'][:24]:>24}  {c['id']:>7}  {c['p_raw']:9.2%}  {c['p_final']:9.2%}{mark}")
    print(f"{'everything else':>24}  {'':>7}  {data['rest_p_raw']:9.2%}")
    if d.u is not None:
        print(f"the die rolled u = {d.u:.4f} and picked {data['chosen']['label']!r}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from desktop_app.core.engine.session import Session
    from desktop_app.core.engine.thinking import split_thinking

    settings = _settings(args)
    if args.server:
        from desktop_app.cli import remote

        return remote.cmd_generate(args, settings, _read_text(args.text))
    if args.step_by_step:
        from desktop_app.cli.errors import CliError

        raise CliError("--step-by-step is for --server: a local model's tokens are always TokenDice's die's")
    with open_engine(args) as engine:
        tokens, source = _prompt(engine, args, _read_text(args.text))
        stops = list(args.stop)
        if args.chat and source == "fallback":
            from desktop_app.core.engine.chat import template_for

            stops += list(template_for(engine).stop_strings)
        gen = Session(engine).generate(tokens, settings, max_tokens=args.max_tokens, stop=stops, top_n=5)
        out = []
        for step in gen:
            if not args.json:
                sys.stdout.write(step.text)
                sys.stdout.flush()
            out.append(step_data(step))
        r = gen.result
        extra_buffers = engine.extra_buffers.as_dict()
    split = split_thinking(r.text, opened=gen.opened_thinking)
    data = {
        "text": r.text,
        "thinking": split.thinking,  # None: the model did not think
        "answer": split.answer,
        "tokens": out,
        "stop_reason": r.stop_reason,
        "prompt_tokens": tokens,
        "template": source,
        "timings": {
            "prompt_ms": round(r.prompt_ms, 3),
            "decode_ms": round(r.decode_ms, 3),
            "decode_tokens_per_s": round(r.decode_tokens_per_s, 3),
        },
        "settings": settings.to_dict(),
        "seed": gen.seed,  # the rolls' seed: the setting's, or the one drawn for a random seed
        "load": extra_buffers,
    }
    if args.json:
        print_json(data)
    else:
        sys.stdout.write(f"\n[{r.stop_reason}: {r.generated} tokens, {r.decode_tokens_per_s:.1f} tokens/s]\n")
    return 0


def _load_messages(args: argparse.Namespace) -> list[dict]:
    from desktop_app.cli.errors import CliError
    from desktop_app.core.engine.chat import build_messages

    history: list[dict] = []
    if args.messages:
        try:
            if args.messages == "-":
                raw = read_stdin()
            else:
                with open(args.messages, "rb") as fh:
                    raw = decoded(fh.read())
            history = json.loads(raw)
        except OSError as exc:
            raise CliError(f"cannot read {args.messages}: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise CliError(f"{args.messages} is not valid JSON: {exc.msg} at line {exc.lineno}") from exc
        ok = isinstance(history, list) and all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
            for m in history
        )
        if not ok:
            raise CliError("--messages must hold a JSON list of objects with string 'role' and 'content'")
    messages = build_messages(args.text, args.system, history)
    if not messages:
        raise CliError("give a message (TEXT), --system or --messages")
    return messages


def _read_template(path: str) -> str:
    from desktop_app.cli.errors import CliError

    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CliError(f"{path} is not UTF-8 text: save the template as UTF-8") from exc


def cmd_template(args: argparse.Namespace) -> int:
    from desktop_app.cli.errors import CliError
    from desktop_app.core.engine.chat import chat_prompt, template_for
    from desktop_app.core.engine.chat_template import TemplateError

    messages = _load_messages(args)
    if args.server:
        from desktop_app.cli import remote

        return remote.cmd_template(args, messages)
    override = _read_template(args.template) if args.template else None
    with open_engine(args) as engine:
        try:
            prompt = chat_prompt(
                engine,
                messages,
                template=template_for(engine, override),
                add_generation_prompt=not args.no_generation_prompt,
                check_fits=False,
            )
        except TemplateError as exc:
            raise CliError(str(exc)) from exc
        token_list = [
            {**engine.token_view(t).to_dict(), "kind": k}
            for t, k in zip(prompt.tokens, prompt.kinds, strict=True)
        ]
        data = {
            "template_source": prompt.source,
            "prompt": prompt.rendered.text,
            "spans": [
                {"start": s.start, "end": s.end, "kind": s.kind, "message": s.message_index, "role": s.role}
                for s in prompt.rendered.spans
            ],
            "tokens": token_list,
            "n_tokens": len(token_list),
            "n_ctx": engine.n_ctx,
        }
    if args.json:
        print_json(data)
    else:
        print(f"[template: {prompt.source}; {len(token_list)} tokens]")
        print(prompt.rendered.text)
    return 0


def cmd_tokens(args: argparse.Namespace) -> int:
    if args.server:
        from desktop_app.cli import remote

        return remote.cmd_tokens(args, _read_text(args.text))
    with open_engine(args) as engine:
        ids = engine.tokenize(_read_text(args.text), add_bos=False, special=args.special)
        views = [engine.token_view(t) for t in ids]
        data = {"n_vocab": engine.n_vocab, "n_tokens": len(ids), "tokens": [v.to_dict() for v in views]}
    if args.json:
        print_json(data)
    else:
        print(f"{len(ids)} tokens (vocabulary {data['n_vocab']:,})")
        for v in views:
            print(f"{v.id:>8}  {v.label}")
    return 0
