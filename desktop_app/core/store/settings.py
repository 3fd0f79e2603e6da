"""User settings that are not data: a JSON file with a schema version, read into a typed dataclass.

Every field is checked on its own, by type and range. A field that is wrong (a fractional context size, a
word as the thread count, a number as the default model, text that is not UTF-8) falls back to its
default while the good fields are kept; a file that cannot be read at all (not JSON, not an object, empty,
written by a newer TokenDice) gives the defaults. Either way the user is told in one sentence
(:attr:`LoadedSettings.warning`) and the original is kept beside it as ``settings.json.broken`` (or
``settings.json.broken.2`` … when an earlier one is there): nothing the user wrote is lost. Keys this
version does not know are kept, also when the file is saved again.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from desktop_app.core.language import DEFAULT as DEFAULT_LANGUAGE
from desktop_app.core.language import validate_choice
from desktop_app.core.safe_text import is_utf8, shown
from desktop_app.core.store import json_file

#: llama.cpp's extra buffer types (weight repacking): off on Intel AMX CPUs with "auto" (engine/cpu_quirks).
EXTRA_BUFFER_CHOICES = ("auto", "on", "off")


def validate_extra_buffers(value: str) -> str:
    """``value`` if it is one of :data:`EXTRA_BUFFER_CHOICES`, else a ValueError that says what is."""
    if value not in EXTRA_BUFFER_CHOICES:
        raise ValueError(f"extra buffers must be 'auto', 'on' or 'off', not {value!r}")
    return value


SETTINGS_VERSION = 1
BROKEN_SUFFIX = ".broken"
MAX_CTX = 1_048_576
MAX_THREADS = 1024


@dataclass(frozen=True)
class Settings:
    default_model: str = "default"
    n_ctx: int = 4096
    n_gpu_layers: int | str = 0  # a count, or "auto" / "all"
    n_threads: int | None = None  # None: llama.cpp's choice
    top_n: int = 20
    language: str = DEFAULT_LANGUAGE  # "system" (follow the system's languages), "en" or "zh_TW"
    # llama.cpp's extra buffer types: "auto" (off on Intel AMX CPUs), "on" or "off" (see cpu_quirks).
    # A new key with a default needs no schema version: older files lack it, older apps ignore it.
    extra_buffers: str = "auto"

    def validate(self) -> Settings:
        """Self, if every field is valid; else ValueError with the first bad field's sentence."""
        for name, check in _CHECKS.items():
            check(getattr(self, name))
        return self


# --- one check per field: the value (normalised) or ValueError with a sentence ---------------------


def _whole(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)  # 4096.0 from a hand-edited file means 4096
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} must be a whole number from {low:,} to {high:,}, not {_shown(value)}")
    return value


def _text(value: Any, what: str, expected: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be {expected}, not {_shown(value)}")
    if not is_utf8(value):
        raise ValueError(f"{what} is not valid UTF-8 text: {_shown(value)}")
    return value


def _default_model(value: Any) -> str:
    return _text(value, "the default model", "a library id, a .gguf path or 'default'")


def _gpu_layers(value: Any) -> int | str:
    if isinstance(value, str) and value in ("auto", "all"):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < -1:
        raise ValueError(
            f"GPU layers must be 'auto', 'all' or a whole number of layers (-1 is all), not {_shown(value)}"
        )
    return value


def _threads(value: Any) -> int | None:
    if value is None:
        return None
    return _whole(value, "the thread count (null: llama.cpp's choice)", 1, MAX_THREADS)


def _top_n(value: Any) -> int:
    return _whole(value, "the number of candidates in the chart", 5, 50)


def _language(value: Any) -> str:
    return validate_choice(_text(value, "the language", "'system', 'en' or 'zh_TW'"))


def _extra_buffers(value: Any) -> str:
    return validate_extra_buffers(_text(value, "extra buffers", "'auto', 'on' or 'off'"))


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "default_model": _default_model,
    "n_ctx": lambda v: _whole(v, "the context size", 128, MAX_CTX),
    "n_gpu_layers": _gpu_layers,
    "n_threads": _threads,
    "top_n": _top_n,
    "language": _language,
    "extra_buffers": _extra_buffers,
}
assert set(_CHECKS) == {f.name for f in fields(Settings)}


def _json_text(value: Any) -> str:
    """VALUE as JSON (lone surrogates left in: ``ensure_ascii=False`` does not encode)."""
    return json.dumps(value, ensure_ascii=False)


def _is_utf8(value: Any) -> bool:
    """Whether VALUE (a JSON value) can be written as UTF-8: no undecodable bytes (lone surrogates)."""
    return is_utf8(_json_text(value))


def _shown(value: Any) -> str:
    """VALUE as the file shows it (JSON), short, with undecodable bytes as replacement characters."""
    text = shown(_json_text(value))
    return text if len(text) <= 60 else text[:57] + "…"


# Migrations of the JSON document: version i → i + 1.
_MIGRATIONS: tuple[Callable[[dict[str, Any]], dict[str, Any]], ...] = ()


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    # One sentence when something in the file could not be used (and what became of it), else None.
    warning: str | None = None
    problems: tuple[str, ...] = ()  # one sentence per field that fell back to its default
    kept_as: Path | None = None  # where the original file was kept


