"""What a failed call to the hub becomes: one :class:`HubError` with a kind, and a sentence saying what
happened and what to do. No call is retried: the caller decides (a retry button, a later attempt)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from desktop_app.core.models.hub_data import HubError

if TYPE_CHECKING:
    from huggingface_hub.errors import HfHubHTTPError

OFFLINE = (
    "The app is offline (HF_HUB_OFFLINE is set), so it cannot reach the Hugging Face Hub; your library and "
    "downloaded models still work. Unset HF_HUB_OFFLINE to search and download models."
)


def gated_sentence(endpoint: str, repo_id: str) -> str:
    """What to do about a gated repository (its files need an accepted licence and a token)."""
    if "/" in repo_id:
        subject, page = repo_id, f"its page ({endpoint}/{repo_id})"
    else:
        subject, page = "This model", "its page"
    return (
        f"{subject} is a gated model: accept the licence on {page}, "
        "then log in with `hf auth login` or set HF_TOKEN."
    )


def bad_response(endpoint: str, what: str, exc: BaseException) -> HubError:
    """The hub at ``endpoint`` answered, but not in a form this app reads."""
    return HubError(
        "bad_response",
        f"The hub at {endpoint} sent an answer for {what} that this app cannot read "
        f"({type(exc).__name__}); if HF_ENDPOINT points to a mirror, check that it is a Hugging Face "
        "Hub.",
    )


def translate(
    exc: BaseException, *, endpoint: str, what: str, repo_id: str = "", revision: str = "main"
) -> HubError:
    """The HubError for a failed call to the hub at ``endpoint`` that fetched ``what``."""
    import httpx2 as _http
    from huggingface_hub.errors import (
        DisabledRepoError,
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    host = urlsplit(endpoint).netloc or endpoint
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, OfflineModeIsEnabled):
        return HubError("offline", OFFLINE)
    if isinstance(exc, HFValidationError):
        return HubError("not_found", f"{repo_id!r} is not a repository name: write it as owner/name.")
    repo_id = repo_id or getattr(exc, "repo_id", None) or ""
    if isinstance(exc, GatedRepoError):
        return HubError("gated", gated_sentence(endpoint, repo_id), status=status)
    if isinstance(exc, RevisionNotFoundError):
        return HubError(
            "not_found",
            f"{repo_id} has no branch, tag or commit named {revision!r}; check the revision.",
            status=status,
        )
    if isinstance(exc, DisabledRepoError):
        return HubError(
            "not_found", f"{repo_id} has been disabled on the hub and cannot be read.", status=status
        )
    if isinstance(exc, RepositoryNotFoundError):
        return HubError(
            "not_found",
            f"The repository {repo_id or 'asked for'} does not exist or is private: check the name, "
            "or if it is yours log in with `hf auth login` or set HF_TOKEN.",
            status=status,
        )
    if isinstance(exc, HfHubHTTPError) and status is not None:
        return _http_error(exc, status, what)
    if isinstance(exc, _http.TimeoutException):
        return HubError(
            "network",
            f"{host} did not answer in time while fetching {what}: check your internet connection "
            "(or proxy) and try again.",
        )
    if isinstance(exc, (_http.TransportError, ConnectionError)):
        return HubError(
            "network",
            f"Could not connect to {host} to fetch {what}: check your internet connection, proxy or "
            "firewall, and the HF_ENDPOINT setting if you use a mirror.",
        )
    if isinstance(exc, (ValueError, TypeError, KeyError, AttributeError)):
        return bad_response(endpoint, what, exc)
    return HubError("network", f"Fetching {what} from {host} failed ({exc}); check your connection.")


def _http_error(exc: HfHubHTTPError, status: int, what: str) -> HubError:
    response = exc.response
    if status == 401:
        return HubError(
            "auth",
            "The hub rejected your access token (invalid or expired): log in again with `hf auth login` "
            "or correct HF_TOKEN.",
            status=status,
        )
    if status == 403:
        return HubError(
            "auth",
            f"Your access token is not allowed to read {what}: use a token with read access "
            "(`hf auth login`) or accept the model's licence on its page.",
            status=status,
        )
    if status == 429:
        wait = _retry_after(response.headers)
        when = f"wait {wait} seconds" if wait else "wait a few minutes"
        return HubError(
            "rate_limited",
            f"The hub is limiting requests (too many in a short time): {when} and try again; logging in "
            "with `hf auth login` raises the limit.",
            status=status,
        )
    if status >= 500:
        return HubError(
            "server",
            f"The hub had a server error ({status}) while sending {what}; try again in a few minutes.",
            status=status,
        )
    detail = (exc.server_message or "").strip().splitlines()
    reason = f": {detail[0]}" if detail else ""
    return HubError("http", f"The hub refused the request for {what} ({status}{reason}).", status=status)


def _retry_after(headers: Mapping[str, str]) -> int | None:
    value = headers.get("Retry-After", "")
    if value.strip().isdigit():
        return int(value.strip())
    m = re.search(r"\bt=(\d+)", headers.get("RateLimit", ""))
    return int(m[1]) if m else None
