"""``tokendice lessons list|show|validate|run``: the built-in lessons from the command line.

``list`` and ``show`` read the lessons (no model); ``validate FILE…`` reads lesson files as the app does
and says what is wrong in each (file, line, field); ``run ID`` sends a lesson's prompt through a model as
the window does when the lesson opens: a new conversation with the lesson's system prompt and earlier
turns, its settings over the defaults (a thinking model's own, on one), its reply length, through the
chat template or as plain text; a lesson of answers side by side gives one reply per answer, each with
its own system prompt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from desktop_app.cli.errors import CliError, Parser
from desktop_app.cli.io import print_json
from desktop_app.core.language import LANGUAGES
from desktop_app.core.lessons import BY_ID, LESSONS, Lesson


def register(sub: Any, json_flag: Callable[[argparse.ArgumentParser], None]) -> dict[str, Callable]:
    from desktop_app.cli.engine import add_model_flags

    lessons = sub.add_parser(
        "lessons", help="the built-in lessons: list, show or run one; check a lesson file"
    )
    verbs = lessons.add_subparsers(
        dest="lessons_command", metavar="list|show|validate|run", parser_class=Parser
    )
    verbs.required = True
    validate = verbs.add_parser("validate", help="check lesson files: each is read as the app reads it")
    validate.add_argument("paths", nargs="+", metavar="FILE", help="a lesson file (.toml)")
    json_flag(validate)
    listing = verbs.add_parser("list", help="every lesson: its id and title")
    show = verbs.add_parser("show", help="one lesson: its explanation, prompt, settings and view")
    run = verbs.add_parser("run", help="send a lesson's prompt through a model with its settings")
    for p in (listing, show, run):
        p.add_argument("--language", choices=LANGUAGES, default="en", help="the lesson's language (en)")
    for p in (show, run):
        p.add_argument("lesson_id", metavar="ID", help="a lesson's id (tokendice lessons list)")
    json_flag(listing)
    json_flag(show)
    add_model_flags(run, server=False)  # (its --json too)
    return {"lessons": cmd_lessons}


def cmd_lessons(args: argparse.Namespace) -> int:
    if args.lessons_command == "list":
        return _list(args)
    if args.lessons_command == "validate":
        return _validate(args)
    lesson = BY_ID.get(args.lesson_id)
    if lesson is None:
        known = ", ".join(BY_ID)
        raise CliError(f"there is no lesson {args.lesson_id!r}; the lessons are: {known}")
    if args.lessons_command == "show":
        return _show(lesson, args)
    return _run(lesson, args)


def _list(args: argparse.Namespace) -> int:
    rows = [{"id": lesson.id, "title": lesson.text("title", args.language)} for lesson in LESSONS]
    if args.json:
        print_json({"language": args.language, "lessons": rows})
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        print(f"{r['id']:<{width}}  {r['title']}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    """Each file read as the app reads a lesson; status 1 when one of them is not a lesson."""
    from pathlib import Path

    from desktop_app.core.lesson_files import LessonFileError, load_lesson

    results = []
    for name in args.paths:
        try:
            lesson = load_lesson(Path(name))
        except LessonFileError as exc:
            results.append({"file": name, "ok": False, "error": str(exc)})
            continue
        results.append({"file": name, "ok": True, "id": lesson.id, "languages": sorted(lesson.title)})
    if args.json:
        print_json({"files": results})
    else:
        for r in results:
            if r["ok"]:
                print(f"{r['file']}: the lesson {r['id']!r} ({', '.join(r['languages'])})")
            else:
                print(f"tokendice: error: {r['error']}", file=sys.stderr)
    return 0 if all(r["ok"] for r in results) else 1


def lesson_data(lesson: Lesson, language: str) -> dict[str, Any]:
    """What a lesson is, in ``language``, as ``show --json`` gives it."""
    return {
        "id": lesson.id,
        "title": lesson.text("title", language),
        "explanation": lesson.text("explanation", language),
        "mode": lesson.mode,
        "system": lesson.system_prompt(language),
        "history": [
            {"role": role, "content": text.get(language) or text["en"]} for role, text in lesson.history
        ],
        "prompt": lesson.text("prompt", language),
        "send": lesson.send,
        "step_mode": lesson.step_mode,
        "view": lesson.view,
        "show_step": lesson.show_step,
        "settings": dict(lesson.sampler_settings()),
        "max_tokens": lesson.max_tokens,
        "answers": [
            {"label": a.title(language), "system": a.system_prompt(language)} for a in lesson.side_by_side
        ],
        "thinking": None if lesson.thinking is None else _thinking_data(lesson),
    }


def _thinking_data(lesson: Lesson) -> dict[str, Any]:
    """How a lesson made for a thinking model changes on one, and the model it recommends."""
    model = lesson.recommends
    recommends = None
    if model is not None:
        recommends = {"repo_id": model.repo_id, "filename": model.filename, "size_bytes": model.size_bytes}
    return {
        "settings": dict(lesson.sampler_settings(thinks=True)),
        "max_tokens": lesson.reply_length(thinks=True),
        "recommends": recommends,
    }


def _show(lesson: Lesson, args: argparse.Namespace) -> int:
    data = lesson_data(lesson, args.language)
    if args.json:
        print_json(data)
        return 0
    print(data["title"])
    print()
    print(data["explanation"])
    print()
    for role, text in (("system", data["system"]), *((h["role"], h["content"]) for h in data["history"])):
        if text:
            print(f"[{role}] {text}")
    print(f"[{'prompt' if lesson.mode == 'chat' else 'text to continue'}] {data['prompt']}")
    settings = ", ".join(f"{k}={v}" for k, v in data["settings"].items()) or "the defaults"
    print(f"settings: {settings}; up to {data['max_tokens']} tokens; view: {data['view']}")
    for answer in data["answers"]:
        print(f"answer “{answer['label']}”: system prompt {answer['system']!r}")
    return 0


def _run(lesson: Lesson, args: argparse.Namespace) -> int:
    from desktop_app.cli.engine import open_engine
    from desktop_app.cli.step_json import step_data
    from desktop_app.core.engine.chat import chat_prompt, template_for
    from desktop_app.core.engine.session import Session
    from desktop_app.core.engine.thinking import split_thinking
    from desktop_app.core.lessons import template_thinks
    from desktop_app.core.sampler_settings import SamplerSettings

    language = args.language
    plain = lesson.mode == "plain"
    history = [{"role": role, "content": text.get(language) or text["en"]} for role, text in lesson.history]
    prompt_text = lesson.text("prompt", language)
    systems = [(a.title(language), a.system_prompt(language)) for a in lesson.side_by_side]
    systems = systems or [("", lesson.system_prompt(language))]
    replies = []
    with open_engine(args) as engine:
        template = template_for(engine, plain=plain)
        thinks = not plain and template_thinks(template.source_text)
        settings = SamplerSettings(**lesson.sampler_settings(thinks))
        max_tokens = lesson.reply_length(thinks)
        if not args.json:
            print(lesson.text("title", language))
            if lesson.thinking is not None and not thinks:
                print(lesson.fallback(language, engine.path.stem if engine.path else "this model"))
        session = Session(engine)
        for label, system in systems:
            head = [{"role": "system", "content": system}] if system else []
            messages = head + history + [{"role": "user", "content": prompt_text}]
            prompt = chat_prompt(engine, messages, template=template)
            gen = session.generate(prompt.tokens, settings, max_tokens=max_tokens, stop=template.stop_strings)
            if not args.json:
                print(f"\n[{label}]" if label else "")
            tokens = []
            for step in gen:
                if not args.json:
                    sys.stdout.write(step.text)
                    sys.stdout.flush()
                tokens.append(step_data(step))
            r = gen.result
            split = split_thinking(r.text, opened=gen.opened_thinking)
            reply = {"label": label, "system": system, "text": r.text, "thinking": split.thinking}
            replies.append({**reply, "answer": split.answer, "stop_reason": r.stop_reason, "tokens": tokens})
            if not args.json:
                sys.stdout.write(f"\n[{r.stop_reason}: {r.generated} tokens]\n")
    if args.json:
        head = {"lesson": lesson.id, "language": language, "thinks": thinks}
        print_json({**head, "settings": settings.to_dict(), "max_tokens": max_tokens, "replies": replies})
    return 0
