"""A hub that answers only the file routes: a repository's files from its tree listing instead.

Some mirrors set through ``HF_ENDPOINT`` serve ``/api/models/{repo}/tree/{revision}`` and
``/{repo}/resolve/{revision}/{file}`` (what huggingface_hub's downloads need) but not the repository API
(``/api/models/{repo}``, ``model_info``) nor search (``/api/models``). :func:`falls_back` tells such an
answer from the hub's own word about a repository:

* the hub speaks with an ``X-Error-Code`` or ``X-Error-Message`` header (a repository that does not
  exist or is private, a gated one, an unknown revision, a rejected token, a server error): that is
  said as it is, with no second request;
* an error status without those headers (a route the server does not have: 404, 401, 403, 405, a bare
  5xx from a proxy), or an answer that is not the hub's JSON, means the route is not there: the
  repository's files are then read from its tree listing (:func:`repo_from_tree`, one more request per
  page of 1000 files), with their sizes and LFS SHA-256 but without what only the repository API says
  (licence, gated flag, the hub's parse of the GGUF header, the commit). When the tree does not
  answer either, :class:`HubError` ``unsupported`` says so, and a download by file name goes on with a
  HEAD on each file's resolve URL (acquire.py), which is all a download needs.

Rate limits (429) and timeouts never fall back: a second request would only make them worse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from desktop_app import __version__
from desktop_app.core.models.hub_data import HubError, RepoFiles, _failures, group_gguf_files

if TYPE_CHECKING:
    from desktop_app.core.models.hub import Hub

MAX_TREE_PAGES = 200  # 200 pages of 1000 entries: far more than any model repository holds
_NO_ROUTE = (401, 403, 404, 405, 410, 501)  # what a server without the route answers


def _status(exc: BaseException) -> int | None:
    return getattr(getattr(exc, "response", None), "status_code", None)


def _hub_said(exc: BaseException) -> bool:
    """Whether an HTTP error carries the hub's own error headers (it is the hub's word, not a route
    the server lacks)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    return "X-Error-Code" in headers or "X-Error-Message" in headers


def falls_back(exc: BaseException) -> bool:
    """Whether a failed repository-API call means "this server has no such route" (then try the tree)."""
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError

    if isinstance(exc, HfHubHTTPError):
        status = _status(exc)
        return status is not None and status not in (408, 429) and status >= 400 and not _hub_said(exc)
    if isinstance(exc, HFValidationError):  # a malformed repository name: the same on every route
        return False
    return isinstance(exc, (ValueError, TypeError, KeyError, AttributeError))  # not the hub's JSON


def _what_answered(exc: BaseException) -> str:
    status = _status(exc)
    return f"HTTP {status}" if status is not None else "an answer that is not the hub's"


def repo_from_tree(hub: Hub, repo_id: str, revision: str, api_error: BaseException) -> RepoFiles:
    """The GGUF files of ``repo_id`` from its tree listing, after the repository API failed with
    ``api_error`` (one that :func:`falls_back`). Raises HubError: the tree's own answer when the hub
    said something (the repository does not exist, a bad revision…), else ``unsupported``."""
    what = f"the files of {repo_id}"
    try:
        rows = _tree_rows(hub, repo_id, revision)
    except _failures() as exc:
        if not falls_back(exc):
            raise hub._translate(exc, repo_id=repo_id, revision=revision, what=what) from exc
        host = urlsplit(hub.endpoint).netloc or hub.endpoint
        raise HubError(
            "unsupported",
            f"The hub at {host} does not list the files of {repo_id}: its repository API answered "
            f"{_what_answered(api_error)} and its file listing {_what_answered(exc)}. A mirror set with "
            f"HF_ENDPOINT may serve only the files themselves: download one by its path in the repository "
            f"with `tokendice models download {repo_id} FILE`.",
            status=_status(exc),
        ) from exc
    return RepoFiles(
        repo_id=repo_id,
        revision=revision,
        commit=None,
        gated=False,
        private=False,
        license=None,
        gguf=None,
        files=tuple(group_gguf_files(rows)),
        source="tree",
    )


def _tree_rows(hub: Hub, repo_id: str, revision: str) -> list[tuple[str, int | None, str | None]]:
    """``(path, size, sha256)`` of every file, from ``/api/models/{repo}/tree/{revision}?recursive=true``
    (the route huggingface_hub's ``list_repo_tree`` asks), following its pages on the same host."""
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    headers = build_hf_headers(token=hub._token, library_name="tokendice", library_version=__version__)
    url: str | None = f"{hub.endpoint}/api/models/{repo_id}/tree/{quote(revision, safe='')}"
    params: dict[str, str] | None = {"recursive": "true", "expand": "false"}
    rows: list[tuple[str, int | None, str | None]] = []
    seen: set[str] = set()
    while url is not None and url not in seen and len(seen) < MAX_TREE_PAGES:
        seen.add(url)
        response = get_session().get(url, params=params, headers=headers, timeout=hub._timeout)
        hf_raise_for_status(response)
        items = response.json()
        if not isinstance(items, list):
            raise TypeError("the tree listing is not a list")
        rows.extend(row for item in items if (row := _tree_row(item)) is not None)
        url, params = hub._next_link(response), None
    return rows


def _tree_row(item: Any) -> tuple[str, int | None, str | None] | None:
    if not isinstance(item, dict) or item.get("type") != "file" or not isinstance(item.get("path"), str):
        return None
    lfs = item.get("lfs")
    if not isinstance(lfs, dict):
        lfs = {}
    size = lfs.get("size", item.get("size"))
    sha = lfs.get("oid")
    return (
        item["path"],
        size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        sha.lower() if isinstance(sha, str) and len(sha) == 64 else None,
    )


def unsupported(hub: Hub, exc: BaseException, what: str) -> HubError | None:
    """The sentence for a search on a server that has no search route (a mirror of files), else None."""
    from huggingface_hub.errors import HfHubHTTPError

    if not isinstance(exc, HfHubHTTPError) or _status(exc) not in _NO_ROUTE or _hub_said(exc):
        return None
    host = urlsplit(hub.endpoint).netloc or hub.endpoint
    return HubError(
        "unsupported",
        f"The hub at {host} does not answer requests for {what} ({_what_answered(exc)}); a mirror set "
        "with HF_ENDPOINT may serve only files. Download a model by its name with "
        "`tokendice models download REPO FILE`.",
        status=_status(exc),
    )
