"""Resumable, verified downloads of one hub file into the models folder.

A file ``owner/repo:file.gguf`` lands at ``models_dir/owner/repo/file.gguf``. While it downloads it lives
in ``file.gguf.part`` beside a ``file.gguf.part.json`` sidecar that names the file version (the hub's ETag,
which is the LFS SHA-256, and the size), so a later process resumes it with a ``Range`` request, or
starts over if the hub now serves another version. The data is hashed while it is written; the SHA-256
is compared with the hub's before the part is renamed into place with ``os.replace``.

The hub is reached through huggingface_hub's own helpers (``hf_hub_url``, ``get_hf_file_metadata``,
``build_hf_headers``, its shared HTTP client from ``get_session``), so ``HF_ENDPOINT``, ``HF_TOKEN`` or the
token stored by ``hf auth login``, and ``HF_HUB_OFFLINE`` are respected. The part file is written,
hashed and flushed to disk on helper threads (part_file.py); the version checks are in remote_file.py,
the sentences for failures in download_errors.py. The window queues downloads on a worker thread
(ui/downloads.py). No Qt here.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app import __version__
from desktop_app.core.models.download_errors import (
    DownloadError,
    DownloadRequest,
    ErrorKind,
    Retry,
    check_cancel,
    check_names,
    http_error,
    hub_offline,
    local_error,
    offline_error,
)

if TYPE_CHECKING:
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

# huggingface_hub and httpx2 (its HTTP client library: here only its exception and timeout types) are
# imported by the methods that reach the hub, so that making a Downloader (the window does at its start)
# costs nothing.
from desktop_app.core.models.part_file import PartWriter, resumable_bytes, write_sidecar
from desktop_app.core.models.progress import Meter, Progress
from desktop_app.core.models.remote_file import RemoteFile, matches, origin, sidecar_data, verify
from desktop_app.core.units import size_text

log = logging.getLogger(__name__)

SPACE_MARGIN = 32 * 1024 * 1024  # bytes kept free beyond the file itself


class Downloader:
    """Downloads one hub file at a time into ``models_dir/<owner>/<repo>/<filename>``.

    ``endpoint`` None means ``HF_ENDPOINT`` (read when a download starts), else huggingface.co.
    ``token`` None means huggingface_hub's own choice: ``HF_TOKEN``, else the token ``hf auth login``
    stored. The token is never logged, stored, or sent to another host than the hub.
    ``free_space`` (a folder → free bytes) replaces ``shutil.disk_usage`` in tests.
    """

    def __init__(
        self,
        models_dir: Path,
        *,
        endpoint: str | None = None,
        token: str | None = None,
        retries: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        max_retry_after_s: float = 60.0,
        chunk_size: int = 1024 * 1024,
        timeout_s: float = 30.0,
        free_space: Callable[[Path], int] | None = None,
    ):
        self.models_dir = Path(models_dir)
        self._endpoint = endpoint.rstrip("/") if endpoint else None
        self._token = token
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_retry_after_s = max_retry_after_s
        self.chunk_size = chunk_size
        self.timeout_s = timeout_s
        self._free_space = free_space or (lambda folder: shutil.disk_usage(folder).free)

    @property
    def timeout(self) -> httpx2.Timeout:
        import httpx2

        return httpx2.Timeout(self.timeout_s, connect=min(self.timeout_s, 10.0))

    @property
    def endpoint(self) -> str:
        from huggingface_hub import constants

        return (self._endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")

    def target_path(self, request: DownloadRequest) -> Path:
        """Where the file will be; raises DownloadError(bad_name) for names that would leave the folder."""
        check_names(request)
        root = self.models_dir.resolve()
        target = root.joinpath(*request.repo_id.split("/"), *request.filename.split("/"))
        if not target.resolve().is_relative_to(root):
            raise DownloadError(f"“{request.filename}” would be saved outside the models folder.", "bad_name")
        return target

    # --- the download ----------------------------------------------------------------------------
    def download(
        self,
        request: DownloadRequest,
        *,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Path:
        """Download (or resume) the file and return its final path once its hash is verified.

        LFS files (every GGUF) are checked against the hub's SHA-256. Small files kept in git have no
        published SHA-256 (their ETag is a git blob id): they are verified by size only. An existing
        final file that already matches is returned without downloading. Raises DownloadError.
        """
        target = self.target_path(request)
        if hub_offline():
            raise DownloadError(
                f"Cannot download {request}: Hugging Face offline mode is on (HF_HUB_OFFLINE). "
                "Unset HF_HUB_OFFLINE to download models.",
                "offline",
            )
        cancel = cancel or threading.Event()
        remote = self._metadata(request, cancel)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_dir():
                raise IsADirectoryError(errno.EISDIR, "a folder is in its place", str(target))
            if target.is_file() and matches(target, remote, cancel, self.chunk_size):
                Meter(progress, remote.size).update(remote.size or target.stat().st_size, force=True)
                return target
            check_cancel(cancel, request)
        except OSError as exc:
            raise local_error(exc, target, request) from exc
        part = target.with_name(target.name + ".part")
        try:
            return self._transfer(request, remote, target, part, progress, cancel)
        except OSError as exc:
            raise local_error(exc, part, request) from exc

    def _transfer(
        self,
        request: DownloadRequest,
        remote: RemoteFile,
        target: Path,
        part: Path,
        progress: Callable[[Progress], None] | None,
        cancel: threading.Event,
    ) -> Path:
        sidecar = part.with_name(part.name + ".json")
        done = resumable_bytes(part, sidecar, etag=remote.etag, size=remote.size)
        if done == 0:
            part.write_bytes(b"")
            write_sidecar(sidecar, sidecar_data(request, remote))
        self.check_space(target.parent, (remote.size or 0) - done, request.filename)
        meter = Meter(progress, remote.size)
        fd = os.open(part, os.O_RDWR | getattr(os, "O_BINARY", 0))
        try:
            with PartWriter(fd, done, block_size=self.chunk_size) as writer:
                meter.update(writer.done, force=True)
                meter.restart(writer.done)
                remote = self._receive(request, remote, sidecar, writer, meter, cancel)
                digest = writer.finish()  # every byte written, hashed and durable
                done = writer.done
        finally:
            os.close(fd)
        meter.update(done, force=True)
        verify(request, remote, part, sidecar, done, digest)
        try:
            os.replace(part, target)
        except OSError as exc:  # the part is kept: the next try verifies it and moves it
            raise local_error(exc, target, request) from exc
        sidecar.unlink(missing_ok=True)
        return target

    def _receive(
        self,
        request: DownloadRequest,
        remote: RemoteFile,
        sidecar: Path,
        writer: PartWriter,
        meter: Meter,
        cancel: threading.Event,
    ) -> RemoteFile:
        """GET the rest of the file into ``writer``, retrying and resuming; returns the version received."""
        failures = 0
        while remote.size is None or writer.done < remote.size:
            before = writer.done
            try:
                if self._fetch(request, remote, writer, meter, cancel):
                    break
                raise Retry("the connection closed before the whole file arrived")
            except Retry as retry:
                failures = 1 if writer.done > before else failures + 1
                if failures > self.retries:
                    raise DownloadError(
                        f"Could not download {request.filename} from the hub: {retry.reason}, and "
                        f"{self.retries} retries did not help. Check your connection and try again "
                        "later; what was downloaded is kept and the next try resumes from there.",
                        "network",
                    ) from retry
                wait = retry.retry_after
                if wait is None:
                    wait = min(self.max_backoff_s, self.backoff_s * 2 ** (failures - 1))
                log.info("download of %s: %s; retrying in %.1f s", request, retry.reason, wait)
                if cancel.wait(wait):
                    check_cancel(cancel, request)
                if retry.refresh:
                    fresh = self._metadata(request, cancel)
                    if (fresh.etag, fresh.size) != (remote.etag, remote.size):
                        writer.reset()
                        write_sidecar(sidecar, sidecar_data(request, fresh))
                        meter.total = fresh.size
                    remote = fresh
        return remote

    def _fetch(
        self,
        request: DownloadRequest,
        remote: RemoteFile,
        writer: PartWriter,
        meter: Meter,
        cancel: threading.Event,
    ) -> bool:
        """One GET from ``writer.done`` on, written to the part; returns whether the file is complete."""
        import httpx2
        from huggingface_hub.errors import OfflineModeIsEnabled
        from huggingface_hub.utils import get_session

        headers = self._headers(send_token=remote.send_token)
        if writer.done:
            headers["Range"] = f"bytes={writer.done}-"
        try:
            with get_session().stream(
                "GET", remote.location, headers=headers, timeout=self.timeout, follow_redirects=True
            ) as response:
                status = response.status_code
                if status == 416:
                    if remote.size is not None and writer.done >= remote.size:
                        return True
                    writer.reset()
                    raise Retry("the server refused to resume at that point (HTTP 416)")
                if status >= 400:
                    response.read()
                    self._raise_http(response, request, remote)
                if status == 206:
                    start = _content_range_start(response.headers.get("Content-Range"))
                    if start != writer.done:
                        raise Retry(f"the server sent bytes from {start} instead of {writer.done}")
                elif writer.done:  # 200: the server ignored the Range header and sends the whole file
                    log.info("download of %s: the server ignored Range, starting over", request)
                    writer.reset()
                    meter.restart(0)
                size = remote.size
                for chunk in response.iter_bytes():
                    writer.write(chunk)
                    if cancel.is_set():
                        check_cancel(cancel, request)
                    meter.update(writer.done)
                    if size is not None and writer.done > size:
                        break
            return remote.size is None or writer.done >= remote.size
        except OfflineModeIsEnabled as exc:
            raise offline_error(request) from exc
        except httpx2.TransportError as exc:
            raise Retry(f"the connection failed ({type(exc).__name__})") from exc
        finally:
            writer.flush()  # whatever arrived is kept, whatever happened

    # --- the hub's answers -----------------------------------------------------------------------
    def remote(self, request: DownloadRequest, cancel: threading.Event | None = None) -> RemoteFile:
        """What the hub says of one file (a HEAD on its resolve URL): size, SHA-256 and commit."""
        check_names(request)
        return self._metadata(request, cancel or threading.Event())

    def _headers(self, *, send_token: bool) -> dict[str, str]:
        from huggingface_hub.utils import build_hf_headers

        headers = build_hf_headers(
            token=self._token if send_token else False,
            library_name="tokendice",
            library_version=__version__,
            headers={"Accept-Encoding": "identity"},
        )
        return dict(headers)

    def _metadata(self, request: DownloadRequest, cancel: threading.Event) -> RemoteFile:
        """HEAD the resolve URL (with retries): size, ETag/SHA-256, commit and the download location."""
        import httpx2
        from huggingface_hub import get_hf_file_metadata, hf_hub_url
        from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

        endpoint = self.endpoint
        url = hf_hub_url(request.repo_id, request.filename, revision=request.revision, endpoint=endpoint)
        failures = 0
        while True:
            check_cancel(cancel, request)
            try:
                meta = get_hf_file_metadata(
                    url,
                    token=self._token,
                    timeout=self.timeout.connect,
                    library_name="tokendice",
                    library_version=__version__,
                    endpoint=endpoint,
                )
                break
            except OfflineModeIsEnabled as exc:
                raise offline_error(request) from exc
            except HfHubHTTPError as exc:
                error = self._http_error(exc, request, token_sent=self._token_sent())
            except httpx2.TransportError as exc:
                error = Retry(f"the hub could not be reached ({type(exc).__name__})")
            if isinstance(error, DownloadError):
                raise error
            failures += 1
            if failures > self.retries:
                raise DownloadError(
                    f"Could not reach the hub at {endpoint} to download {request.filename}: {error.reason}, "
                    f"and {self.retries} retries did not help. Check your connection and try again later.",
                    "network",
                ) from error
            wait = error.retry_after
            if wait is None:
                wait = min(self.max_backoff_s, self.backoff_s * 2 ** (failures - 1))
            cancel.wait(wait)
        if not meta.commit_hash or not meta.etag:
            raise DownloadError(
                f"{endpoint} answered, but not like the Hugging Face hub (no commit or ETag header). "
                "Check HF_ENDPOINT and any proxy settings.",
                "network",
            )
        same = origin(meta.location) == origin(url)
        return RemoteFile(url, meta.location, meta.size, meta.etag, meta.commit_hash, same)

    def _token_sent(self) -> bool:
        return "authorization" in {k.lower() for k in self._headers(send_token=True)}

    def _raise_http(self, response: httpx2.Response, request: DownloadRequest, remote: RemoteFile) -> None:
        from huggingface_hub.errors import HfHubHTTPError
        from huggingface_hub.utils import hf_raise_for_status

        status = response.status_code
        if not remote.send_token and status in (401, 403, 410):
            raise Retry(f"the download link expired (HTTP {status})", refresh=True)
        try:
            hf_raise_for_status(response)
        except HfHubHTTPError as exc:
            raise self._http_error(exc, request, token_sent=remote.send_token and self._token_sent()) from exc
        raise Retry(f"the hub answered HTTP {status}")

    def _http_error(
        self, exc: HfHubHTTPError, request: DownloadRequest, *, token_sent: bool
    ) -> DownloadError | Retry:
        return http_error(
            exc,
            request,
            endpoint=self.endpoint,
            token_sent=token_sent,
            max_retry_after_s=self.max_retry_after_s,
        )

    # --- the local side --------------------------------------------------------------------------
    def check_space(self, folder: Path, remaining: int, name: str) -> None:
        """Raise DownloadError(disk_full) unless ``remaining`` more bytes (and a margin) fit in ``folder``."""
        free = self._free_space(folder)
        if remaining > 0 and free < remaining + SPACE_MARGIN:
            raise DownloadError(
                f"Not enough disk space for {name}: it needs {size_text(remaining)} more "
                f"(plus {size_text(SPACE_MARGIN)} to spare), but only {size_text(free)} is free in "
                f"{folder}. Free some space or move the models folder to a larger disk.",
                "disk_full",
            )


def _content_range_start(value: str | None) -> int | None:
    match = re.match(r"^\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*$", value or "")
    return int(match.group(1)) if match else None


__all__ = [
    "DownloadError",
    "DownloadRequest",
    "Downloader",
    "ErrorKind",
    "Progress",
    "check_names",
    "hub_offline",
]
