"""Resumable, verified downloads of one hub file into the models folder, and a one-thread download queue.

A file ``owner/repo:file.gguf`` lands at ``models_dir/owner/repo/file.gguf``. While it downloads it lives
in ``file.gguf.part`` beside a ``file.gguf.part.json`` sidecar that names the file version (the hub's ETag,
which is the LFS SHA-256, and the size), so a later process resumes it with a ``Range`` request, or
starts over if the hub now serves another version. The data is hashed while it is written; the SHA-256
is compared with the hub's before the part is renamed into place with ``os.replace``.

The hub is reached through huggingface_hub's own helpers (``hf_hub_url``, ``get_hf_file_metadata``,
``build_hf_headers``, its shared HTTP client from ``get_session``), so ``HF_ENDPOINT``, ``HF_TOKEN`` or the
token stored by ``hf auth login``, and ``HF_HUB_OFFLINE`` are respected. No Qt here: the GUI adapts the
callbacks of ``DownloadQueue`` to signals.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import logging
import os
import queue
import re
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Literal
from urllib.parse import urlsplit

import httpx2  # huggingface_hub's HTTP client library: only its exception and timeout types are used
from huggingface_hub import constants as hf_constants
from huggingface_hub import get_hf_file_metadata, hf_hub_url
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from desktop_app import __version__

log = logging.getLogger(__name__)

ErrorKind = Literal[
    "auth", "not_found", "gated", "disk_full", "hash_mismatch", "network", "bad_name", "offline",
    "cancelled", "io", "internal",
]  # fmt: skip
SPACE_MARGIN = 32 * 1024 * 1024  # bytes kept free beyond the file itself
PROGRESS_INTERVAL_S = 0.1
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_REPO_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


class DownloadError(Exception):
    """A download that did not happen, with a sentence for the user and a ``kind`` for the code."""

    def __init__(self, message: str, kind: ErrorKind, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.kind: ErrorKind = kind
        self.status = status  # the HTTP status behind it, when there was one


@dataclass(frozen=True)
class DownloadRequest:
    repo_id: str
    filename: str
    revision: str = "main"

    def __str__(self) -> str:
        return f"{self.repo_id}:{self.filename}"


@dataclass(frozen=True)
class Progress:
    done_bytes: int
    total_bytes: int | None
    bytes_per_s: float  # smoothed over the last seconds
    eta_s: float | None  # None while the speed or the size is unknown

    @property
    def fraction(self) -> float | None:
        return self.done_bytes / self.total_bytes if self.total_bytes else None


@dataclass(frozen=True)
class _Remote:
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


class _Retry(Exception):
    """A transient failure: wait, then try again from the bytes already written."""

    def __init__(self, reason: str, *, retry_after: float | None = None, refresh: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.refresh = refresh  # fetch the metadata again first (an expired CDN link)


def human_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` as the environment says now, else as huggingface_hub read it at import."""
    value = (os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or "").strip()
    if value:
        return value.upper() in {"1", "ON", "YES", "TRUE"}
    return hf_constants.is_offline_mode()


