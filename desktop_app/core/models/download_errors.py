"""What can go wrong with a download, as sentences: names that would leave the models folder, HTTP
answers of the hub, the local disk, offline mode, cancellation.

Every failure becomes :class:`DownloadError` with a ``kind`` for the code and one sentence for the user
that says what happened and what to do; a transient one becomes :class:`Retry` for the downloader's
retry loop.
"""

from __future__ import annotations

import errno
import os
import re
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from huggingface_hub.errors import HfHubHTTPError

ErrorKind = Literal[
    "auth", "not_found", "gated", "disk_full", "hash_mismatch", "network", "bad_name", "offline",
    "cancelled", "io", "internal",
]  # fmt: skip
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


class Retry(Exception):
    """A transient failure: wait, then try again from the bytes already written."""

    def __init__(self, reason: str, *, retry_after: float | None = None, refresh: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.refresh = refresh  # fetch the metadata again first (an expired CDN link)


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` as the environment says now, else as huggingface_hub read it at import."""
    value = (os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or "").strip()
    if value:
        return value.upper() in {"1", "ON", "YES", "TRUE"}
    from huggingface_hub import constants

    return constants.is_offline_mode()


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
    if (problem := file_name_problem(request.filename)) is not None:
        raise DownloadError(problem, "bad_name")
    if not request.revision or any(ord(c) < 32 for c in request.revision) or len(request.revision) > 255:
        raise DownloadError(f"“{request.revision}” is not a branch, tag or commit name.", "bad_name")


def file_name_problem(name: str) -> str | None:
    """Why a file name of a repository cannot be downloaded (it could leave the models folder: ``..``,
    an absolute path, a backslash, a drive letter, an empty part), as a sentence; None when it can."""
    if (
        not name
        or "\\" in name
        or ":" in name
        or name.startswith("/")
        or any(ord(c) < 32 for c in name)
        or any(p in ("", ".", "..") for p in name.split("/"))
    ):
        return (
            f"“{name}” is not a file name TokenDice can download: it must be a relative path inside the "
            "repository, without “..”, backslashes, drive letters or empty parts."
        )
    return None


def http_error(
    exc: HfHubHTTPError,
    request: DownloadRequest,
    *,
    endpoint: str,
    token_sent: bool,
    max_retry_after_s: float,
) -> DownloadError | Retry:
    """The DownloadError (or Retry, for a transient one) for an HTTP error huggingface_hub raised."""
    from huggingface_hub.errors import (
        GatedRepoError,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    status = exc.response.status_code if exc.response is not None else None
    repo, page = request.repo_id, f"{endpoint}/{request.repo_id}"
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
        retry_after = retry_after_seconds(exc.response.headers.get("Retry-After")) if exc.response else None
        if retry_after is not None and retry_after > max_retry_after_s:
            return DownloadError(
                f"The hub is limiting requests (HTTP {status}) and asks to wait "
                f"{retry_after / 60:.0f} minutes. Try {request.filename} again later.",
                "network",
                status=status,
            )
        return Retry(f"the hub answered HTTP {status}", retry_after=retry_after)
    return DownloadError(
        f"The hub refused to send {request.filename} (HTTP {status}). Try again later.",
        "network",
        status=status,
    )


def check_cancel(cancel: threading.Event, request: DownloadRequest) -> None:
    if cancel.is_set():
        raise DownloadError(
            f"The download of {request.filename} was cancelled. What was downloaded is kept; "
            "downloading it again resumes from there.",
            "cancelled",
        )


def offline_error(request: DownloadRequest) -> DownloadError:
    return DownloadError(
        f"Cannot download {request}: huggingface_hub is in offline mode (HF_HUB_OFFLINE). "
        "Unset HF_HUB_OFFLINE and restart TokenDice to download models.",
        "offline",
    )


def local_error(exc: OSError, path: Path, request: DownloadRequest) -> DownloadError:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return DownloadError(
            f"The disk filled up while downloading {request.filename} into {path.parent}. Free some "
            "space and download it again: it resumes where it stopped.",
            "disk_full",
        )
    if exc.errno == errno.EISDIR:
        return DownloadError(
            f"{path} is a folder, so {request.filename} cannot be saved there: move or rename that "
            "folder, then download again.",
            "io",
        )
    return DownloadError(
        f"Could not write {path} while downloading {request.filename} ({exc.strerror or exc}). "
        "Check that the models folder exists, is writable and the file is not open elsewhere.",
        "io",
    )


def retry_after_seconds(value: str | None) -> float | None:
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
