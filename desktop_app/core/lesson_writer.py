"""Lessons written as files: :func:`lesson_toml` gives a lesson's TOML text, in the layout and order of the
built-in files (``resources/lessons/``), and :func:`write_lesson` writes it to a file atomically.

The text reads back as the same lesson: ``parse_lesson(lesson_toml(x)) == x`` for every lesson ``x`` that
:func:`~desktop_app.core.lesson_files.parse_lesson` gives. Every text is a TOML basic string on one line:
quotes, backslashes and control characters are escaped (a newline is ``\\n``, DEL ``\\u007F``), and so are
the characters that would start a new line in an editor (U+0085, U+2028, U+2029); a key that is not a bare
key (letters, digits, ``-`` and ``_``) is quoted the same way; a float is written as ``repr`` writes it,
which reads back as the same number. No TOML library writes it: the layout is the built-in files' own.
"""

from __future__ import annotations

import errno
import math
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from desktop_app.core.lesson_types import Lesson
from desktop_app.core.models.curated import CuratedModel

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_LINE_BREAKS = (0x85, 0x2028, 0x2029)  # not control characters to TOML, but new lines to str.splitlines
_CONTROLS = (*range(0x20), *range(0x7F, 0xA0), *_LINE_BREAKS)
#: What each character that may not be written as it is becomes in a basic string.
_ESCAPES = MappingProxyType(
    {**{c: f"\\u{c:04X}" for c in _CONTROLS}, **{ord(c): escaped for c, escaped in _SHORT.items()}}
)
#: The same in a comment, which may hold quotes, backslashes and tabs as they are.
_COMMENT_ESCAPES = MappingProxyType({c: f"\\u{c:04X}" for c in _CONTROLS if c != ord("\t")})
#: What to do about the usual reasons a file cannot be written.
_ADVICE = MappingProxyType(
    {
        errno.ENOSPC: "free some disk space and save it again",
        getattr(errno, "EDQUOT", errno.ENOSPC): "free some disk space and save it again",
        errno.EFBIG: "choose a folder that allows larger files",
        errno.ENOENT: "choose a folder that exists",
        errno.ENOTDIR: "choose a folder that exists",
        errno.EACCES: "choose a folder you may write to",
        errno.EPERM: "choose a folder you may write to",
        errno.EROFS: "choose a folder you may write to",
        errno.EISDIR: "choose a file name that is not a folder's",
    }
)


def lesson_toml(lesson: Lesson, *, comment: str | None = None) -> str:
    """The text of a lesson file for ``lesson``; ``comment``, if any, its first lines (``# …`` each)."""
    sections = [
        "\n".join(f"# {line}".rstrip() for line in _comment_lines(comment)),
        _lines(
            _named(
                [
                    ("id", lesson.id),
                    ("view", lesson.view),
                    ("mode", lesson.mode),
                    ("max_tokens", lesson.max_tokens),
                    ("step_mode", lesson.step_mode),
                    ("send", lesson.send),
                    ("show_step", lesson.show_step),
                ]
            )
        ),
        _table("[title]", _named(lesson.title.items())),
        _table("[explanation]", _named(lesson.explanation.items())),
        _table("[prompt]", _named(lesson.prompt.items())),
    ]
    if lesson.system is not None:
        sections.append(_table("[system]", _named(lesson.system.items())))
    if lesson.settings:
        sections.append(_table("[settings]", _named(lesson.settings.items())))
    for role, text in lesson.history:
        sections.append(_table("[[history]]", [("role", role), *_dotted("text", text)]))
    for answer in lesson.side_by_side:
        system = _dotted("system", answer.system) if answer.system is not None else []
        sections.append(_table("[[answers]]", [*_dotted("label", answer.label), *system]))
    if lesson.model is not None:
        languages = [("languages", lesson.model_languages)] if lesson.model_languages else []
        sections.append(_table("[model]", [*_model(lesson.model), *languages]))
    elif lesson.model_languages:
        raise ValueError(f"The lesson {lesson.id!r} names languages for its model but has no model.")
    if lesson.thinking is not None:
        thinking = lesson.thinking
        fallback = _dotted("fallback", thinking.fallback)
        sections.append(_table("[thinking]", [("max_tokens", thinking.max_tokens), *fallback]))
        if thinking.settings:
            sections.append(_table("[thinking.settings]", _named(thinking.settings.items())))
        sections.append(_table("[thinking.model]", _model(thinking.model)))
    return "\n\n".join(s for s in sections if s) + "\n"


