"""Lessons as files: one TOML file a lesson (the built-in ones are under ``resources/lessons/``), read
and checked into a :class:`~desktop_app.core.lessons.Lesson` (and written back by
:mod:`desktop_app.core.lesson_writer`).

A lesson file has ``id``, ``view``, ``mode`` (``chat`` or ``plain``), ``max_tokens``, ``step_mode``,
``send`` and ``show_step``; the tables ``title``, ``explanation`` and ``prompt`` (and optionally ``system``,
where ``{today}`` is today's date) hold a text per language, one at least (the window shows its language's,
else the English, else the first: a teacher's lesson may be in their language alone); ``[settings]`` the
sampler settings (SamplerSettings' names); ``[[history]]`` earlier turns (a ``role`` and a ``text`` per
language); ``[[answers]]`` answers shown side by side (a ``label`` and an optional ``system`` per language);
``[model]`` the model recommended for the lesson (``repo_id``, ``filename``, ``size_bytes``, optionally
``sha256`` and ``languages``, the languages it is recommended in, such as ``["zh_TW"]``: without it, every
language); ``[thinking]`` what changes on a thinking model (``max_tokens``, ``fallback`` per language,
``[thinking.settings]``) and the thinking model it recommends (``[thinking.model]``: ``repo_id``,
``filename``, ``size_bytes``, optionally ``sha256``), which a lesson recommends in every language, before
its ``[model]``. A model that is a curated one (the same repository and file) is that curated entry, with
the lesson's ``sha256`` where it gives one."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_args

from desktop_app.core.lesson_types import Answer, ForThinking, Lesson, ShowStep, View
from desktop_app.core.models.curated import CURATED, CuratedModel
from desktop_app.core.sampler_settings import SamplerSettings

SUFFIX = ".toml"
MAX_BYTES = 1 << 20  # a lesson is a page of text, not a megabyte
MAX_TOKENS = 32768
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # (each matched whole: fullmatch)
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*")  # en, zh_TW, pt-BR, zh_Hant_TW
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TOP = {"id", "view", "mode", "max_tokens", "step_mode", "send", "show_step", "title", "explanation",
        "prompt", "system", "settings", "history", "answers", "model", "thinking"}  # fmt: skip
_SETTINGS = {f.name for f in fields(SamplerSettings)}
Path_ = tuple[str | int, ...]


class LessonFileError(ValueError):
    """A lesson file that cannot be used; the sentence names the file, the line and the field."""


def load_lesson(path: Path) -> Lesson:
    """The lesson in ``path``; :class:`LessonFileError` if it cannot be read or is not a lesson."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LessonFileError(f"{path.name}: the file cannot be read ({exc.strerror or exc}).") from None
    return lesson_from_bytes(data, path.name)


