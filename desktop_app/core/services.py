"""The core services of one installation — paths, lock, database, library, settings, chats, presets."""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass, field

from desktop_app.core.models.library import Library
from desktop_app.core.store.chats import ChatStore
from desktop_app.core.store.db import (
    Database,
    DatabaseFull,
    DatabaseReadOnly,
    full_at_open_sentence,
    read_only_sentence,
    write_problem,
)
from desktop_app.core.store.lock import InstanceLock, InstanceLocked
from desktop_app.core.store.presets import PresetStore
from desktop_app.core.store.repair import RepairReport, repair_database
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
    lock: InstanceLock | None = None  # None: another TokenDice holds it, or the folder cannot be written
    locked_by: InstanceLocked | None = None  # why the database is read-only (its sentence), if it is
    # Sentences about the database for the user, oldest first: why it opened read-only (a file or folder
    # that cannot be written), that it was deleted while running and written out anew, … The window
    # shows them (set_notice_handler); the CLI's commands say what matters in their own errors.
    notices: list[str] = field(default_factory=list)
    _notice_handler: Callable[[str], None] | None = field(default=None, repr=False)

    @property
    def read_only(self) -> bool:
        return self.db.read_only

    @property
    def read_only_reason(self) -> str | None:
        """The sentence that says why nothing can be saved (None when the database can be written)."""
        return self.db.read_only_reason

    @classmethod
    def open(
        cls, paths: AppPaths | None = None, *, read_only_if_locked: bool = False, check: bool = False
    ) -> Services:
        """Take the instance lock and open everything.

        When another TokenDice holds the lock this raises ``InstanceLocked`` (a ``DatabaseError`` whose
        message is the sentence to show), unless ``read_only_if_locked``: then the database opens
        read-only (for commands that only read) and ``locked_by`` says why. A database file or data folder
        that cannot be written opens read-only too, always, and :attr:`notices` says so.

        ``check``: read every page of the database first (the window does): ``DatabaseDamaged`` with the
        sentence naming the repair when one is damaged. Every failure is a ``DatabaseError`` sentence.
        """
        paths = paths or AppPaths.from_env()
        try:
            paths.ensure()
        except OSError as exc:
            if not paths.data_dir.is_dir():
                raise DatabaseReadOnly(
                    f"TokenDice cannot create its data folder {paths.data_dir} ({exc.strerror or exc}). "
                    "Make its parent folder writable, or set TOKENDICE_HOME to a folder that is."
                ) from exc
        lock: InstanceLock | None = None
        locked_by: InstanceLocked | None = None
        reason: str | None = None
        try:
            lock = InstanceLock.for_folder(paths.data_dir)
        except InstanceLocked as exc:
            if not read_only_if_locked:
                raise
            locked_by = exc
        except OSError as exc:  # a read-only folder (or lock file): nobody can write here, us included
            why = exc.strerror or str(exc)
            if exc.errno == errno.ENOSPC:
                reason = full_at_open_sentence(paths.db_path, why)
            else:
                reason = read_only_sentence(paths.db_path, f"its folder cannot be written: {why}")
        if reason is None and locked_by is None and (problem := write_problem(paths.db_path)):
            reason = read_only_sentence(paths.db_path, problem)
        if reason is not None and not paths.db_path.is_file():
            if lock is not None:
                lock.release()
            raise DatabaseReadOnly(
                f"TokenDice cannot create its database {paths.db_path}: "
                f"{write_problem(paths.db_path) or 'its folder cannot be written'}. Make the folder "
                "writable, or set TOKENDICE_HOME to a folder that is."
            )
        try:
            read_only = lock is None or reason is not None
            try:
                db = Database(paths.db_path, read_only=read_only, read_only_reason=reason)
            except DatabaseFull as exc:  # no room even to open it for writing: read it, and say why
                if read_only:
                    raise
                reason = str(exc)
                db = Database(paths.db_path, read_only=True, read_only_reason=reason)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        try:
            if check:
                db.check()
            library = Library(db)
            if not db.read_only:
                library.ensure_bundled()
            store = SettingsStore(paths.settings_path)
            services = cls(
                paths, db, library, store, store.load(), ChatStore(db), PresetStore(db), lock, locked_by
            )
        except BaseException:
            db.close()
            if lock is not None:
                lock.release()
            raise
        if reason is not None:
            services.notices.append(reason)
        db.notify = services._notice
        return services

    @staticmethod
    def repair(paths: AppPaths | None = None) -> RepairReport:
        """Move a damaged database aside (kept as it was) and start a new one with everything that can still
        be read (``tokendice db repair``; the window offers it). Takes the instance lock for the while:
        ``InstanceLocked`` while another TokenDice runs. A database that is not damaged is left alone."""
        paths = (paths or AppPaths.from_env()).ensure()
        with InstanceLock.for_folder(paths.data_dir):
            return repair_database(paths.db_path)

    def set_notice_handler(self, handler: Callable[[str], None] | None) -> None:
        """Call ``handler`` with each notice: those so far at once, then each new one as it comes."""
        self._notice_handler = handler
        if handler is not None:
            for text in list(self.notices):
                handler(text)

    def _notice(self, text: str) -> None:
        """The database's news (it was written out anew): take the lock again if its file went too."""
        if self.lock is not None and not self.lock.path.exists():
            self.lock.release()
            self.lock = None
            try:
                self.lock = InstanceLock.for_folder(self.paths.data_dir)
            except (InstanceLocked, OSError) as exc:
                text = f"{text} ({exc})"
        self.notices.append(text)
        if self._notice_handler is not None:
            self._notice_handler(text)

    def close(self) -> None:
        try:
            self.db.close()
        finally:
            if self.lock is not None:
                self.lock.release()
