"""The Hugging Face Hub, for GGUF models: search repositories, list a repository's GGUF files.

:class:`Hub` wraps ``huggingface_hub``. ``endpoint`` None means ``HF_ENDPOINT`` or huggingface.co; ``token``
None means huggingface_hub's own resolution (``HF_TOKEN``, then the token stored by ``hf auth login``).
The token is handed to huggingface_hub and never logged, shown or written anywhere by this module.

* :meth:`Hub.search` asks ``/api/models`` for one page of repositories tagged ``gguf``. The hub paginates
  with a ``Link: <…>; rel="next"`` header (``HfApi.list_models`` follows it until ``limit`` items); here
  one call is one request and :attr:`SearchPage.next` is that link, an opaque cursor for the next page.
* :meth:`Hub.repo` / :meth:`Hub.files` read ``model_info(files_metadata=True)``: every file's size and
  LFS sha256, and the hub's own parse of the GGUF header (``gguf``: total parameters, architecture,
  context length, chat template). Files are grouped by :func:`group_gguf_files`: split models
  (``name-00001-of-00003.gguf``) become one entry, vision projectors (``mmproj``) are flagged. A mirror
  that serves only the file routes (no repository API) is listed from its tree instead (hub_fallback.py).
  The data these build (files, errors, a search page) is in hub_data.py; it is importable from here.
* Every failure becomes :class:`HubError` with a ``kind`` and one sentence saying what happened and what
  to do. No call is retried: the caller decides (a retry button, a later attempt).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin, urlsplit

from desktop_app import __version__
from desktop_app.core.models.hub_data import (
    ErrorKind as ErrorKind,
)
from desktop_app.core.models.hub_data import (
    FilePart as FilePart,
)
from desktop_app.core.models.hub_data import (
    HubError as HubError,
)
from desktop_app.core.models.hub_data import (
    HubGGUFInfo as HubGGUFInfo,
)
from desktop_app.core.models.hub_data import (
    ModelFile as ModelFile,
)
from desktop_app.core.models.hub_data import (
    RepoFiles as RepoFiles,
)
from desktop_app.core.models.hub_data import (
    RepoSummary as RepoSummary,
)
from desktop_app.core.models.hub_data import (
    SearchPage as SearchPage,
)
from desktop_app.core.models.hub_data import (  # the hub's data, importable from here as before
    _failures,
    _license,
)
from desktop_app.core.models.hub_data import (
    group_gguf_files as group_gguf_files,
)
from desktop_app.core.models.hub_data import (
    is_projector as is_projector,
)
from desktop_app.core.models.hub_data import (
    parse_quantization as parse_quantization,
)
from desktop_app.core.models.hub_data import (
    split_part as split_part,
)

if TYPE_CHECKING:
    from huggingface_hub.errors import HfHubHTTPError

# huggingface_hub and its HTTP library (httpx2) are imported by the calls that use them, not with this
# module: together they take about 0.35 s, which the window's start would otherwise pay for a hub it may
# never reach.

DEFAULT_TIMEOUT_S = 20.0
MAX_PAGE_SIZE = 100
SortKey = Literal["downloads", "likes", "modified", "trending", "created"]
_SORTS = MappingProxyType(
    {
        "downloads": "downloads",
        "likes": "likes",
        "modified": "lastModified",
        "trending": "trendingScore",
        "created": "createdAt",
    }
)
_EXPAND = ("downloads", "likes", "lastModified", "gated", "private", "tags", "pipeline_tag", "gguf")


def _parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def summary_from_api(item: Mapping[str, Any]) -> RepoSummary:
    """A :class:`RepoSummary` from one item of ``/api/models`` (KeyError without an ``id``)."""
    repo_id = item.get("id") or item.get("modelId")
    if not isinstance(repo_id, str):
        raise KeyError("id")
    tags = item.get("tags")
    return RepoSummary(
        repo_id=repo_id,
        downloads=_int(item.get("downloads")),
        likes=_int(item.get("likes")),
        updated=_parse_datetime(item.get("lastModified") or item.get("createdAt")),
        gated=bool(item.get("gated")),
        private=bool(item.get("private")),
        tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
        pipeline_tag=item.get("pipeline_tag") if isinstance(item.get("pipeline_tag"), str) else None,
        gguf=HubGGUFInfo.from_api(item.get("gguf")),
    )


# --------------------------------------------------------------------------- the hub


def _env_offline() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().upper() in ("1", "ON", "YES", "TRUE")


class Hub:
    """Search and list GGUF models on a Hugging Face Hub. Blocking calls: run them off the GUI thread."""

    def __init__(
        self, endpoint: str | None = None, token: str | None = None, *, timeout: float = DEFAULT_TIMEOUT_S
    ):
        from huggingface_hub import constants

        self.endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
        self._token = token
        self._timeout = timeout
        self._client = None

    @property
    def _api(self):  # huggingface_hub's HfApi, made on the first call that needs it
        if self._client is None:
            from huggingface_hub import HfApi

            self._client = HfApi(
                endpoint=self.endpoint,
                token=self._token,
                library_name="tokendice",
                library_version=__version__,
            )
        return self._client

    def __repr__(self) -> str:  # never the token
        return f"Hub(endpoint={self.endpoint!r})"

    @property
    def offline(self) -> bool:
        """HF_HUB_OFFLINE, read now (the environment) and as huggingface_hub read it when imported."""
        from huggingface_hub import constants

        return _env_offline() or constants.is_offline_mode()

    def model_url(self, repo_id: str) -> str:
        return f"{self.endpoint}/{repo_id}"

    def gated_sentence(self, repo_id: str) -> str:
        """What to do about a gated repository (its files need an accepted licence and a token)."""
        if "/" in repo_id:
            subject, page = repo_id, f"its page ({self.model_url(repo_id)})"
        else:
            subject, page = "This model", "its page"
        return (
            f"{subject} is a gated model: accept the licence on {page}, "
            "then log in with `hf auth login` or set HF_TOKEN."
        )

    # ---------------------------------------------------------------- search

    def search(
        self,
        query: str = "",
        *,
        sort: SortKey = "downloads",
        limit: int = 20,
        author: str | None = None,
        cursor: str | None = None,
    ) -> SearchPage:
        """One page of GGUF repositories matching ``query``, most downloaded/liked/recent first.

        ``cursor`` is :attr:`SearchPage.next` of the previous page; query, sort and limit then come from it.
        """
        if sort not in _SORTS:
            raise ValueError(f"sort must be one of {', '.join(_SORTS)}, not {sort!r}")
        self._check_online()
        params: dict[str, Any] | None = None
        if cursor is not None:
            if not self._same_origin(cursor) or not urlsplit(cursor).path.startswith("/api/models"):
                raise ValueError("this cursor does not come from this hub's search")
            url = cursor
        else:
            url = f"{self.endpoint}/api/models"
            params = {
                "filter": "gguf",
                "sort": _SORTS[sort],
                "limit": max(1, min(int(limit), MAX_PAGE_SIZE)),
                "expand": list(_EXPAND),
            }
            if query.strip():
                params["search"] = query.strip()
            if author:
                params["author"] = author
        response = self._get(url, params=params, what="search results")
        try:
            items = response.json()
            if not isinstance(items, list):
                raise TypeError("not a list")
            results = [summary_from_api(item) for item in items]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise self._bad_response("search results", exc) from exc
        # The gguf filter is the server's; keep to it even if a mirror ignores it.
        results = [r for r in results if not r.tags or "gguf" in (t.lower() for t in r.tags)]
        return SearchPage(results, self._next_link(response))

    def _next_link(self, response: Any) -> str | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        absolute = urljoin(str(response.url), link)
        return absolute if self._same_origin(absolute) else None  # never follow (or send a token) elsewhere

    def _same_origin(self, url: str) -> bool:
        a, b = urlsplit(url), urlsplit(self.endpoint)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)

    # ---------------------------------------------------------------- files

    def repo(self, repo_id: str, revision: str = "main") -> RepoFiles:
        """The GGUF files of ``repo_id`` at ``revision`` with sizes and sha256, and the hub's GGUF info."""
        self._check_online()
        try:
            info = self._api.model_info(
                repo_id,
                revision=None if revision in (None, "", "main") else revision,
                files_metadata=True,
                timeout=self._timeout,
            )
        except _failures() as exc:
            from desktop_app.core.models.hub_fallback import falls_back, repo_from_tree

            if falls_back(exc):  # a mirror that serves only the file routes
                return repo_from_tree(self, repo_id, revision or "main", exc)
            raise self._translate(
                exc, repo_id=repo_id, revision=revision, what=f"the files of {repo_id}"
            ) from exc
        rows = [
            (
                s.rfilename,
                s.size if s.size is not None else (s.lfs.size if s.lfs else None),
                s.lfs.sha256 if s.lfs else None,
            )
            for s in info.siblings or ()
        ]
        tags = info.tags or []
        license_ = _license(tags)
        card = getattr(info, "card_data", None)
        if license_ is None and card is not None and isinstance(getattr(card, "license", None), str):
            license_ = card.license
        return RepoFiles(
            repo_id=info.id or repo_id,
            revision=revision or "main",
            commit=info.sha,
            gated=bool(info.gated),
            private=bool(info.private),
            license=license_,
            gguf=HubGGUFInfo.from_api(info.gguf),
            files=tuple(group_gguf_files(rows)),
        )

    def files(self, repo_id: str, revision: str = "main") -> list[ModelFile]:
        """The GGUF files of ``repo_id``: one entry per model (split parts grouped), projectors flagged."""
        return list(self.repo(repo_id, revision).files)

    # ---------------------------------------------------------------- plumbing

    def _check_online(self) -> None:
        if self.offline:
            raise HubError("offline", _OFFLINE)

    def _get(self, url: str, *, params: dict[str, Any] | None, what: str) -> Any:
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        headers = build_hf_headers(token=self._token, library_name="tokendice", library_version=__version__)
        try:
            response = get_session().get(url, params=params, headers=headers, timeout=self._timeout)
            hf_raise_for_status(response)
        except _failures() as exc:
            from desktop_app.core.models.hub_fallback import unsupported

            raise unsupported(self, exc, what) or self._translate(exc, what=what) from exc
        return response

    def _bad_response(self, what: str, exc: BaseException) -> HubError:
        return HubError(
            "bad_response",
            f"The hub at {self.endpoint} sent an answer for {what} that this app cannot read "
            f"({type(exc).__name__}); if HF_ENDPOINT points to a mirror, check that it is a Hugging Face "
            "Hub.",
        )

    def _translate(
        self, exc: BaseException, *, what: str, repo_id: str = "", revision: str = "main"
    ) -> HubError:
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

        host = urlsplit(self.endpoint).netloc or self.endpoint
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if isinstance(exc, OfflineModeIsEnabled):
            return HubError("offline", _OFFLINE)
        if isinstance(exc, HFValidationError):
            return HubError("not_found", f"{repo_id!r} is not a repository name: write it as owner/name.")
        repo_id = repo_id or getattr(exc, "repo_id", None) or ""
        if isinstance(exc, GatedRepoError):
            return HubError("gated", self.gated_sentence(repo_id), status=status)
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
            return self._http_error(exc, status, what)
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
            return self._bad_response(what, exc)
        return HubError("network", f"Fetching {what} from {host} failed ({exc}); check your connection.")

    def _http_error(self, exc: HfHubHTTPError, status: int, what: str) -> HubError:
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


