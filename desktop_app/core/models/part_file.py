"""The ``.part`` file of a download: written, hashed and flushed to disk by helper threads.

The network thread hands over what it receives (:meth:`PartWriter.write`). A writer thread writes each
block and feeds it to the SHA-256; a flusher thread calls ``fdatasync`` on the file each time another
:data:`FLUSH_EVERY` bytes were written, so the disk (and its cache) takes the data while the rest is
still arriving, and the ``fsync`` at the end (the data must be durable before the part is renamed into
place) has only the last few megabytes left instead of the whole file. ``sync_file_range`` is no
substitute: it neither commits the file system's journal nor flushes the disk's cache, which is where
the time of an ``fsync`` goes (on a virtual disk, about 1 ms per megabyte written since the last one).

``with PartWriter(fd, done) as writer:`` starts the threads. A part that already holds ``done`` bytes
(a resume) is hashed by the writer thread first, while the network thread already receives the rest;
after ``__enter__`` only the writer thread moves the file position, and the network thread touches the
file only while the writer is idle (:meth:`PartWriter.reset`). Leaving the ``with`` block writes
everything handed over and joins the threads, whatever happened, so a cancelled or failed download
keeps every byte that arrived. A write or flush error (a full disk) is raised on the network thread at
its next call.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
from pathlib import Path
from typing import Any

#: ``fdatasync`` the part each time this many more bytes were written.
FLUSH_EVERY = 8 * 1024 * 1024
#: At most this much received data waits for the helper thread before the network thread waits.
MAX_QUEUED_BYTES = 32 * 1024 * 1024
_READ_BLOCK = 1024 * 1024
_ABSORB = object()  # queue item: hash the bytes already in the part
_STOP = object()  # queue item: the thread ends


def _flush_to_disk(fd: int) -> None:
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


class PartWriter:
    """Writes, hashes and flushes a part file (an open ``fd``) on two helper threads.

    ``done`` is the number of bytes accepted so far (those already in the file, plus everything handed
    over), which is what a progress bar shows. Only the network thread calls the methods.
    """

    def __init__(
        self,
        fd: int,
        existing: int = 0,
        *,
        block_size: int = 1024 * 1024,
        flush_every: int = FLUSH_EVERY,
        max_queued_bytes: int = MAX_QUEUED_BYTES,
    ):
        self.fd = fd
        self.block_size = max(1, block_size)
        self.flush_every = max(1, flush_every)
        self.done = existing
        self._existing = existing
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(2, max_queued_bytes // self.block_size))
        self._writer = threading.Thread(target=self._write_loop, name="tokendice-part-writer", daemon=True)
        self._flusher = threading.Thread(target=self._flush_loop, name="tokendice-part-flush", daemon=True)
        self._abort = threading.Event()
        self._error: BaseException | None = None
        # The writer thread's, or the network thread's while the writer is idle (after a drain).
        self._digest = hashlib.sha256()
        # Bytes written since the flusher last started an fdatasync; guarded by _cond.
        self._cond = threading.Condition()
        self._unflushed = 0
        self._stopping = False
        self.flushes = 0  # fdatasync calls so far (for tests and benchmarks)

    # --- the network thread's side ----------------------------------------------------------------
    def __enter__(self) -> PartWriter:
        os.lseek(self.fd, self._existing, os.SEEK_SET)
        self._writer.start()
        self._flusher.start()
        if self._existing:
            self._queue.put(_ABSORB)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, chunk: bytes) -> None:
        """Accept received bytes; they go to the writer thread in blocks of ``block_size``."""
        self._pending.append(chunk)
        self._pending_bytes += len(chunk)
        self.done += len(chunk)
        if self._pending_bytes >= self.block_size:
            self.flush()

    def flush(self) -> None:
        """Hand the gathered bytes over now (they are written soon, not waited for)."""
        if self._error is not None:
            raise self._error
        if self._pending:
            chunks, self._pending, self._pending_bytes = self._pending, [], 0
            self._queue.put(chunks)

    def drain(self) -> None:
        """Wait until everything handed over is written and hashed; raise a helper's error."""
        self.flush()
        self._queue.join()
        if self._error is not None:
            raise self._error

    def reset(self) -> None:
        """Start the part over: empty file, fresh hash (the server sent another version, or all of it)."""
        self._pending, self._pending_bytes = [], 0
        self.drain()
        os.ftruncate(self.fd, 0)
        os.lseek(self.fd, 0, os.SEEK_SET)
        self._digest = hashlib.sha256()
        self.done = 0

    def finish(self) -> str:
        """Write what is left, make the whole file durable (``fsync``) and return its SHA-256."""
        self.drain()
        os.fsync(self.fd)
        if self._error is not None:  # the flusher's last fdatasync failed while this one worked
            raise self._error
        return self._digest.hexdigest()

    def close(self) -> None:
        """Write everything handed over, then end the helper threads (idempotent; never raises)."""
        if self._writer.is_alive():
            if self._pending:
                chunks, self._pending, self._pending_bytes = self._pending, [], 0
                self._queue.put(chunks)
            self._abort.set()  # only stops hashing an existing part: received bytes are still written
            self._queue.put(_STOP)
            self._writer.join()
        if self._flusher.is_alive():
            with self._cond:
                self._stopping = True
                self._cond.notify()
            self._flusher.join()

    # --- the writer thread ------------------------------------------------------------------------
    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                if self._error is None:  # after an error, what is handed over is dropped
                    if item is _ABSORB:
                        self._absorb()
                    else:
                        self._write(item)  # type: ignore[arg-type]
            except BaseException as exc:  # reaches the network thread at its next call
                self._error = exc
            finally:
                self._queue.task_done()

    def _absorb(self) -> None:
        """Hash the bytes the part already holds; the write position is back at their end afterwards."""
        pos = 0
        os.lseek(self.fd, 0, os.SEEK_SET)
        try:
            while pos < self._existing and not self._abort.is_set():
                block = os.read(self.fd, min(_READ_BLOCK, self._existing - pos))
                if not block:
                    raise OSError(f"the part file ended at {pos} bytes instead of {self._existing}")
                self._digest.update(block)
                pos += len(block)
        finally:
            os.lseek(self.fd, self._existing, os.SEEK_SET)

    def _write(self, chunks: list[bytes]) -> None:
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            if n <= 0:
                raise OSError("the disk accepted no bytes")
            view = view[n:]
        self._digest.update(data)
        with self._cond:
            self._unflushed += len(data)
            if self._unflushed >= self.flush_every:
                self._cond.notify()

    # --- the flusher thread -----------------------------------------------------------------------
    def _flush_loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or self._unflushed >= self.flush_every)
                if self._stopping:
                    return
                self._unflushed = 0  # what is written from now on needs the next fdatasync
            try:
                _flush_to_disk(self.fd)
                self.flushes += 1
            except OSError as exc:
                self._error = exc
                return


# --- the sidecar --------------------------------------------------------------------------------------
def resumable_bytes(part: Path, sidecar: Path, *, etag: str, size: int | None) -> int:
    """Bytes of an existing part that belong to this very file version (0: start over)."""
    try:
        saved = json.loads(sidecar.read_text(encoding="utf-8"))
        held = part.stat().st_size
    except (OSError, ValueError):
        return 0
    same = isinstance(saved, dict) and saved.get("etag") == etag and saved.get("size") == size
    return held if same and (size is None or held <= size) else 0


def write_sidecar(sidecar: Path, data: dict[str, Any]) -> None:
    """Write the sidecar that names the file version a part holds, atomically."""
    tmp = sidecar.with_name(sidecar.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, sidecar)
