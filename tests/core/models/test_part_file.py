"""The part writer: every byte written in order and hashed, flushed along the way, errors surfaced."""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from pathlib import Path

import pytest

from desktop_app.core.models import part_file
from desktop_app.core.models.part_file import PartWriter, resumable_bytes, write_sidecar

MB = 1024 * 1024


def chunks(data: bytes, size: int = 65536) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def open_part(path: Path, data: bytes = b"") -> int:
    path.write_bytes(data)
    return os.open(path, os.O_RDWR)


def test_everything_handed_over_is_written_hashed_and_flushed_along_the_way(tmp_path: Path):
    data = random.Random(1).randbytes(10 * MB + 12345)
    path = tmp_path / "x.part"
    fd = open_part(path)
    try:
        with PartWriter(fd, block_size=MB, flush_every=2 * MB) as writer:
            first = 4 * MB
            for c in chunks(data[:first]):
                writer.write(c)
            writer.drain()  # 4 MB written: the flusher has its reason to fdatasync, while more arrives
            deadline = time.monotonic() + 10
            while writer.flushes == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert writer.flushes >= 1  # flushed along the way, not only at the end
            for c in chunks(data[first:]):
                writer.write(c)
            assert writer.done == len(data)
            digest = writer.finish()
            flushes = writer.flushes
    finally:
        os.close(fd)
    assert path.read_bytes() == data
    assert digest == hashlib.sha256(data).hexdigest()
    # At most one fdatasync per 2 MB written, not one per block (how many exactly depends on how fast
    # the disk answers: a slow fdatasync covers what arrived meanwhile).
    assert 1 <= flushes <= 5


def test_a_resumed_part_is_hashed_from_the_start(tmp_path: Path):
    data = random.Random(2).randbytes(3 * MB)
    cut = 1_234_567
    path = tmp_path / "x.part"
    fd = open_part(path, data[:cut])
    try:
        with PartWriter(fd, cut, block_size=256 * 1024) as writer:
            assert writer.done == cut
            for c in chunks(data[cut:]):
                writer.write(c)
            digest = writer.finish()
    finally:
        os.close(fd)
    assert path.read_bytes() == data and digest == hashlib.sha256(data).hexdigest()


def test_reset_starts_the_file_and_the_hash_over(tmp_path: Path):
    path = tmp_path / "x.part"
    fd = open_part(path, b"old bytes of another version")
    try:
        with PartWriter(fd, 28) as writer:
            writer.write(b"more of the old")
            writer.reset()
            assert writer.done == 0
            writer.write(b"new")
            digest = writer.finish()
    finally:
        os.close(fd)
    assert path.read_bytes() == b"new" and digest == hashlib.sha256(b"new").hexdigest()


def test_leaving_on_an_error_keeps_every_byte_that_arrived(tmp_path: Path):
    data = random.Random(3).randbytes(5 * MB + 1)
    path = tmp_path / "x.part"
    fd = open_part(path)
    try:
        with pytest.raises(KeyboardInterrupt), PartWriter(fd, block_size=MB) as writer:
            for c in chunks(data):
                writer.write(c)
            raise KeyboardInterrupt  # not flushed, not finished: the last partial block is still pending
    finally:
        os.close(fd)
    assert path.read_bytes() == data


def test_a_write_error_reaches_the_network_thread(tmp_path: Path):
    path = tmp_path / "x.part"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDONLY)  # every write fails (EBADF), as a full disk would
    try:
        with PartWriter(fd, block_size=1024) as writer:
            with pytest.raises(OSError):
                for _ in range(100):
                    writer.write(b"x" * 1024)
                writer.drain()
            with pytest.raises(OSError):
                writer.finish()
    finally:
        os.close(fd)


def test_the_threads_end_with_the_block(tmp_path: Path):
    fd = open_part(tmp_path / "x.part")
    before = set(threading.enumerate())
    try:
        with PartWriter(fd) as writer:
            writer.write(b"abc")
            assert {t.name for t in set(threading.enumerate()) - before} == {
                "tokendice-part-writer",
                "tokendice-part-flush",
            }
    finally:
        os.close(fd)
    assert set(threading.enumerate()) - before == set()


def test_fsync_comes_after_the_last_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "x.part"
    fd = open_part(path)
    seen: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(part_file.os, "fsync", lambda f: (seen.append(os.fstat(f).st_size), real_fsync(f)))
    try:
        with PartWriter(fd, block_size=MB) as writer:
            for c in chunks(b"z" * (3 * MB + 5)):
                writer.write(c)
            writer.finish()
    finally:
        os.close(fd)
    assert seen == [3 * MB + 5]


def test_the_sidecar_names_the_version_a_part_belongs_to(tmp_path: Path):
    part, sidecar = tmp_path / "f.part", tmp_path / "f.part.json"
    part.write_bytes(b"x" * 100)
    assert resumable_bytes(part, sidecar, etag="e1", size=1000) == 0  # no sidecar: start over
    write_sidecar(sidecar, {"etag": "e1", "size": 1000})
    assert resumable_bytes(part, sidecar, etag="e1", size=1000) == 100
    assert resumable_bytes(part, sidecar, etag="e2", size=1000) == 0  # another version on the hub
    assert resumable_bytes(part, sidecar, etag="e1", size=50) == 0  # longer than the file
    sidecar.write_text("{not json")
    assert resumable_bytes(part, sidecar, etag="e1", size=1000) == 0