_OFFLINE = (
    "The app is offline (HF_HUB_OFFLINE is set), so it cannot reach the Hugging Face Hub; your library and "
    "downloaded models still work. Unset HF_HUB_OFFLINE to search and download models."
)


def _retry_after(headers: Mapping[str, str]) -> int | None:
    value = headers.get("Retry-After", "")
    if value.strip().isdigit():
        return int(value.strip())
    m = re.search(r"\bt=(\d+)", headers.get("RateLimit", ""))
    return int(m[1]) if m else None


# --------------------------------------------------------------------------- curated


@dataclass(frozen=True)
class CuratedModel:
    repo_id: str
    filename: str  # the recommended file
    size_bytes: int  # as published on the hub for that file
    parameters: str
    licence: str
    reason: str


#: Small instruct models that work well for teaching, smallest first. Every repository is public (not gated).
CURATED: tuple[CuratedModel, ...] = (
    CuratedModel(
        "HuggingFaceTB/SmolLM2-360M-Instruct-GGUF",
        "smollm2-360m-instruct-q8_0.gguf",
        386_404_352,
        "360M",
        "Apache-2.0",
        "Tiny and fast on any laptop; English only, good for showing distributions step by step.",
    ),
    CuratedModel(
        "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
        "qwen2.5-0.5b-instruct-q4_k_m.gguf",
        491_400_032,
        "0.5B",
        "Apache-2.0",
        "Smallest multilingual chat model that follows instructions; a 151k-token vocabulary.",
    ),
    CuratedModel(
        "ggml-org/gemma-3-1b-it-GGUF",
        "gemma-3-1b-it-Q4_K_M.gguf",
        806_058_240,
        "1B",
        "Gemma Terms of Use",
        "Google's small chat model: a 262k vocabulary and sliding-window attention (5 local : 1 global).",
    ),
    CuratedModel(
        "bartowski/Llama-3.2-1B-Instruct-GGUF",
        "Llama-3.2-1B-Instruct-Q4_K_M.gguf",
        807_694_464,
        "1.2B",
        "Llama 3.2 Community License",
        "Meta's smallest Llama: the chat template most tutorials show.",
    ),
    CuratedModel(
        "bartowski/SmolLM2-1.7B-Instruct-GGUF",
        "SmolLM2-1.7B-Instruct-Q4_K_M.gguf",
        1_055_609_824,
        "1.7B",
        "Apache-2.0",
        "The bundled model's big sibling: same tokenizer and template, much better answers.",
    ),
    CuratedModel(
        "Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        "qwen2.5-1.5b-instruct-q4_k_m.gguf",
        1_117_320_736,
        "1.5B",
        "Apache-2.0",
        "Good answers for its size in many languages, still quick on a CPU.",
    ),
    CuratedModel(
        "bartowski/Llama-3.2-3B-Instruct-GGUF",
        "Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        2_019_377_696,
        "3.2B",
        "Llama 3.2 Community License",
        "A capable assistant for 8 GB machines; clear contrast with the 1B.",
    ),
    CuratedModel(
        "bartowski/Phi-3.5-mini-instruct-GGUF",
        "Phi-3.5-mini-instruct-Q4_K_M.gguf",
        2_393_232_672,
        "3.8B",
        "MIT",
        "Strong reasoning for a small model; long 128k context, no grouped-query attention.",
    ),
)

#: The curated model to suggest for Chinese when the loaded one spells it in bytes: the smallest
#: multilingual one.
FOR_CHINESE: CuratedModel = next(c for c in CURATED if c.repo_id == "Qwen/Qwen2.5-0.5B-Instruct-GGUF")