class _Unreadable(ValueError):
    """The whole file cannot be used: defaults, and the file kept aside."""


class SettingsStore:
    """Reads and writes ``settings.json`` atomically; a file that cannot be used is kept aside, never lost."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def load(self) -> LoadedSettings:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return LoadedSettings(Settings())
        except OSError as exc:
            return self._unusable(f"it cannot be opened: {exc.strerror or exc}")
        try:
            doc = _parse(raw)
            settings, problems, extras = _from_document(doc)
        except _Unreadable as exc:
            return self._unusable(str(exc))
        if not problems:
            return LoadedSettings(settings)
        backup = self._keep_copy(raw)
        if backup is not None:
            # Cannot write the repaired file: the defaults are used this time, the warning comes again.
            with contextlib.suppress(OSError):
                self._write(settings, extras)
        kept = f" The original file is kept as {backup.name}." if backup is not None else ""
        warning = shown(
            f"Some settings in {self.path} could not be used and are back to their defaults: "
            f"{'; '.join(problems)}.{kept}"
        )
        return LoadedSettings(settings, warning, tuple(problems), backup)

    def save(self, settings: Settings) -> None:
        settings.validate()
        self._write(settings, self._unknown_keys_on_disk())

    # --- helpers ----------------------------------------------------------------------------------
    def _write(self, settings: Settings, extras: Mapping[str, Any]) -> None:
        doc = {"schema_version": SETTINGS_VERSION, **asdict(settings), **extras}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def _unknown_keys_on_disk(self) -> dict[str, Any]:
        """The keys of the current file this version does not know (kept when saving), if it is readable."""
        try:
            _settings, _problems, extras = _from_document(_parse(self.path.read_bytes()))
        except (OSError, _Unreadable):
            return {}
        return extras

    def _backup_names(self) -> Iterator[Path]:
        """``settings.json.broken``, then ``settings.json.broken.2`` … (at most 1000)."""
        first = self.path.with_name(self.path.name + BROKEN_SUFFIX)
        yield first
        for n in range(2, 1001):
            yield first.with_name(f"{first.name}.{n}")

    def _backup_name(self) -> Path:
        """The first free backup name: an earlier backup is never written over (unless 1000 are there)."""
        for candidate in self._backup_names():
            if not (candidate.exists() or candidate.is_symlink()):
                return candidate
        return self.path.with_name(self.path.name + BROKEN_SUFFIX)

    def _keep_copy(self, raw: bytes) -> Path | None:
        """A copy of the original file's bytes beside it (an identical earlier copy is reused)."""
        for candidate in self._backup_names():
            if not candidate.exists():
                break
            try:
                if candidate.is_file() and candidate.read_bytes() == raw:
                    return candidate
            except OSError:
                continue
        backup = self._backup_name()
        tmp = backup.with_name(backup.name + ".tmp")
        try:
            tmp.write_bytes(raw)
            os.replace(tmp, backup)
        except OSError:
            return None
        return backup

    def _unusable(self, reason: str) -> LoadedSettings:
        backup = self._backup_name()
        try:
            os.replace(self.path, backup)
            kept = f" It was kept as {backup.name}."
        except OSError:
            backup, kept = None, ""
        return LoadedSettings(
            Settings(),
            shown(f"The settings file {self.path} could not be read ({reason}); defaults are used.{kept}"),
            kept_as=backup,
        )


def _parse(raw: bytes) -> dict[str, Any]:
    """The JSON object in RAW; bytes that are not UTF-8 come through as lone surrogates, which the
    fields' checks refuse one by one. Raises _Unreadable with the reason."""
    try:
        return json_file.parse_object(raw, of="settings")
    except json_file.Unreadable as exc:
        raise _Unreadable(str(exc)) from None


def _from_document(doc: Mapping[str, Any]) -> tuple[Settings, list[str], dict[str, Any]]:
    """(settings, one sentence per field that fell back to its default, the keys this version does not
    know that can be written back). Raises _Unreadable when the file as a whole cannot be used."""
    data = dict(doc)
    problems: list[str] = []
    version = data.pop("schema_version", 0)
    if isinstance(version, float) and version.is_integer():
        version = int(version)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        problems.append(f"schema_version must be a whole number, not {_shown(version)} (read as version 1)")
        version = SETTINGS_VERSION
    if version > SETTINGS_VERSION:
        raise _Unreadable(f"it was written by a newer TokenDice (settings version {version})")
    for migrate in _MIGRATIONS[max(version - 1, 0) : SETTINGS_VERSION - 1]:
        data = migrate(data)
    good: dict[str, Any] = {}
    for name, check in _CHECKS.items():
        if name not in data:
            continue
        try:
            good[name] = check(data[name])
        except ValueError as exc:
            problems.append(str(exc))
    extras = {k: v for k, v in data.items() if k not in _CHECKS and _is_utf8(k) and _is_utf8(v)}
    return replace(Settings(), **good), problems, extras
