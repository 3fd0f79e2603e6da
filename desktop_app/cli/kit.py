"""``tokendice kit export|import``: classroom kits, lesson packs and models on a folder or a USB stick for
machines without internet (see :mod:`desktop_app.core.kit`).

``export DIR --lessons PACK… --models ID…`` copies the packs (an installed pack's id, a lesson file, a
folder or a .zip of them, or ``builtin`` for the built-in lessons) and the models (a library id, or
``default``) into DIR with their SHA-256s, then says which lessons recommend a model the kit does not
carry. ``import DIR`` checks every file of the kit, installs it and adds its models to the library;
nothing is installed when a file is not the one exported. Progress goes to standard error as the
download command shows it: one line redrawn on a terminal, a plain line every few seconds elsewhere.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from desktop_app.cli.download import (
    BAR_WIDTH,
    PLAIN_INTERVAL_S,
    REDRAW_INTERVAL_S,
    RedrawnLine,
    cancel_on_signals,
)
from desktop_app.cli.errors import CliError, Parser
from desktop_app.cli.io import print_json
from desktop_app.core.units import duration_text, size_text


def register(sub: Any, json_flag: Callable[[argparse.ArgumentParser], None]) -> dict[str, Callable]:
    kit = sub.add_parser(
        "kit", help="classroom kits: lesson packs and models on a folder or USB stick, for machines offline"
    )
    verbs = kit.add_subparsers(dest="kit_command", metavar="export|import", parser_class=Parser)
    verbs.required = True
    export = verbs.add_parser(
        "export", help="copy lesson packs and models into a kit folder, with their hashes"
    )
    export.add_argument("dest", metavar="DIR", help="the kit's folder: new, empty, or an earlier kit's")
    export.add_argument(
        "--lessons",
        nargs="+",
        default=[],
        metavar="PACK",
        help="an installed pack's id (tokendice lessons list), a lesson file, a folder or .zip of them, "
        "or 'builtin' (the built-in lessons)",
    )
    export.add_argument(
        "--models",
        nargs="+",
        default=[],
        metavar="ID",
        help="a library id (tokendice models list), or 'default'",
    )
    json_flag(export)
    imp = verbs.add_parser("import", help="check a kit folder, then install its lesson packs and models")
    imp.add_argument("src", metavar="DIR", help="the kit's folder (it holds tokendice-kit.json)")
    json_flag(imp)
    return {"kit": cmd_kit}


class KitProgress(RedrawnLine):
    """A ``progress(done, total, what)`` callback drawing on ``stream``: a redrawn line with a bar on a
    terminal, a plain line at most every PLAIN_INTERVAL_S seconds (and at the end of each stage) elsewhere."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None):
        super().__init__(stream, tty=tty)
        self._start = time.monotonic()
        self._stage: tuple[str, int] | None = None

    def __call__(self, done: int, total: int, what: str) -> None:
        now = time.monotonic()
        verb = what.split(" ", 1)[0]
        if self._stage != (verb, total):  # checking, then copying: each stage has its own speed
            self._stage, self._start = (verb, total), now
        finished = done >= total
        if now - self._last < (REDRAW_INTERVAL_S if self.tty else PLAIN_INTERVAL_S) and not finished:
            return
        self._last = now
        fraction = done / total if total else 1.0
        elapsed = now - self._start
        speed = done / elapsed if elapsed > 0.5 else 0.0
        amount = f"{size_text(done)} of {size_text(total)}"
        if self.tty:
            gauge = "#" * int(fraction * BAR_WIDTH) + "-" * (BAR_WIDTH - int(fraction * BAR_WIDTH))
            eta = duration_text((total - done) / speed) if speed else "?"
            rate = f"{size_text(speed)}/s" if speed else "-"
            self.show(f"{fraction:4.0%} [{gauge}] {amount}  {rate}  ETA {eta}  {what}")
        else:
            self.show(f"{what}: {amount} ({fraction:.0%})")


def cmd_kit(args: argparse.Namespace) -> int:
    from desktop_app.core.kit import KitCancelled, KitError
    from desktop_app.core.lesson_packs import LessonPackError

    printer = KitProgress(sys.stderr)
    cancel = threading.Event()
    try:
        with cancel_on_signals(cancel):
            return (
                _export(args, printer, cancel)
                if args.kit_command == "export"
                else _import(args, printer, cancel)
            )
    except KitCancelled:
        printer.close()
        left = "the kit is unfinished" if args.kit_command == "export" else "nothing was installed"
        print(f"tokendice: interrupted: {left}", file=sys.stderr)
        return 130
    except (KitError, LessonPackError) as exc:
        raise CliError(str(exc)) from None
    finally:
        printer.close()