def check_names(request: DownloadRequest) -> None:
    """Raise DownloadError(bad_name) for a repo id, file name or revision that could leave the models
    folder or cannot be a hub name: ``..``, absolute paths, backslashes, drive letters, empty parts."""
    owner_repo = request.repo_id.split("/")
    if len(owner_repo) != 2 or not all(_REPO_PART.match(p) and ".." not in p for p in owner_repo):
        raise DownloadError(
            f"“{request.repo_id}” is not a hub model id. Use the form owner/name, for example "
            "HuggingFaceTB/SmolLM2-135M-Instruct.",
            "bad_name",
        )
    name = request.filename
    parts = name.split("/")
    if (
        not name
        or "\\" in name
        or ":" in name
        or name.startswith("/")
        or any(ord(c) < 32 for c in name)
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise DownloadError(
            f"“{name}” is not a file name TokenDice can download: it must be a relative path inside the "
            "repository, without “..”, backslashes, drive letters or empty parts.",
            "bad_name",
        )
    if not request.revision or any(ord(c) < 32 for c in request.revision) or len(request.revision) > 255:
        raise DownloadError(f"“{request.revision}” is not a branch, tag or commit name.", "bad_name")


class _Sha256:
    """SHA-256 fed on a helper thread, so hashing overlaps reading the network (hashlib drops the GIL).

    ``with _Sha256() as h:`` starts the thread and always joins it; ``hexdigest`` waits for the queue."""

    _RESET = b""

    def __init__(self) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=32)
        self._digest = hashlib.sha256()
        self._thread = threading.Thread(target=self._run, name="tokendice-sha256", daemon=True)

    def __enter__(self) -> _Sha256:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if chunk is self._RESET:
                self._digest = hashlib.sha256()
            else:
                self._digest.update(chunk)

    def update(self, chunk: bytes) -> None:
        if chunk:
            self._queue.put(chunk)

    def reset(self) -> None:
        self._queue.put(self._RESET)

    def hexdigest(self) -> str:
        self.__exit__()
        return self._digest.hexdigest()


class _Part:
    """The open .part file, its running SHA-256 and how many bytes it holds (some may still be pending:
    network chunks are gathered into blocks of ``block`` bytes before they are written and hashed)."""

    def __init__(self, f: IO[bytes], hasher: _Sha256, block: int):
        self.f = f
        self.hasher = hasher
        self.block = block
        self.done = 0
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    def write(self, chunk: bytes) -> None:
        self._pending.append(chunk)
        self._pending_bytes += len(chunk)
        self.done += len(chunk)
        if self._pending_bytes >= self.block:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
            self._pending.clear()
            self._pending_bytes = 0
            self.f.write(data)
            self.hasher.update(data)

    def reset(self) -> None:
        self._pending.clear()
        self._pending_bytes = 0
        self.f.seek(0)
        self.f.truncate()
        self.hasher.reset()
        self.done = 0


