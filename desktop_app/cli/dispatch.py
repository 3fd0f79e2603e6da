"""``tokendice``: a thin command-line front over the same core the GUI uses: the parser and the dispatch.

Argument parsing and printing only. Every command has ``--json`` for scripts; errors (errors.py) are one
line on stderr and a non-zero exit status: 1 for an error, 2 for a wrong command line, 3 when llama.cpp
crashed or the engine was killed (the commands that load a model run in a child process: see guard.py),
130 after Ctrl+C. A number out of its range is a wrong command line (args.py); a reader of the output
that goes away (``| head``) ends the command quietly with 0, and bytes that are not UTF-8 never raise
(io.py); a settings.json that could not be used as it was gets one warning line (core/store/settings).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from desktop_app import __version__
from desktop_app.cli.errors import EXIT_ERROR, CliError, Parser
from desktop_app.cli.io import print_json


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="tokendice",
        description="TokenDice: see how a language model generates, token by token. "
        "With no command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"tokendice {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    gui = sub.add_parser("gui", help="open the desktop app (the default)")
    gui.add_argument("--model", "-m", help="a .gguf path, a library id, or 'default' (the bundled model)")
    gui.add_argument("--smoke-test", action="store_true", help="open the window, then quit at once (exit 0)")

    info = sub.add_parser("info", help="versions and data folders")
    _add_json(info)

    from desktop_app.cli.models import register_models

    register_models(sub, _add_json, Parser)

    from desktop_app.cli.chat import register as register_chat
    from desktop_app.cli.chats import register as register_chats
    from desktop_app.cli.db import register as register_db
    from desktop_app.cli.desktop import register as register_desktop
    from desktop_app.cli.engine import register
    from desktop_app.cli.kit import register as register_kit
    from desktop_app.cli.lessons import register as register_lessons
    from desktop_app.cli.serve import register as register_serve

    commands = {**register(sub, _add_json), **register_desktop(sub, _add_json), **register_db(sub, _add_json)}
    commands |= (
        register_chat(sub, _add_json) | register_chats(sub, _add_json) | register_serve(sub, _add_json)
    )
    commands |= register_lessons(sub, _add_json) | register_kit(sub, _add_json)
    parser.set_defaults(engine_commands=commands)
    return parser


def cmd_info(args: argparse.Namespace) -> int:
    import importlib.metadata as md

    from desktop_app.paths import AppPaths

    versions = {}
    for dist in ("llama-cpp-python", "pyside6-essentials", "pyqtgraph", "huggingface-hub", "numpy", "gguf"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            versions[dist] = None
    data = {"tokendice": __version__, "python": sys.version.split()[0], "packages": versions}
    paths = AppPaths.from_env()
    data["paths"] = paths.as_dict()
    from desktop_app.core.engine.gpu import probe_backends

    backends = probe_backends()
    data["backends"] = {
        "summary": backends.summary(),
        "gpu_offload_supported": backends.gpu_offload_supported,
        "devices": [
            {
                "name": d.name,
                "description": d.description,
                "kind": d.kind,
                "backend": d.backend,
                "free_bytes": d.free_bytes,
                "total_bytes": d.total_bytes,
            }
            for d in backends.devices
        ],
    }
    from desktop_app.core.engine.llama_loader import decide_here
    from desktop_app.core.store.settings import SettingsStore

    settings = SettingsStore(paths.settings_path).load().settings
    extra_buffers = decide_here(settings.extra_buffers)
    data["extra_buffers"] = {**extra_buffers.as_dict(), "setting": settings.extra_buffers}
    if args.json:
        print_json(data)
    else:
        print(f"TokenDice {__version__} on Python {data['python']}")
        for name, v in versions.items():
            print(f"  {name:20} {v or 'not installed'}")
        for name, v in data["paths"].items():
            print(f"  {name:20} {v}")
        print(f"  {'llama.cpp backends':20} {backends.summary()}")
        for d in backends.devices:
            print(f"  {'':20} {d.backend}: {d.name} ({d.description}, {d.kind})")
        print(f"  {'model loading':20} {extra_buffers.reason()}")
    return 0


def _models(args: argparse.Namespace) -> int:
    from desktop_app.cli.models import cmd_models

    return cmd_models(args)


def cmd_gui(args: argparse.Namespace) -> int:
    from desktop_app.app import run_gui

    return run_gui(model=getattr(args, "model", None), smoke_test=getattr(args, "smoke_test", False))


def main(argv: Sequence[str] | None = None) -> int:
    from desktop_app.cli import io as streams

    streams.safe_streams()
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:  # the reader of our output went away (| head): not an error
        return streams.reader_went_away()


def _warn_about_settings() -> None:
    """One line on stderr when settings.json could not be used as it was (the store repairs it and keeps
    the original, so the line comes once). The window says it itself, in its status bar and a dialog."""
    from desktop_app.core.store.settings import SettingsStore
    from desktop_app.paths import AppPaths

    warning = SettingsStore(AppPaths.from_env().settings_path).load().warning
    if warning:
        print(f"tokendice: warning: {warning}", file=sys.stderr)


def _main(argv: list[str]) -> int:
    from desktop_app.cli import guard
    from desktop_app.cli import io as streams

    parser = build_parser()
    args = streams.clean_args(parser.parse_args(argv))
    if args.command not in (None, "gui") and not guard.is_child():
        _warn_about_settings()
    if label := guard.should_guard(args):  # before the imports below: the child makes them
        return guard.run_in_child(argv, label)
    commands = {"models": _models, "info": cmd_info, "gui": cmd_gui, None: cmd_gui, **args.engine_commands}
    from desktop_app.core.engine.chat_template import TemplateError
    from desktop_app.core.engine.engine import EngineError
    from desktop_app.core.models.gguf_meta import GGUFError
    from desktop_app.core.models.library import ModelNotFound
    from desktop_app.core.store.db import DatabaseError

    try:
        guard.enter_child()
        status = commands[args.command](args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return status
    except BrokenPipeError:
        raise
    except (CliError, ModelNotFound, GGUFError, DatabaseError, EngineError, TemplateError, OSError) as exc:
        print(f"tokendice: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except UnicodeEncodeError as exc:  # undecodable bytes that reached SQLite or llama.cpp
        print(f"tokendice: error: {streams.undecodable_sentence(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("tokendice: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
