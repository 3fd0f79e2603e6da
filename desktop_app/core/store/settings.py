"""User settings that are not data: a JSON file with a schema version, read into a typed dataclass."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from desktop_app.core.engine.cpu_quirks import validate_choice as validate_extra_buffers
from desktop_app.core.language import DEFAULT as DEFAULT_LANGUAGE
from desktop_app.core.language import validate_choice

SETTINGS_VERSION = 1


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
        if not 128 <= self.n_ctx <= 1_048_576:
            raise ValueError(f"context size {self.n_ctx} is out of range (128 … 1,048,576)")
        if not (isinstance(self.n_gpu_layers, int) and self.n_gpu_layers >= -1) and self.n_gpu_layers not in (
            "auto",
            "all",
        ):
            raise ValueError(f"GPU layers must be a number, 'auto' or 'all', not {self.n_gpu_layers!r}")
        if not 5 <= self.top_n <= 50:
            raise ValueError(f"the chart shows 5 to 50 candidates, not {self.top_n}")
        validate_choice(self.language)
        validate_extra_buffers(self.extra_buffers)
        return self


# Migrations of the JSON document: version i → i + 1.
_MIGRATIONS: tuple[Callable[[dict[str, Any]], dict[str, Any]], ...] = ()


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    warning: str | None = None  # set when the file was unreadable and defaults were used


class SettingsStore:
    """Reads and writes ``settings.json`` atomically; an unreadable file is kept aside, never lost."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def load(self) -> LoadedSettings:
        if not self.path.exists():
            return LoadedSettings(Settings())
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(doc, dict):
                raise ValueError("the file does not hold a JSON object")
            return LoadedSettings(_from_document(doc))
        except (OSError, ValueError, TypeError) as exc:
            backup = self.path.with_suffix(".json.broken")
            try:
                os.replace(self.path, backup)
                kept = f" It was kept as {backup.name}."
            except OSError:
                kept = ""
            return LoadedSettings(
                Settings(), f"The settings file could not be read ({exc}); defaults are used.{kept}"
            )

    def save(self, settings: Settings) -> None:
        settings.validate()
        doc = {"schema_version": SETTINGS_VERSION, **asdict(settings)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


def _from_document(doc: Mapping[str, Any]) -> Settings:
    data = dict(doc)
    version = data.pop("schema_version", 0)
    if not isinstance(version, int) or version < 0:
        raise ValueError(f"bad schema_version {version!r}")
    if version > SETTINGS_VERSION:
        raise ValueError(f"the file was written by a newer TokenDice (settings version {version})")
    for migrate in _MIGRATIONS[max(version - 1, 0) : SETTINGS_VERSION - 1]:
        data = migrate(data)
    known = {f.name for f in fields(Settings)}
    return replace(Settings(), **{k: v for k, v in data.items() if k in known}).validate()
