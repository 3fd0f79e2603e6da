"""One version of one hub file, as the hub describes it, and the checks of local bytes against it.

A HEAD on the file's resolve URL gives its size, its ETag (the LFS SHA-256; a git blob id for small files
kept in git), the commit and where the bytes are. The sidecar beside a part file names that version, so
a later process resumes only the same one; a file already in place, and a finished part, are checked
against it before they count as downloaded.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from desktop_app.core.models.download_errors import DownloadError, DownloadRequest

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class RemoteFile:
    """One version of one file on the hub, as its metadata (HEAD on the resolve URL) describes it."""

    url: str  # the resolve URL
    location: str  # where the bytes are: the resolve URL or the CDN URL it redirects to
    size: int | None
    etag: str
    commit: str
    send_token: bool  # False when the location is another host (a signed CDN URL): never send it there

    @property
    def sha256(self) -> str | None:
        """The LFS SHA-256; None for small files kept in git, whose ETag is a git blob id."""
        return self.etag if _SHA256.match(self.etag) else None


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``: a token goes only where the hub itself is."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def matches(path: Path, remote: RemoteFile, cancel: threading.Event, chunk_size: int) -> bool:
    """Whether a file already in place is this version (same size, and same SHA-256 when known); False
    when ``cancel`` is set while it is hashed."""
    if remote.size is not None and path.stat().st_size != remote.size:
        return False
    if remote.sha256 is None:
        return remote.size is not None
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk_size):
            digest.update(block)
            if cancel.is_set():
                return False
    return digest.hexdigest() == remote.sha256


def sidecar_data(request: DownloadRequest, remote: RemoteFile) -> dict[str, object]:
    """What the part's sidecar says: the request, and the version being downloaded."""
    return {
        "format": 1,
        "repo_id": request.repo_id,
        "filename": request.filename,
        "revision": request.revision,
        "url": remote.url,
        "commit": remote.commit,
        "etag": remote.etag,
        "sha256": remote.sha256,
        "size": remote.size,
    }


def verify(
    request: DownloadRequest, remote: RemoteFile, part: Path, sidecar: Path, done: int, digest: str
) -> None:
    """Raise DownloadError(hash_mismatch), deleting the part and its sidecar, unless the ``done`` bytes
    with SHA-256 ``digest`` are this version."""
    problem = None
    if remote.size is not None and done != remote.size:
        problem = f"it has {done} bytes instead of the {remote.size} the hub announced"
    elif remote.sha256 is not None and digest != remote.sha256:
        problem = f"its SHA-256 is {digest[:12]}… instead of the hub's {remote.sha256[:12]}…"
    if problem is None:
        return
    part.unlink(missing_ok=True)
    sidecar.unlink(missing_ok=True)
    raise DownloadError(
        f"The download of {request.filename} was corrupted ({problem}), so it was deleted. "
        "Try again; if it fails the same way, your connection or disk may be damaging data.",
        "hash_mismatch",
    )
