"""``tokendice lessons list|show|validate|run|add|remove``: the lessons from the command line: the
built-in ones (named by their ids) and those of the lesson packs a teacher opened (named ``PACK/ID``).

``list`` and ``show`` read the lessons (no model); ``validate FILE…`` reads lesson files as the app does
and says what is wrong in each (file, line, field); ``add PATH`` opens a lesson pack (a lesson file, a
folder of them or a .zip) and keeps it, replacing an earlier one with the same id, and ``remove PACK``
removes one (see :mod:`desktop_app.core.lesson_packs`); ``run ID`` sends a lesson's prompt through a model as
the window does when the lesson opens: a new conversation with the lesson's system prompt and earlier
turns, its settings over the defaults (a thinking model's own, on one), its reply length, through the
chat template or as plain text; a lesson of answers side by side gives one reply per answer, each with
its own system prompt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from desktop_app.cli.errors import CliError, Parser
from desktop_app.cli.io import print_json
from desktop_app.core.language import LANGUAGES
from desktop_app.core.lessons import BY_ID, LESSONS, Lesson

if TYPE_CHECKING:
    from desktop_app.core.lesson_packs import LessonPacks, Pack


def register(sub: Any, json_flag: Callable[[argparse.ArgumentParser], None]) -> dict[str, Callable]:
    from desktop_app.cli.engine import add_model_flags

    lessons = sub.add_parser(
        "lessons", help="the lessons: list, show or run one; check a lesson file; add or remove a lesson pack"
    )
    verbs = lessons.add_subparsers(
        dest="lessons_command", metavar="list|show|validate|run|add|remove", parser_class=Parser
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
        p.add_argument(
            "lesson_id", metavar="ID", help="a lesson's id, or PACK/ID for a pack's (tokendice lessons list)"
        )
    add = verbs.add_parser("add", help="open a lesson pack and keep it (one with the same id is replaced)")
    add.add_argument("path", metavar="PATH", help="a lesson file (.toml), a folder of them, or a .zip of one")
    remove = verbs.add_parser("remove", help="remove a lesson pack and its files")
    remove.add_argument("pack_id", metavar="PACK", help="the pack's id (tokendice lessons list)")
    for p in (listing, show, add, remove):
        json_flag(p)
    add_model_flags(run, server=False)  # (its --json too)
    return {"lessons": cmd_lessons}


def cmd_lessons(args: argparse.Namespace) -> int:
    from desktop_app.core.lesson_packs import LessonPackError

    try:
        if args.lessons_command == "list":
            return _list(args)
        if args.lessons_command == "validate":
            return _validate(args)
        if args.lessons_command == "add":
            return _add(args)
        if args.lessons_command == "remove":
            return _remove(args)
        lesson = _find(args.lesson_id)
    except LessonPackError as exc:
        raise CliError(str(exc)) from None
    if args.lessons_command == "show":
        return _show(lesson, args)
    return _run(lesson, args)


def _packs() -> LessonPacks:
    from desktop_app.core.lesson_packs import LessonPacks
    from desktop_app.paths import AppPaths

    return LessonPacks(AppPaths.from_env().lessons_dir)


def _find(ref: str) -> Lesson:
    """The built-in lesson ``ID``, or the lesson ``PACK/ID`` of an installed pack."""
    lesson = BY_ID.get(ref)
    found = _packs().find(ref) if lesson is None and "/" in ref else None
    if found is not None:
        return found[1]
    if lesson is None:
        from desktop_app.core.lesson_packs import lesson_refs

        known = ", ".join([*BY_ID, *(r for r, _, _ in lesson_refs(_packs().packs()))])
        raise CliError(f"there is no lesson {ref!r}; the lessons are: {known}")
    return lesson


def _list(args: argparse.Namespace) -> int:
    from desktop_app.core.lesson_packs import lesson_refs

    language = args.language
    rows = [{"id": x.id, "pack": None, "title": x.text("title", language)} for x in LESSONS]
    packs = _packs().packs()
    rows += [
        {"id": ref, "pack": p.id, "title": x.text("title", language)} for ref, p, x in lesson_refs(packs)
    ]
    if args.json:
        shown = [_pack_data(p, language) for p in packs]
        print_json({"language": language, "lessons": rows, "packs": shown})
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        print(f"{r['id']:<{width}}  {r['title']}")
    for p in packs:
        if p.error is not None:
            print(f"tokendice: warning: {p.error}", file=sys.stderr)
    return 0


def _pack_data(pack: Pack, language: str) -> dict[str, Any]:
    lessons = [{"id": f"{pack.id}/{x.id}", "title": x.text("title", language)} for x in pack.lessons]
    return {
        "id": pack.id,
        "name": pack.title(language),
        "folder": str(pack.folder),
        "error": pack.error,
        "replaced": pack.replaced,
        "lessons": lessons,
    }


def _add(args: argparse.Namespace) -> int:
    from pathlib import Path

    pack = _packs().add(Path(args.path))
    if args.json:
        print_json(_pack_data(pack, "en"))
        return 0
    how = "Replaced the earlier lesson pack" if pack.replaced else "Added the lesson pack"
    print(f"{how} {pack.id} “{pack.name}”: {len(pack.lessons)} lesson(s), kept in {pack.folder}")
    for x in pack.lessons:
        print(f"  {pack.id}/{x.id}  {x.text('title', 'en')}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    pack = _packs().remove(args.pack_id)
    if args.json:
        print_json({"removed": pack.id, "name": pack.name, "folder": str(pack.folder)})
        return 0
    print(f"Removed the lesson pack {pack.id} “{pack.name}” and its {len(pack.lessons)} lesson(s)")
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
        "history": [{"role": role, "content": text} for role, text in lesson.turns(language)],
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
        "model": _model_data(lesson.recommended(language)),
    }


def _model_data(model: Any) -> dict[str, Any] | None:
    """A recommended model's identity (None: none)."""
    if model is None:
        return None
    keys = ("repo_id", "filename", "size_bytes", "sha256")
    return {k: getattr(model, k) for k in keys}


def _thinking_data(lesson: Lesson) -> dict[str, Any]:
    """How a lesson made for a thinking model changes on one, and the model it recommends."""
    return {
        "settings": dict(lesson.sampler_settings(thinks=True)),
        "max_tokens": lesson.reply_length(thinks=True),
        "recommends": _model_data(lesson.recommends),
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
    model = data["model"]
    if model is not None:
        print(f"made for: {model['repo_id']} {model['filename']} ({model['size_bytes']:,} bytes)")
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
    history = [{"role": role, "content": text} for role, text in lesson.turns(language)]
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
