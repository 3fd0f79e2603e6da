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
* Every failure becomes :class:`HubError` with a ``kind`` and one sentence saying what happened and what
  to do (hub_errors.py). No call is retried: the caller decides (a retry button, a later attempt).

The data these build (files, errors, a search page) is in hub_data.py and the curated models in
curated.py; both are importable from here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from desktop_app import __version__
from desktop_app.core.models.curated import CURATED, FOR_CHINESE, CuratedModel
from desktop_app.core.models.hub_data import (
    ErrorKind,
    FilePart,
    HubError,
    HubGGUFInfo,
    ModelFile,
    RepoFiles,
    RepoSummary,
    SearchPage,
    _failures,
    _license,
    group_gguf_files,
    is_projector,
    parse_quantization,
    split_part,
)
from desktop_app.core.models.hub_errors import OFFLINE as _OFFLINE
from desktop_app.core.models.hub_errors import bad_response, gated_sentence, translate

__all__ = [
    "CURATED",
    "DEFAULT_TIMEOUT_S",
    "FOR_CHINESE",
    "MAX_PAGE_SIZE",
    "CuratedModel",
    "ErrorKind",
    "FilePart",
    "Hub",
    "HubError",
    "HubGGUFInfo",
    "ModelFile",
    "RepoFiles",
    "RepoSummary",
    "SearchPage",
    "SortKey",
    "group_gguf_files",
    "is_projector",
    "parse_quantization",
    "split_part",
    "summary_from_api",
]

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
        return gated_sentence(self.endpoint, repo_id)

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
        return bad_response(self.endpoint, what, exc)

    def _translate(
        self, exc: BaseException, *, what: str, repo_id: str = "", revision: str = "main"
    ) -> HubError:
        return translate(exc, endpoint=self.endpoint, what=what, repo_id=repo_id, revision=revision)