def lesson_from_bytes(data: bytes, name: str) -> Lesson:
    """The lesson in a lesson file's bytes (``name``: the file, for the sentences): at most MAX_BYTES of
    UTF-8 TOML."""
    if len(data) > MAX_BYTES:
        raise LessonFileError(f"{name} is larger than {MAX_BYTES:,} bytes: too large for a lesson file.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LessonFileError(f"{name}: not UTF-8 text (byte {exc.start} cannot be read).") from None
    return parse_lesson(text, name)


def parse_lesson(text: str, name: str = "lesson") -> Lesson:
    """The lesson in the TOML ``text`` (``name``: the file, for the sentences)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LessonFileError(f"{name}: not a valid TOML file: {exc}.") from None
    return _Reader(doc, text, name).lesson()


def load_lessons(folder: Path) -> tuple[Lesson, ...]:
    """Every lesson file in ``folder``, in the order of their names; two with one id are refused."""
    lessons: list[Lesson] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        lesson = load_lesson(path)
        if lesson.id in seen:
            raise LessonFileError(f"{path.name}: the id {lesson.id!r} is {seen[lesson.id]}'s already.")
        seen[lesson.id] = path.name
        lessons.append(lesson)
    return tuple(lessons)


class _Reader:
    def __init__(self, doc: dict[str, Any], text: str, name: str) -> None:
        self.doc, self.name = doc, name
        self.lines = text.splitlines()

    def fail(self, where: Path_, message: str) -> LessonFileError:
        line = _line_of(self.lines, where)
        at = f", line {line}" if line is not None else ""
        field = ".".join(str(p) if isinstance(p, str) else f"[{p + 1}]" for p in where).replace(".[", "[")
        return LessonFileError(f"{self.name}{at}: {field}: {message}")

    def lesson(self) -> Lesson:
        doc = self.doc
        self.known(doc, _TOP, ())
        lesson_id = self.need(doc, "id", str, ())
        if not _ID.fullmatch(lesson_id):
            raise self.fail(("id",), f"{lesson_id!r} is not an id: lowercase letters, digits, - and _.")
        view = self.choice(doc, "view", get_args(View), None)
        mode = self.choice(doc, "mode", ("chat", "plain"), "chat")
        show_step = self.choice(doc, "show_step", get_args(ShowStep), "last")
        settings = self.settings(doc.get("settings", {}), ("settings",))
        model, languages = self.for_lesson(doc["model"]) if "model" in doc else (None, ())
        return Lesson(
            lesson_id,
            self.texts(doc, "title", ()),
            self.texts(doc, "explanation", ()),
            self.texts(doc, "prompt", ()),
            view,  # type: ignore[arg-type]  (checked against View's values)
            mode=mode,  # type: ignore[arg-type]
            system=self.texts(doc, "system", ()) if "system" in doc else None,
            history=self.history(doc.get("history", [])),
            settings=settings,
            max_tokens=self.count(doc, "max_tokens", 48, ()),
            step_mode=self.flag(doc, "step_mode", False),
            send=self.flag(doc, "send", True),
            show_step=show_step,  # type: ignore[arg-type]
            side_by_side=self.answers(doc.get("answers", [])),
            thinking=self.thinking(doc["thinking"]) if "thinking" in doc else None,
            model=model,
            model_languages=languages,
        )

    # --- fields ----------------------------------------------------------------------------------
    def known(self, table: Any, allowed: set[str], where: Path_) -> None:
        if not isinstance(table, dict):
            raise self.fail(where, "must be a table.")
        for key in table:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail((*where, key), f"is not a field of a lesson here; known: {known}.")

    def need(self, table: Mapping[str, Any], key: str, kind: type, where: Path_) -> Any:
        if key not in table:
            raise self.fail(where or (key,), f"{key} is missing.")
        value = table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail((*where, key), f"must be {_kind(kind)}, not {value!r}.")
        return value

    def choice(self, doc: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str | None) -> str:
        if default is not None and key not in doc:
            return default
        value = self.need(doc, key, str, ())
        if value not in allowed:
            raise self.fail((key,), f"{value!r} is not one of {', '.join(allowed)}.")
        return value

    def count(self, table: Mapping[str, Any], key: str, default: int, where: Path_) -> int:
        if key not in table:
            return default
        value = self.need(table, key, int, where)
        if not 1 <= value <= MAX_TOKENS:
            raise self.fail((*where, key), f"must be from 1 to {MAX_TOKENS:,} tokens, not {value}.")
        return value

    def flag(self, doc: Mapping[str, Any], key: str, default: bool) -> bool:
        return default if key not in doc else self.need(doc, key, bool, ())

    def texts(self, table: Mapping[str, Any], key: str, where: Path_) -> MappingProxyType:
        """A text per language, one at least."""
        at = (*where, key)
        value = table.get(key)
        if value is None:
            raise self.fail(where or at, f'{key} is missing (a text per language, en = "…" at least).')
        if not isinstance(value, dict) or not value:
            raise self.fail(at, 'must be a table of texts by language (en = "…", zh_TW = "…").')
        for language, text in value.items():
            if not isinstance(text, str):
                raise self.fail((*at, language), f"must be text, not {text!r}.")
        return MappingProxyType(dict(value))

    def settings(self, table: Any, where: Path_) -> MappingProxyType:
        self.known(table, _SETTINGS, where)
        for key, value in table.items():
            try:
                SamplerSettings(**{key: value})
            except (ValueError, TypeError) as exc:
                raise self.fail((*where, key), str(exc)) from None
        try:
            SamplerSettings(**table)
        except (ValueError, TypeError) as exc:
            raise self.fail(where, str(exc)) from None
        return MappingProxyType(dict(table))

    def history(self, turns: Any) -> tuple[tuple[str, MappingProxyType], ...]:
        if not isinstance(turns, list):
            raise self.fail(("history",), "must be a list of turns ([[history]] tables).")
        out = []
        for i, turn in enumerate(turns):
            self.known(turn, {"role", "text"}, ("history", i))
            role = self.need(turn, "role", str, ("history", i))
            if role not in ("user", "assistant"):
                raise self.fail(("history", i, "role"), f"{role!r} is not user or assistant.")
            out.append((role, self.texts(turn, "text", ("history", i))))
        return tuple(out)

    def answers(self, answers: Any) -> tuple[Answer, ...]:
        if not isinstance(answers, list):
            raise self.fail(("answers",), "must be a list of answers ([[answers]] tables).")
        out = []
        for i, answer in enumerate(answers):
            self.known(answer, {"label", "system"}, ("answers", i))
            system = self.texts(answer, "system", ("answers", i)) if "system" in answer else None
            out.append(Answer(self.texts(answer, "label", ("answers", i)), system))
        return tuple(out)

    def thinking(self, table: Any) -> ForThinking:
        where: Path_ = ("thinking",)
        self.known(table, {"max_tokens", "fallback", "settings", "model"}, where)
        model = table.get("model")
        if model is None:
            raise self.fail(where, "model is missing: the thinking model the lesson recommends.")
        return ForThinking(
            self.settings(table.get("settings", {}), (*where, "settings")),
            self.count(table, "max_tokens", 1024, where),
            self.model(model, (*where, "model")),
            self.texts(table, "fallback", where),
        )

    def for_lesson(self, table: Any) -> tuple[CuratedModel, tuple[str, ...]]:
        """The ``[model]`` recommended for the lesson, and the languages it is recommended in."""
        where: Path_ = ("model",)
        model = self.model(table, where, ("languages",), thinks=False)
        if "languages" not in table:
            return model, ()
        languages = table["languages"]
        at = (*where, "languages")
        if not isinstance(languages, list):
            raise self.fail(at, f'must be a list of language codes such as ["zh_TW"], not {languages!r}.')
        if not languages:
            raise self.fail(at, "names no language: name one at least, or leave it out for every language.")
        for language in languages:
            if not (isinstance(language, str) and _LANGUAGE.fullmatch(language)):
                raise self.fail(at, f'{language!r} is not a language code such as "en" or "zh_TW".')
        return model, tuple(languages)

    def model(
        self, table: Any, where: Path_, more: tuple[str, ...] = (), *, thinks: bool = True
    ) -> CuratedModel:
        """A recommended model: the curated entry for that file (with the lesson's ``sha256``, if it gives
        one), or one made from the lesson's fields (``thinks``: what it is said to be then)."""
        self.known(table, {"repo_id", "filename", "size_bytes", "sha256", *more}, where)
        repo = self.need(table, "repo_id", str, where)
        filename = self.need(table, "filename", str, where)
        size = self.need(table, "size_bytes", int, where)
        if size <= 0:
            raise self.fail((*where, "size_bytes"), f"must be a size in bytes, not {size}.")
        sha = table.get("sha256")
        if sha is not None and not (isinstance(sha, str) and _SHA256.fullmatch(sha)):
            raise self.fail((*where, "sha256"), "must be 64 lowercase hexadecimal digits.")
        for curated in CURATED:
            if (curated.repo_id, curated.filename) == (repo, filename):
                return curated if sha is None else replace(curated, sha256=sha)
        return CuratedModel(repo, filename, size, "", "", "", thinks=thinks, sha256=sha)


def _kind(kind: type) -> str:
    return {str: "text", int: "a whole number", bool: "true or false"}.get(kind, kind.__name__)


def _line_of(lines: list[str], where: Path_) -> int | None:
    """The line where the field ``where`` is written (its key, or its table's header), if it is found."""
    table: tuple[str | int, ...] = ()
    counts: dict[tuple[str | int, ...], int] = {}
    for n, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            name = tuple(part.strip().strip('"') for part in line.strip("[] \t").split("."))
            if line.startswith("[["):
                index = counts[name] = counts.get(name, -1) + 1
                table = (*name, index)
            else:
                table = name
            if _under(where, table):
                return n
            continue
        if "=" in line:
            key = tuple(part.strip().strip('"') for part in line.split("=", 1)[0].split("."))
            if _under(where, (*table, *key)):
                return n
    return None


def _under(where: Path_, written: tuple[str | int, ...]) -> bool:
    """Whether ``written`` (a key or a table's header) is the field ``where`` or within it."""
    return written[: len(where)] == where
