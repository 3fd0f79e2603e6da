"""The core services of one installation — paths, lock, database, library, settings, chats, presets."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.core.models.library import Library
from desktop_app.core.store.chats import ChatStore
from desktop_app.core.store.db import Database
from desktop_app.core.store.lock import InstanceLock, InstanceLocked
from desktop_app.core.store.presets import PresetStore
from desktop_app.core.store.settings import LoadedSettings, SettingsStore
from desktop_app.paths import AppPaths


@dataclass
class Services:
    paths: AppPaths
    db: Database
    library: Library
    settings_store: SettingsStore
    settings: LoadedSettings
    chats: ChatStore
    presets: PresetStore
    lock: InstanceLock | None = None  # None: another TokenDice holds it and the database is read-only
    locked_by: InstanceLocked | None = None  # why the database is read-only (its sentence), if it is

    @property
    def read_only(self) -> bool:
        return self.db.read_only

    @classmethod
    def open(cls, paths: AppPaths | None = None, *, read_only_if_locked: bool = False) -> Services:
        """Take the instance lock and open everything.

        When another TokenDice holds the lock this raises ``InstanceLocked`` (a ``DatabaseError`` whose
        message is the sentence to show), unless ``read_only_if_locked``: then the database opens
        read-only (for commands that only read) and ``locked_by`` says why.
        """
        paths = (paths or AppPaths.from_env()).ensure()
        lock: InstanceLock | None = None
        locked_by: InstanceLocked | None = None
        try:
            lock = InstanceLock.for_folder(paths.data_dir)
        except InstanceLocked as exc:
            if not read_only_if_locked:
                raise
            locked_by = exc
        try:
            db = Database(paths.db_path, read_only=lock is None)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        try:
            library = Library(db)
            if not db.read_only:
                library.ensure_bundled()
            store = SettingsStore(paths.settings_path)
            return cls(
                paths, db, library, store, store.load(), ChatStore(db), PresetStore(db), lock, locked_by
            )
        except BaseException:
            db.close()
            if lock is not None:
                lock.release()
            raise

    def close(self) -> None:
        try:
            self.db.close()
        finally:
            if self.lock is not None:
                self.lock.release()
