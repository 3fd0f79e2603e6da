"""Where TokenDice keeps per-user state.

Everything lives in the platform's user folders for the app name ``TokenDice`` (via platformdirs), unless
the environment variable ``TOKENDICE_HOME`` names one folder, which then holds it all (portable mode; the
tests give every test its own).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from desktop_app import APP_NAME

HOME_ENV = "TOKENDICE_HOME"


@dataclass(frozen=True)
class AppPaths:
    """The folders and files of one TokenDice installation."""

    data_dir: Path
    config_dir: Path
    cache_dir: Path
    models_dir: Path
    log_dir: Path
    portable: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AppPaths:
        env = os.environ if environ is None else environ
        home = env.get(HOME_ENV, "").strip()
        if home:
            root = Path(home).expanduser().resolve()
            return cls(
                data_dir=root / "data",
                config_dir=root / "config",
                cache_dir=root / "cache",
                models_dir=root / "models",
                log_dir=root / "logs",
                portable=True,
            )
        data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
        return cls(
            data_dir=data,
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
            models_dir=data / "models",
            log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )

    @property
    def db_path(self) -> Path:
        return self.data_dir / "tokendice.sqlite3"

    @property
    def lessons_dir(self) -> Path:
        """The lesson packs a teacher opened, a folder each (see core/lesson_packs.py)."""
        return self.data_dir / "lessons"

    @property
    def settings_path(self) -> Path:
        return self.config_dir / "settings.json"

    def ensure(self) -> AppPaths:
        """Create the folders (idempotent) and return self (the log folder is made by what writes a log)."""
        for folder in (self.data_dir, self.config_dir, self.cache_dir, self.models_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    def as_dict(self) -> dict[str, str | bool]:
        return {
            "data_dir": str(self.data_dir),
            "config_dir": str(self.config_dir),
            "cache_dir": str(self.cache_dir),
            "models_dir": str(self.models_dir),
            "log_dir": str(self.log_dir),
            "database": str(self.db_path),
            "settings": str(self.settings_path),
            "portable": self.portable,
        }