def write_lesson(lesson: Lesson, path: Path, *, comment: str | None = None) -> None:
    """Write ``lesson`` to the lesson file ``path``, atomically: into a temporary file in the same folder,
    which then replaces ``path``. An OSError says in one sentence which file could not be written and why;
    no temporary file is left behind. ValueError: a text that cannot be written as UTF-8 (a lone
    surrogate, which no file read as UTF-8 can hold)."""
    try:
        data = lesson_toml(lesson, comment=comment).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"The lesson {lesson.id!r} cannot be written to {path}: a text of it holds a lone surrogate "
            f"({exc.object[exc.start]!r}), which UTF-8 cannot hold; remove it and save again."
        ) from None
    write_atomically(path, data)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` as the lesson file ``path``: into a temporary file in the same folder, made durable,
    which then replaces ``path``. An OSError says in one sentence which file could not be written and
    why; no temporary file is left behind."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(temporary, flags, 0o666)  # (the umask applies, as to any new file)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        error = _cannot_write(path, exc)
        try:
            temporary.unlink(missing_ok=True)
        except OSError as gone:  # said, not ignored: the file is there for the user to remove
            error = _cannot_write(path, exc, f"the temporary file {temporary} is left ({gone.strerror})")
        raise error from exc


def _cannot_write(path: Path, exc: OSError, left: str | None = None) -> OSError:
    reason = exc.strerror or str(exc)
    advice = _ADVICE.get(exc.errno or 0, "check the folder and save it again")
    also = f"; {left}" if left else ""
    error = OSError(f"The lesson file {path} cannot be written ({reason}{also}): {advice}.")
    error.errno = exc.errno  # (its text the sentence alone, without "[Errno …]")
    return error


def _comment_lines(comment: str | None) -> list[str]:
    # A comment may hold no control character but the tab: any other is written as its escape.
    return [line.translate(_COMMENT_ESCAPES) for line in (comment or "").splitlines()]


def _lines(pairs: Iterable[tuple[str, Any]]) -> str:
    """``key = value`` lines; each key as it is written (see ``_named`` and ``_dotted``)."""
    return "\n".join(f"{key} = {_value(value, key)}" for key, value in pairs)


def _table(header: str, pairs: Iterable[tuple[str, Any]]) -> str:
    return f"{header}\n{_lines(pairs)}"


def _named(pairs: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The pairs with their keys written out: bare, or quoted where a key is not a bare key."""
    return [(_key(key), value) for key, value in pairs]


def _dotted(name: str, texts: Mapping[str, str]) -> list[tuple[str, str]]:
    """``text.en = "…"`` lines: a text per language under ``name`` (a bare key)."""
    return [(f"{name}.{_key(language)}", text) for language, text in texts.items()]


def _model(model: CuratedModel) -> list[tuple[str, Any]]:
    """A recommended model's keys (bare), in the built-in files' order."""
    pairs: list[tuple[str, Any]] = [
        ("repo_id", model.repo_id),
        ("filename", model.filename),
        ("size_bytes", model.size_bytes),
    ]
    return pairs if model.sha256 is None else [*pairs, ("sha256", model.sha256)]


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _value(value: Any, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{key} = {value!r} cannot be written: a lesson file holds finite numbers only.")
        return repr(float(value))
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item, key) for item in value) + "]"
    raise TypeError(
        f"{key} = {value!r} cannot be written: a lesson file holds texts, numbers and true or false."
    )


def _string(text: str) -> str:
    return f'"{text.translate(_ESCAPES)}"'
