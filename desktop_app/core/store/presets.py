"""Sampler presets (built-in and the user's own) and what the user chose for each model."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.store.db import Database, utc_now
from desktop_app.core.store.settings import Settings

if TYPE_CHECKING:
    import sqlite3

    from desktop_app.core.store.guarded import GuardedConnection

# Read-only: a tuple of frozen settings. Seeds stay random (None); the session picks one per run.
BUILTIN_PRESETS: tuple[tuple[str, SamplerSettings], ...] = (
    ("llama.cpp defaults", SamplerSettings()),
    ("Greedy (temperature 0)", SamplerSettings(temperature=0.0)),
    (
        "Model's own distribution (temperature 1, no filters)",
        SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0),
    ),
    ("Creative", SamplerSettings(temperature=1.2, top_k=0, top_p=1.0, min_p=0.1)),
)
_MAX_NAME = 80


class PresetNotFound(LookupError):
    """No preset with that name."""


@dataclass(frozen=True)
class Preset:
    name: str
    settings: SamplerSettings
    builtin: bool = False
    created_at: str | None = None  # None for built-in presets


@dataclass(frozen=True)
class ModelSettings:
    """What the user chose for one model; a model never configured reads as the app's defaults."""

    model_id: str
    n_ctx: int
    n_gpu_layers: int | str  # a count, -1, or "auto" / "all"
    template_override: str | None = None  # a Jinja chat template used instead of the GGUF's
    sampler_preset: str | None = None
    stored: bool = False  # False: nothing saved for this model, these are the defaults
    updated_at: str | None = None


class PresetStore:
    """Presets and per-model settings in the app database."""

    def __init__(self, db: Database):
        self.db = db

    # --- presets --------------------------------------------------------------------------------
    def list_presets(self) -> list[Preset]:
        """Built-in presets first (in their order), then the user's by name."""
        rows = self.db.conn.execute(
            "SELECT name, settings, created_at FROM presets ORDER BY name COLLATE NOCASE"
        )
        return [Preset(n, s, True) for n, s in BUILTIN_PRESETS] + [_preset(r) for r in rows]

    def get(self, name: str) -> Preset:
        builtin = _builtin(name)
        if builtin is not None:
            return builtin
        row = self.db.conn.execute(
            "SELECT name, settings, created_at FROM presets WHERE name = ?", (name.strip(),)
        ).fetchone()
        if row is None:
            raise PresetNotFound(f"There is no preset called {name!r}.")
        return _preset(row)

    def exists(self, name: str) -> bool:
        try:
            self.get(name)
        except PresetNotFound:
            return False
        return True

    def save(self, name: str, settings: SamplerSettings) -> Preset:
        """Save (or overwrite) a user preset; built-in names are refused."""
        name = _check_name(name)
        blob = json.dumps(settings.to_dict())
        with self.db.transaction() as c:
            c.execute(
                "INSERT INTO presets(name, settings, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET name = excluded.name, settings = excluded.settings",
                (name, blob, utc_now()),
            )
        return self.get(name)

    def delete(self, name: str) -> None:
        """Delete a user preset; models that used it fall back to no preset."""
        if _builtin(name) is not None:
            raise ValueError(f"{name!r} is a built-in preset and cannot be deleted.")
        with self.db.transaction() as c:
            row = c.execute("SELECT name FROM presets WHERE name = ?", (name.strip(),)).fetchone()
            if row is None:
                raise PresetNotFound(f"There is no preset called {name!r}.")
            c.execute("DELETE FROM presets WHERE name = ?", (row[0],))
            c.execute(
                "UPDATE model_settings SET sampler_preset = NULL, updated_at = ? "
                "WHERE sampler_preset = ? COLLATE NOCASE",
                (utc_now(), row[0]),
            )

    # --- per-model settings ---------------------------------------------------------------------
    def model_settings(self, model_id: str, defaults: Settings | None = None) -> ModelSettings:
        """The settings for a model; what was never set comes from ``defaults`` (the app settings)."""
        base = defaults or Settings()
        row = self.db.conn.execute(
            "SELECT n_ctx, n_gpu_layers, template_override, sampler_preset, updated_at "
            "FROM model_settings WHERE model_id = ?",
            (model_id,),
        ).fetchone()
        if row is None:
            return ModelSettings(model_id, base.n_ctx, base.n_gpu_layers)
        return ModelSettings(
            model_id,
            base.n_ctx if row[0] is None else int(row[0]),
            base.n_gpu_layers if row[1] is None else _gpu_layers(row[1]),
            row[2],
            row[3],
            True,
            row[4],
        )

    def set_model_settings(self, settings: ModelSettings) -> ModelSettings:
        """Save what the user chose for a model (validated; the preset must exist)."""
        Settings(n_ctx=settings.n_ctx, n_gpu_layers=settings.n_gpu_layers).validate()
        if settings.sampler_preset is not None and not self.exists(settings.sampler_preset):
            raise PresetNotFound(f"There is no preset called {settings.sampler_preset!r}.")
        now = utc_now()
        with self.db.transaction() as c:
            _upsert_model(c, replace(settings, updated_at=now))
        return self.model_settings(settings.model_id)

    def forget_model_settings(self, model_id: str) -> None:
        """Back to the defaults for this model."""
        with self.db.transaction() as c:
            c.execute("DELETE FROM model_settings WHERE model_id = ?", (model_id,))


def _upsert_model(c: GuardedConnection, s: ModelSettings) -> None:
    c.execute(
        "INSERT INTO model_settings(model_id, n_ctx, n_gpu_layers, template_override, sampler_preset, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(model_id) DO UPDATE SET n_ctx = excluded.n_ctx, "
        "n_gpu_layers = excluded.n_gpu_layers, template_override = excluded.template_override, "
        "sampler_preset = excluded.sampler_preset, updated_at = excluded.updated_at",
        (s.model_id, s.n_ctx, str(s.n_gpu_layers), s.template_override, s.sampler_preset, s.updated_at),
    )


def _builtin(name: str) -> Preset | None:
    key = name.strip().casefold()
    for builtin_name, settings in BUILTIN_PRESETS:
        if builtin_name.casefold() == key:
            return Preset(builtin_name, settings, True)
    return None


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValueError("A preset needs a name.")
    if len(name) > _MAX_NAME:
        raise ValueError(f"A preset name has at most {_MAX_NAME} characters, not {len(name)}.")
    if _builtin(name) is not None:
        raise ValueError(f"{name!r} is a built-in preset; save yours under another name.")
    return name


def _preset(row: sqlite3.Row) -> Preset:
    return Preset(row[0], SamplerSettings.from_dict(json.loads(row[1])), False, row[2])


def _gpu_layers(text: str) -> int | str:
    return text if text in ("auto", "all") else int(text)


__all__ = ["BUILTIN_PRESETS", "ModelSettings", "Preset", "PresetNotFound", "PresetStore"]
