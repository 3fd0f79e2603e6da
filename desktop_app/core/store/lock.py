"""One TokenDice at a time writes the data folder: an exclusive lock on a lock file, held while open.

The lock is the operating system's (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows), so a
process that dies, even by SIGKILL, releases it: no stale lock to clean up. The holder writes its PID
into the file so a second instance can say who holds it. The file itself stays (deleting it would
race with another process that has it open).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from desktop_app.core.store.db import DatabaseError

LOCK_FILENAME = "tokendice.lock"
# Windows locks are mandatory: lock a byte past the PID text so others can still read the PID.
_WIN_LOCK_OFFSET = 4096


class InstanceLocked(DatabaseError):
    """Another TokenDice holds the data folder; the message says which process and what to do."""

    def __init__(self, path: Path, pid: int | None):
        self.path = Path(path)
        self.pid = pid
        who = f"process {pid}" if pid is not None else "another process"
        super().__init__(
            f"TokenDice is already running ({who}); its data folder {self.path.parent} is in use. "
            "Switch to that window, or close it and try again. Commands that only read can still "
            "open the data read-only."
        )


class InstanceLock:
    """The exclusive lock on ``<data folder>/tokendice.lock``; ``acquire`` or raise ``InstanceLocked``."""

    def __init__(self, path: Path, fd: int):
        self.path = Path(path)
        self._fd: int | None = fd

    @classmethod
    def for_folder(cls, data_dir: Path) -> InstanceLock:
        return cls.acquire(Path(data_dir) / LOCK_FILENAME)

    @classmethod
    def acquire(cls, path: Path) -> InstanceLock:
        """Take the lock without waiting; ``InstanceLocked`` when another process (or open) holds it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            locked = _try_lock(fd)
        except BaseException:
            os.close(fd)
            raise
        if not locked:
            os.close(fd)
            raise InstanceLocked(path, holder_pid(path))
        # The PID is a courtesy to a second instance; the lock is what counts (a full disk keeps the PID out).
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"{os.getpid()}\n".encode())
        return cls(path, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):  # a PID left in the file is harmless: only the lock counts
            os.ftruncate(fd, 0)
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder_pid(path: Path) -> int | None:
    """The PID written in a lock file, or None when it cannot be read."""
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


__all__ = ["LOCK_FILENAME", "InstanceLock", "InstanceLocked", "holder_pid"]
