"""The core services of one installation — paths, database, library, settings — opened together."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.core.models.library import Library
from desktop_app.core.store.db import Database
from desktop_app.core.store.settings import LoadedSettings, SettingsStore
from desktop_app.paths import AppPaths


@dataclass
class Services:
    paths: AppPaths
    db: Database
    library: Library
    settings_store: SettingsStore
    settings: LoadedSettings

    @classmethod
    def open(cls, paths: AppPaths | None = None) -> Services:
        paths = (paths or AppPaths.from_env()).ensure()
        db = Database(paths.db_path)
        library = Library(db)
        library.ensure_bundled()
        store = SettingsStore(paths.settings_path)
        return cls(paths, db, library, store, store.load())

    def close(self) -> None:
        self.db.close()