class _Meter:
    """Turns byte counts into Progress callbacks, at most every PROGRESS_INTERVAL_S, with a smoothed speed."""

    def __init__(self, callback: Callable[[Progress], None] | None, total: int | None):
        self.callback = callback
        self.total = total
        self.speed = 0.0
        self._last_t = time.monotonic()
        self._last_done: int | None = None

    def restart(self, done: int) -> None:
        self._last_t, self._last_done = time.monotonic(), done

    def update(self, done: int, *, force: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        elapsed = now - self._last_t
        if not force and elapsed < PROGRESS_INTERVAL_S:
            return
        if self._last_done is not None and elapsed > 0 and done >= self._last_done:
            instant = (done - self._last_done) / elapsed
            self.speed = instant if self.speed == 0 else 0.3 * instant + 0.7 * self.speed
        self._last_t, self._last_done = now, done
        eta = None
        if self.total is not None and self.speed > 0:
            eta = max(0.0, (self.total - done) / self.speed)
        self.callback(Progress(done, self.total, self.speed, eta))


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
        self.timeout = httpx2.Timeout(timeout_s, connect=min(timeout_s, 10.0))
        self._free_space = free_space or (lambda folder: shutil.disk_usage(folder).free)

    @property
    def endpoint(self) -> str:
        return (self._endpoint or os.environ.get("HF_ENDPOINT") or hf_constants.ENDPOINT).rstrip("/")

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
            if target.is_file() and self._matches(target, remote, cancel):
                _Meter(progress, remote.size).update(remote.size or target.stat().st_size, force=True)
                return target
            self._check_cancel(cancel, request)
        except OSError as exc:
            raise self._local_error(exc, target, request) from exc
        part = target.with_name(target.name + ".part")
        try:
            return self._transfer(request, remote, target, part, progress, cancel)
        except OSError as exc:
            raise self._local_error(exc, part, request) from exc

    def _transfer(
        self,
        request: DownloadRequest,
        remote: _Remote,
        target: Path,
        part: Path,
        progress: Callable[[Progress], None] | None,
        cancel: threading.Event,
    ) -> Path:
        sidecar = part.with_name(part.name + ".json")
        done = self._resumable_bytes(part, sidecar, remote)
        if done == 0:
            part.write_bytes(b"")
            self._write_sidecar(sidecar, request, remote)
        self._check_space(target.parent, (remote.size or 0) - done, request)
        meter = _Meter(progress, remote.size)
        with open(part, "r+b", buffering=self.chunk_size) as f, _Sha256() as hasher:
            state = _Part(f, hasher, self.chunk_size)
            while block := f.read(min(self.chunk_size, done - state.done)):
                state.hasher.update(block)
                state.done += len(block)
                self._check_cancel(cancel, request)
            meter.update(state.done, force=True)
            meter.restart(state.done)
            failures = 0
            while remote.size is None or state.done < remote.size:
                before = state.done
                try:
                    if self._fetch(request, remote, state, meter, cancel):
                        break
                    raise _Retry("the connection closed before the whole file arrived")
                except _Retry as retry:
                    failures = 1 if state.done > before else failures + 1
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
                        self._check_cancel(cancel, request)
                    if retry.refresh:
                        fresh = self._metadata(request, cancel)
                        if (fresh.etag, fresh.size) != (remote.etag, remote.size):
                            state.reset()
                            self._write_sidecar(sidecar, request, fresh)
                            meter.total = fresh.size
                        remote = fresh
            f.flush()
            os.fsync(f.fileno())
        meter.update(state.done, force=True)
        self._verify(request, remote, part, sidecar, state)
        os.replace(part, target)
        sidecar.unlink(missing_ok=True)
        return target

    def _fetch(
        self, request: DownloadRequest, remote: _Remote, state: _Part, meter: _Meter, cancel: threading.Event
    ) -> bool:
        """One GET from ``state.done`` on, written to the part; returns whether the file is complete."""
        headers = self._headers(send_token=remote.send_token)
        if state.done:
            headers["Range"] = f"bytes={state.done}-"
        try:
            with get_session().stream(
                "GET", remote.location, headers=headers, timeout=self.timeout, follow_redirects=True
            ) as response:
                status = response.status_code
                if status == 416:
                    if remote.size is not None and state.done >= remote.size:
                        return True
                    state.reset()
                    raise _Retry("the server refused to resume at that point (HTTP 416)")
                if status >= 400:
                    response.read()
                    self._raise_http(response, request, remote)
                if status == 206:
                    start = _content_range_start(response.headers.get("Content-Range"))
                    if start != state.done:
                        raise _Retry(f"the server sent bytes from {start} instead of {state.done}")
                elif state.done:  # 200: the server ignored the Range header and sends the whole file
                    log.info("download of %s: the server ignored Range, starting over", request)
                    state.reset()
                    meter.restart(0)
                for chunk in response.iter_bytes():
                    state.write(chunk)
                    self._check_cancel(cancel, request)
                    meter.update(state.done)
                    if remote.size is not None and state.done > remote.size:
                        break
            return remote.size is None or state.done >= remote.size
        except OfflineModeIsEnabled as exc:
            raise self._offline_error(request) from exc
        except httpx2.TransportError as exc:
            raise _Retry(f"the connection failed ({type(exc).__name__})") from exc
        finally:
            state.flush()  # whatever arrived is kept, whatever happened

    # --- the hub's answers -----------------------------------------------------------------------
    def _headers(self, *, send_token: bool) -> dict[str, str]:
        headers = build_hf_headers(
            token=self._token if send_token else False,
            library_name="tokendice",
            library_version=__version__,
            headers={"Accept-Encoding": "identity"},
        )
        return dict(headers)

    def _metadata(self, request: DownloadRequest, cancel: threading.Event) -> _Remote:
        """HEAD the resolve URL (with retries): size, ETag/SHA-256, commit and the download location."""
        endpoint = self.endpoint
        url = hf_hub_url(request.repo_id, request.filename, revision=request.revision, endpoint=endpoint)
        failures = 0
        while True:
            self._check_cancel(cancel, request)
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
                raise self._offline_error(request) from exc
            except HfHubHTTPError as exc:
                error = self._map_http(exc, request, token_sent=self._token_sent())
            except httpx2.TransportError as exc:
                error = _Retry(f"the hub could not be reached ({type(exc).__name__})")
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
        same = _origin(meta.location) == _origin(url)
        return _Remote(url, meta.location, meta.size, meta.etag, meta.commit_hash, same)

    def _token_sent(self) -> bool:
        return "authorization" in {k.lower() for k in self._headers(send_token=True)}

    def _raise_http(self, response: httpx2.Response, request: DownloadRequest, remote: _Remote) -> None:
        status = response.status_code
        if not remote.send_token and status in (401, 403, 410):
            raise _Retry(f"the download link expired (HTTP {status})", refresh=True)
        try:
            hf_raise_for_status(response)
        except HfHubHTTPError as exc:
            raise self._map_http(exc, request, token_sent=remote.send_token and self._token_sent()) from exc
        raise _Retry(f"the hub answered HTTP {status}")

    def _map_http(self, exc: HfHubHTTPError, request: DownloadRequest, *, token_sent: bool) -> Exception:
        """The DownloadError (or _Retry) for an HTTP error huggingface_hub raised."""
        status = exc.response.status_code if exc.response is not None else None
        repo, page = request.repo_id, f"{self.endpoint}/{request.repo_id}"
        if isinstance(exc, GatedRepoError):
            if token_sent:
                msg = (
                    f"Your Hugging Face account has no access to the gated model {repo} yet. Accept its "
                    f"licence on {page} with the account of your token (some authors approve requests by "
                    "hand, which can take a while), then try again."
                )
            else:
                msg = (
                    f"{repo} is a gated model: accept its licence on {page} while logged in, then log in "
                    "here with `hf auth login` or set the HF_TOKEN environment variable, and try again."
                )
            return DownloadError(msg, "gated", status=status)
        if isinstance(exc, RevisionNotFoundError):
            return DownloadError(
                f"{repo} has no branch, tag or commit named “{request.revision}”. Check the revision.",
                "not_found",
                status=status,
            )
        if isinstance(exc, RemoteEntryNotFoundError):
            return DownloadError(
                f"{repo} has no file named “{request.filename}” at {request.revision}. "
                "Check the file name on the model page.",
                "not_found",
                status=status,
            )
        if status == 401:
            if isinstance(exc, RepositoryNotFoundError) and not token_sent:  # the hub says 401 for both
                msg = (
                    f"{repo} was not found on the hub, or it is private and you are not logged in. Check "
                    "the name; for a private model log in with `hf auth login` or set HF_TOKEN."
                )
                return DownloadError(msg, "not_found", status=status)
            msg = (
                f"The hub asks you to log in to download from {repo} (HTTP 401). Log in with "
                "`hf auth login` or set a valid HF_TOKEN, then try again."
            )
            return DownloadError(msg, "auth", status=status)
        if status == 403:
            return DownloadError(
                f"Your Hugging Face token is not allowed to download from {repo} (HTTP 403). Use a token "
                "with read access to this repository (`hf auth login`), then try again.",
                "auth",
                status=status,
            )
        if status == 404 or isinstance(exc, RepositoryNotFoundError):
            return DownloadError(
                f"{repo} or its file {request.filename} was not found on the hub (HTTP {status}). "
                "Check the model name and the file name.",
                "not_found",
                status=status,
            )
        if status is not None and (status in (408, 429) or status >= 500):
            retry_after = _retry_after(exc.response.headers.get("Retry-After")) if exc.response else None
            if retry_after is not None and retry_after > self.max_retry_after_s:
                return DownloadError(
                    f"The hub is limiting requests (HTTP {status}) and asks to wait "
                    f"{retry_after / 60:.0f} minutes. Try {request.filename} again later.",
                    "network",
                    status=status,
                )
            return _Retry(f"the hub answered HTTP {status}", retry_after=retry_after)
        return DownloadError(
            f"The hub refused to send {request.filename} (HTTP {status}). Try again later.",
            "network",
            status=status,
        )

    # --- the local side --------------------------------------------------------------------------
    def _matches(self, path: Path, remote: _Remote, cancel: threading.Event) -> bool:
        """Whether a file already in place is this version (same size, and same SHA-256 when known)."""
        if remote.size is not None and path.stat().st_size != remote.size:
            return False
        if remote.sha256 is None:
            return remote.size is not None
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while block := f.read(self.chunk_size):
                digest.update(block)
                if cancel.is_set():
                    return False
        return digest.hexdigest() == remote.sha256

    @staticmethod
    def _resumable_bytes(part: Path, sidecar: Path, remote: _Remote) -> int:
        """Bytes of an existing part that belong to this very file version (0: start over)."""
        try:
            saved = json.loads(sidecar.read_text(encoding="utf-8"))
            size = part.stat().st_size
        except (OSError, ValueError):
            return 0
        same = saved.get("etag") == remote.etag and saved.get("size") == remote.size
        return size if same and (remote.size is None or size <= remote.size) else 0

    @staticmethod
    def _write_sidecar(sidecar: Path, request: DownloadRequest, remote: _Remote) -> None:
        data = {
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
        tmp = sidecar.with_name(sidecar.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, sidecar)

    def _check_space(self, folder: Path, remaining: int, request: DownloadRequest) -> None:
        free = self._free_space(folder)
        if remaining > 0 and free < remaining + SPACE_MARGIN:
            raise DownloadError(
                f"Not enough disk space for {request.filename}: it needs {human_bytes(remaining)} more "
                f"(plus {human_bytes(SPACE_MARGIN)} to spare), but only {human_bytes(free)} is free in "
                f"{folder}. Free some space or move the models folder to a larger disk.",
                "disk_full",
            )

    @staticmethod
    def _verify(request: DownloadRequest, remote: _Remote, part: Path, sidecar: Path, state: _Part) -> None:
        problem = None
        digest = state.hasher.hexdigest()
        if remote.size is not None and state.done != remote.size:
            problem = f"it has {state.done} bytes instead of the {remote.size} the hub announced"
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

    @staticmethod
    def _check_cancel(cancel: threading.Event, request: DownloadRequest) -> None:
        if cancel.is_set():
            raise DownloadError(
                f"The download of {request.filename} was cancelled. What was downloaded is kept; "
                "downloading it again resumes from there.",
                "cancelled",
            )

    @staticmethod
    def _offline_error(request: DownloadRequest) -> DownloadError:
        return DownloadError(
            f"Cannot download {request}: huggingface_hub is in offline mode (HF_HUB_OFFLINE). "
            "Unset HF_HUB_OFFLINE and restart TokenDice to download models.",
            "offline",
        )

    @staticmethod
    def _local_error(exc: OSError, path: Path, request: DownloadRequest) -> DownloadError:
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return DownloadError(
                f"The disk filled up while downloading {request.filename} into {path.parent}. Free some "
                "space and download it again: it resumes where it stopped.",
                "disk_full",
            )
        return DownloadError(
            f"Could not write {path} while downloading {request.filename} ({exc.strerror or exc}). "
            "Check that the models folder exists, is writable and the file is not open elsewhere.",
            "io",
        )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _content_range_start(value: str | None) -> int | None:
    match = re.match(r"^\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*$", value or "")
    return int(match.group(1)) if match else None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


# --- the queue -----------------------------------------------------------------------------------
JobState = Literal["queued", "running", "done", "failed", "cancelled"]


@dataclass(frozen=True)
class DownloadEvent:
    """A change of one queued download: its state, and progress / path / error where they apply."""

    job_id: int
    request: DownloadRequest
    state: JobState
    progress: Progress | None = None
    path: Path | None = None
    error: DownloadError | None = None


@dataclass
class _Job:
    id: int
    request: DownloadRequest
    cancel: threading.Event


class DownloadQueue:
    """Downloads run one at a time, in order, on one worker thread the queue owns.

    ``on_event`` receives every DownloadEvent: on the worker thread for running (with progress), done,
    failed and cancelled-while-running; on the caller's thread for queued (``submit``) and for a job
    cancelled before it started (``cancel``). Call ``close()`` (or use ``with``) to stop and join.
    """

    def __init__(self, downloader: Downloader, on_event: Callable[[DownloadEvent], None] | None = None):
        self.downloader = downloader
        self._on_event = on_event
        self._cond = threading.Condition()
        self._pending: deque[_Job] = deque()
        self._running: _Job | None = None
        self._states: dict[int, JobState] = {}
        self._ids = itertools.count(1)
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> DownloadQueue:
        with self._cond:
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._work, name="tokendice-downloads", daemon=True)
                self._thread.start()
        return self

    def submit(self, request: DownloadRequest) -> int:
        """Queue a download; returns its job id."""
        with self._cond:
            if self._stopping:
                raise RuntimeError("the download queue is closed")
            job = _Job(next(self._ids), request, threading.Event())
            self._pending.append(job)
            self._states[job.id] = "queued"
            self._cond.notify_all()
        self._emit(DownloadEvent(job.id, request, "queued"))
        return job.id

    def cancel(self, job_id: int) -> bool:
        """Cancel a queued or running job (a running one keeps its .part for a later resume)."""
        with self._cond:
            if self._running is not None and self._running.id == job_id:
                if self._states[job_id] != "running":
                    return False  # it has just finished
                self._running.cancel.set()
                return True
            job = next((j for j in self._pending if j.id == job_id), None)
            if job is None:
                return False
            self._pending.remove(job)
            self._states[job_id] = "cancelled"
            self._cond.notify_all()
        self._emit(DownloadEvent(job.id, job.request, "cancelled"))
        return True

    def cancel_all(self) -> None:
        with self._cond:
            ids = [j.id for j in self._pending] + ([self._running.id] if self._running else [])
        for job_id in ids:
            self.cancel(job_id)

    def state(self, job_id: int) -> JobState | None:
        with self._cond:
            return self._states.get(job_id)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and self._running is None, timeout)

    def stop(self, *, cancel: bool = True) -> None:
        """Accept no more jobs. With ``cancel`` the running and queued jobs are cancelled; without, the
        worker finishes the queue first."""
        if cancel:
            self.cancel_all()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def join(self, timeout: float | None = None) -> bool:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def close(self, timeout: float | None = None) -> bool:
        self.stop(cancel=True)
        return self.join(timeout)

    def __enter__(self) -> DownloadQueue:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopping)
                if not self._pending:
                    return
                job = self._pending.popleft()
                self._running = job
                self._states[job.id] = "running"
            self._emit(DownloadEvent(job.id, job.request, "running"))
            event = self._run(job)
            with self._cond:
                self._states[job.id] = event.state
            self._emit(event)
            with self._cond:  # idle only after the final event went out
                self._running = None
                self._cond.notify_all()

    def _run(self, job: _Job) -> DownloadEvent:
        def report(p: Progress) -> None:
            self._emit(DownloadEvent(job.id, job.request, "running", progress=p))

        try:
            path = self.downloader.download(job.request, progress=report, cancel=job.cancel)
            return DownloadEvent(job.id, job.request, "done", path=path)
        except DownloadError as exc:
            state: JobState = "cancelled" if exc.kind == "cancelled" else "failed"
            return DownloadEvent(job.id, job.request, state, error=exc)
        except Exception as exc:  # a bug must not kill the worker: it reaches the user as a failed job
            log.exception("download of %s failed unexpectedly", job.request)
            error = DownloadError(
                f"The download of {job.request.filename} stopped on an unexpected error ({exc}). "
                "Try again; if it happens again, please report it.",
                "internal",
            )
            return DownloadEvent(job.id, job.request, "failed", error=error)

    def _emit(self, event: DownloadEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a broken listener must not stop the downloads; it is logged, not hidden
            log.exception("download queue listener failed on %s", replace(event, progress=None))


__all__ = [
    "DownloadError",
    "DownloadEvent",
    "DownloadQueue",
    "DownloadRequest",
    "Downloader",
    "Progress",
    "check_names",
    "hub_offline",
]
