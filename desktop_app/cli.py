"""``tokendice``: a thin command-line front over the same core the GUI uses.

Argument parsing and printing only. Every command has ``--json`` for scripts; errors are one line on
stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from desktop_app import __version__

EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tokendice",
        description="TokenDice: see how a language model generates, token by token. "
        "With no command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"tokendice {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    gui = sub.add_parser("gui", help="open the desktop app (the default)")
    gui.add_argument("--model", "-m", help="a .gguf path, a library id, or 'default' (the bundled model)")
    gui.add_argument("--smoke-test", action="store_true", help="open the window, then quit at once (exit 0)")

    info = sub.add_parser("info", help="versions and data folders")
    _add_json(info)

    models = sub.add_parser("models", help="the local model library")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", parser_class=_Parser, required=True)
    mlist = msub.add_parser("list", help="models in the library, with metadata from their GGUF headers")
    _add_json(mlist)
    minfo = msub.add_parser("info", help="one model's metadata (a library id, a .gguf path, or 'default')")
    minfo.add_argument("model")
    _add_json(minfo)

    from desktop_app.cli_engine import register

    parser.set_defaults(engine_commands=register(sub, _add_json))
    return parser


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def _entry_lines(entry: Any) -> list[str]:
    from desktop_app.core.models.gguf_meta import format_params

    flag = " (default)" if entry.is_default else ""
    lines = [f"{entry.id}{flag}", f"  name:          {entry.display_name}", f"  path:          {entry.path}"]
    lines.append(f"  source:        {entry.source}")
    if entry.status != "ok":
        lines.append(f"  status:        {entry.status}: {entry.error}")
        return lines
    m = entry.metadata
    lines += [
        f"  architecture:  {m.architecture}",
        f"  parameters:    {format_params(m.parameter_count)} ({m.parameter_count:,})",
        f"  layers:        {m.block_count}",
        f"  context:       {m.context_length:,}" if m.context_length else "  context:       unknown",
        f"  vocabulary:    {m.vocab_size:,}" if m.vocab_size else "  vocabulary:    unknown",
        f"  quantization:  {m.quantization}",
        f"  file size:     {_size(m.file_size)}",
        f"  chat template: {'yes' if m.has_chat_template else 'no (a plain fallback format is used)'}",
    ]
    return lines


def cmd_models(args: argparse.Namespace) -> int:
    from desktop_app.core.models.library import ModelNotFound
    from desktop_app.core.services import Services

    services = Services.open()
    try:
        if args.models_command == "list":
            entries = services.library.entries()
            if args.json:
                _print_json({"models": [e.to_dict() for e in entries]})
            elif not entries:
                print("The library is empty. Install the bundled model with: pip install 'tokendice[demo]'")
            else:
                for e in entries:
                    print("\n".join(_entry_lines(e)))
            return 0
        try:
            entry = services.library.resolve(args.model)
        except ModelNotFound as exc:
            raise CliError(str(exc)) from exc
        if args.json:
            _print_json(entry.to_dict())
        else:
            print("\n".join(_entry_lines(entry)))
        if entry.status != "ok":
            raise CliError(entry.error or f"model {entry.id} cannot be used")
        return 0
    finally:
        services.close()


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
    data["paths"] = AppPaths.from_env().as_dict()
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
    if args.json:
        _print_json(data)
    else:
        print(f"TokenDice {__version__} on Python {data['python']}")
        for name, v in versions.items():
            print(f"  {name:20} {v or 'not installed'}")
        for name, v in data["paths"].items():
            print(f"  {name:20} {v}")
        print(f"  {'llama.cpp backends':20} {backends.summary()}")
        for d in backends.devices:
            print(f"  {'':20} {d.backend}: {d.name} ({d.description}, {d.kind})")
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    from desktop_app.app import run_gui

    return run_gui(model=getattr(args, "model", None), smoke_test=getattr(args, "smoke_test", False))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {"models": cmd_models, "info": cmd_info, "gui": cmd_gui, None: cmd_gui, **args.engine_commands}
    from desktop_app.core.engine.chat_template import TemplateError
    from desktop_app.core.engine.engine import EngineError
    from desktop_app.core.models.gguf_meta import GGUFError
    from desktop_app.core.models.library import ModelNotFound
    from desktop_app.core.store.db import DatabaseError

    try:
        return commands[args.command](args)
    except (CliError, ModelNotFound, GGUFError, DatabaseError, EngineError, TemplateError, OSError) as exc:
        print(f"tokendice: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("tokendice: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
