"""The command line's streams and text: bytes that are not UTF-8 never raise, a closed pipe is no error.

* Undecodable bytes on the command line arrive as lone surrogates (Python's ``surrogateescape``). A value
  that names a file keeps them (so the path still opens); every other value (a prompt, a system message,
  a stop text, a search) is shown with U+FFFD in their place (:func:`clean_args`). Standard input is read
  as bytes and decoded the same way (engine.py's ``read_stdin``).
* Standard output and error write any text: what cannot be encoded is written as U+FFFD (or ``?`` where
  the stream's encoding has no U+FFFD), so printing a file name with such bytes never raises.
* When the reader of standard output goes away (``tokendice models list | head -1``), the command stops
  quietly with status 0: no "Broken pipe" message, no traceback (:func:`reader_went_away`).
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import io
import json
import os
import sys
from typing import Any

from desktop_app.core.safe_text import REPLACEMENT, shown

ERRORS = "tokendice.shown"  # the streams' error handler

# The values that name files: kept as given, so a name with undecodable bytes still opens.
PATH_DESTS = frozenset({"model", "path", "messages", "template", "data_home", "launcher"})


def _shown_errors(exc: UnicodeError) -> tuple[str | bytes, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    n = exc.end - exc.start
    try:
        # As bytes: CPython's UTF-8 encoder takes only ASCII text from an error handler.
        return REPLACEMENT.encode(exc.encoding) * n, exc.end
    except (UnicodeError, LookupError):
        return "?" * n, exc.end


def safe_streams() -> None:
    """Make sys.stdout and sys.stderr write undecodable text as replacement characters."""
    codecs.register_error(ERRORS, _shown_errors)  # the same name and function every time: idempotent
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError, io.UnsupportedOperation):
                reconfigure(errors=ERRORS)


def clean_args(args: argparse.Namespace) -> argparse.Namespace:
    """ARGS with undecodable bytes in every text value shown as U+FFFD, except in file names."""
    for name, value in vars(args).items():
        if name in PATH_DESTS:
            continue
        if isinstance(value, str):
            setattr(args, name, shown(value))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            setattr(args, name, [shown(v) for v in value])
    return args


def reader_went_away() -> int:
    """After a BrokenPipeError on standard output: send what is left to /dev/null, exit quietly (0).

    Python flushes sys.stdout once more at exit; on the closed pipe that would print "Exception ignored
    … BrokenPipeError". Pointing the stream's descriptor at /dev/null keeps it quiet.
    """
    with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    return 0


def undecodable_sentence(exc: UnicodeEncodeError) -> str:
    """One sentence for text with undecodable bytes that reached a place that needs UTF-8."""
    text = exc.object if isinstance(exc.object, str) else ""
    text = shown(text if len(text) <= 80 else text[:77] + "…")
    return (
        f"“{text}” holds bytes that are not UTF-8 (shown as {REPLACEMENT}), which TokenDice cannot use "
        "there; rename the file or retype the text in UTF-8"
    )


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout, non-ASCII text as itself (every command's ``--json``)."""
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
