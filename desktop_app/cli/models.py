"""``tokendice models …``: the model library from the command line (parsing and printing only)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from desktop_app.cli.io import print_json
from desktop_app.core.units import size_text


def register_models(
    sub: Any, add_json: Callable[[argparse.ArgumentParser], None], parser_class: type
) -> None:
    models = sub.add_parser("models", help="the model library, and models from the Hugging Face Hub")
    msub = models.add_subparsers(
        dest="models_command", metavar="ACTION", parser_class=parser_class, required=True
    )
    add_json(msub.add_parser("list", help="models in the library, with metadata from their GGUF headers"))
    info = msub.add_parser("info", help="one model's metadata (a library id, a .gguf path, or 'default')")
    info.add_argument("model")
    add_json(info)
    imp = msub.add_parser("import", help="add a local .gguf file to the library")
    imp.add_argument("path")
    how = imp.add_mutually_exclusive_group()
    how.add_argument("--copy", action="store_true", help="copy it into the models folder (the default)")
    how.add_argument("--reference", action="store_true", help="use it where it is, never copy or delete it")
    add_json(imp)
    rem = msub.add_parser("remove", help="remove a model from the library")
    rem.add_argument("model", help="a library id")
    rem.add_argument(
        "--delete-file", action="store_true", help="also delete the file, if the app put it there"
    )
    rem.add_argument("--yes", "-y", action="store_true", help="do not ask before deleting a file")
    add_json(rem)
    add_json(
        msub.add_parser("discover", help="find GGUF files in the Hugging Face cache and LM Studio's folders")
    )
    from desktop_app.cli.hub import register_hub

    register_hub(msub, add_json)


def entry_lines(entry: Any) -> list[str]:
    from desktop_app.core.models.gguf_meta import format_params

    flag = " (default)" if entry.is_default else ""
    lines = [f"{entry.id}{flag}", f"  name:          {entry.display_name}", f"  path:          {entry.path}"]
    lines.append(f"  source:        {entry.source}")
    if entry.status != "ok":
        lines.append(f"  status:        {entry.status}: {entry.error}")
    m = entry.metadata
    if m is None:
        return lines
    lines += [
        f"  architecture:  {m.architecture}",
        f"  parameters:    {format_params(m.parameter_count)} ({m.parameter_count:,})",
        f"  layers:        {m.block_count}",
        f"  context:       {m.context_length:,}" if m.context_length else "  context:       unknown",
        f"  vocabulary:    {m.vocab_size:,}" if m.vocab_size else "  vocabulary:    unknown",
        f"  quantization:  {m.quantization}",
        f"  file size:     {size_text(m.file_size)}",
        f"  chat template: {'yes' if m.has_chat_template else 'no (a plain fallback format is used)'}",
    ]
    return lines


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def cmd_models(args: argparse.Namespace) -> int:
    from desktop_app.cli.errors import CliError
    from desktop_app.cli.hub import HUB_ACTIONS, cmd_hub
    from desktop_app.core.models.library import ModelNotFound
    from desktop_app.core.services import Services

    if args.models_command in HUB_ACTIONS:
        return cmd_hub(args)
    # Listing and showing work while the desktop app is open; changing the library needs it closed.
    services = Services.open(read_only_if_locked=args.models_command in ("list", "info"))
    library = services.library
    try:
        action = args.models_command
        if action == "list":
            entries = library.entries()
            if args.json:
                print_json({"models": [e.to_dict() for e in entries]})
            elif not entries:
                print("The library is empty. Install the bundled model with: pip install 'tokendice[demo]'")
            else:
                print("\n".join(line for e in entries for line in entry_lines(e)))
            return 0
        if action == "discover":
            found = library.discover()
            if args.json:
                print_json({"found": [e.to_dict() for e in found]})
            else:
                print(f"found {len(found)} new model file(s)")
                for e in found:
                    print(f"  {e.id}  {e.path}")
            return 0
        if action == "import":
            from desktop_app.core.models.importing import import_file

            entry = import_file(
                library, args.path, copy=not args.reference, models_dir=services.paths.models_dir
            )
            _show(entry, args.json)
            return 0 if entry.usable else _unusable(entry)
        if action == "remove":
            entry = library.get(args.model)
            delete = args.delete_file
            if delete and entry.source in ("downloaded", "imported") and not args.yes:
                delete = _confirm(f"Delete {entry.path} ({size_text(entry.path.stat().st_size)})?")
                if not delete:
                    print("the file is kept (use --yes to delete without asking)", file=sys.stderr)
            message = library.remove(entry.id, delete_file=delete)
            if args.json:
                print_json(
                    {
                        "removed": entry.id,
                        "file_deleted": delete and not entry.path.exists(),
                        "message": message,
                    }
                )
            else:
                print(message)
            return 0
        try:
            entry = library.resolve(args.model)
        except ModelNotFound as exc:
            raise CliError(str(exc)) from exc
        _show(entry, args.json)
        return 0 if entry.usable else _unusable(entry)
    except UnicodeEncodeError as exc:  # a file name with bytes that are not UTF-8
        from desktop_app.cli.io import undecodable_sentence

        raise CliError(undecodable_sentence(exc)) from exc
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    finally:
        services.close()


def _show(entry: Any, as_json: bool) -> None:
    if as_json:
        print_json(entry.to_dict())
    else:
        print("\n".join(entry_lines(entry)))


def _unusable(entry: Any) -> int:
    from desktop_app.cli.errors import CliError

    raise CliError(entry.error or f"model {entry.id} cannot be used")