def _export(args: argparse.Namespace, printer: KitProgress, cancel: threading.Event) -> int:
    from desktop_app.core.kit import export_kit, missing_recommendations
    from desktop_app.core.services import Services

    if not args.lessons and not args.models:
        raise CliError("say what the kit carries: --lessons PACK… and/or --models ID…")
    services = Services.open(read_only_if_locked=True)  # the library is only read
    try:
        packs = [_pack(spec, services.paths.lessons_dir) for spec in args.lessons]
        models = [services.library.resolve(spec) for spec in args.models]
        manifest = export_kit(Path(args.dest), packs, models, progress=printer, cancel=cancel)
    finally:
        services.close()
    printer.close()
    notes = [
        {"lesson": ref, "repo_id": m.repo_id, "filename": m.filename}
        for ref, m in missing_recommendations(packs, ((k.repo_id, k.filename) for k in manifest.models))
    ]
    dest = Path(args.dest).expanduser().resolve()
    if args.json:
        print_json({"kit": str(dest), "manifest": manifest.to_json(), "notes": notes})
        return 0
    print(f"Exported the classroom kit to {dest} ({size_text(manifest.total_bytes)}):")
    for m in manifest.models:
        print(f"  model  {m.name} ({size_text(m.size)})")
    for p in manifest.packs:
        count = sum(f.path.endswith(".toml") and not f.path.endswith("/pack.toml") for f in p.files)
        print(f"  pack   {p.id} “{p.name}”: {count} lesson(s)")
    print(f"Install it on another machine with: tokendice kit import {dest}")
    for n in notes:
        print(
            f"note: the lesson {n['lesson']} recommends {n['repo_id']} {n['filename']}, "
            "which is not in the kit"
        )
    return 0


def _pack(spec: str, lessons_dir: Path) -> Any:
    """An installed pack (by id), the built-in lessons ('builtin'), or a pack read from a path."""
    from desktop_app.core.lesson_packs import BUILTIN, LessonPacks, builtin_pack, read_pack

    if spec == BUILTIN:
        return builtin_pack()
    packs = LessonPacks(lessons_dir)
    if "/" not in spec and (lessons_dir / spec).is_dir():
        return packs.get(spec)
    path = Path(spec).expanduser()
    if path.exists():
        return read_pack(path)
    known = ", ".join(p.id for p in packs.packs()) or "none is installed"
    raise CliError(
        f"there is no lesson pack {spec!r}: give an installed pack's id ({known}), a lesson file, "
        "a folder or .zip of them, or 'builtin'"
    )


def _import(args: argparse.Namespace, printer: KitProgress, cancel: threading.Event) -> int:
    from desktop_app.core.kit import import_kit
    from desktop_app.core.lesson_packs import LessonPacks
    from desktop_app.core.services import Services

    services = Services.open()  # the library is written: not while the desktop app holds it
    try:
        result = import_kit(
            services.library,
            Path(args.src),
            models_dir=services.paths.models_dir,
            packs=LessonPacks(services.paths.lessons_dir),
            progress=printer,
            cancel=cancel,
        )
    finally:
        services.close()
    printer.close()
    kit = result.plan.kit
    models = [
        {**entry.to_dict(), "copied": placed.copied}
        for entry, placed in zip(result.models, result.plan.models, strict=True)
    ]
    packs = [
        {
            "id": p.id,
            "name": p.name,
            "names": dict(p.names),
            "replaced": p.replaced,
            "folder": str(p.folder),
            "lessons": [{"id": f"{p.id}/{x.id}", "title": x.text("title", "en")} for x in p.lessons],
        }
        for p in result.packs
    ]
    if args.json:
        head = {"kit": str(kit.root), "created": kit.manifest.created, "tokendice": kit.manifest.tokendice}
        print_json({**head, "models": models, "packs": packs})
        return 0
    print(f"Installed the classroom kit from {kit.root} (exported {kit.manifest.created}):")
    for m in models:
        how = "copied" if m["copied"] else "already there"
        print(f"  model  {m['id']}: {m['name']} ({how})")
    for p in packs:
        replaced = " (replaced the earlier one)" if p["replaced"] else ""
        print(f"  pack   {p['id']} “{p['name']}”{replaced}: {len(p['lessons'])} lesson(s)")
        for lesson in p["lessons"]:
            print(f"           {lesson['id']}  {lesson['title']}")
    return 0
