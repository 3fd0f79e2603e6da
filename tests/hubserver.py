"""A loopback stand-in for the Hugging Face hub that speaks the HTTP protocol huggingface_hub 2.4 uses.

    from tests.hubserver import HubServer, hub  # noqa: F401  (``hub`` is a pytest fixture)

    def test_something(hub):
        hub.add_repo("owner/name", {"model.gguf": b"GGUF..." , "README.md": b"# hi"})
        ...  # point the code at hub.url (the fixture also sets HF_ENDPOINT and HF_HUB_OFFLINE=0)

What it serves, as the hub does (checked against huggingface_hub's own file_download.py / hf_api.py):

* ``HEAD`` / ``GET /{repo_id}/resolve/{revision}/{filename}``. Small non-LFS files answer 200 with
  ``X-Repo-Commit``, ``ETag`` (the git blob id), ``Content-Length`` and ``Accept-Ranges``. LFS files
  (``.gguf``, ``.safetensors``, ... or anything over 10 MiB) answer ``302`` to a signed URL on a second
  loopback port (the "CDN", a different origin, so huggingface_hub stops at the redirect and reads
  ``X-Linked-Etag`` = the quoted sha256 and ``X-Linked-Size`` from it, and drops the token for the CDN).
  ``HubServer(lfs_redirect=False)`` serves LFS files directly with the same headers instead.
  Range requests answer 206 with ``Content-Range``, or 416 out of range.
* ``GET /api/models`` (search, author, filter, gated, sort, direction, limit, expand, full; cursor
  pagination with a ``Link: <...>; rel="next"`` header), ``GET /api/models/{repo_id}[/revision/{rev}]``
  (``blobs=true`` adds sizes and LFS hashes to siblings), ``GET /api/models/{repo_id}/tree/{rev}[/{path}]``
  (recursive, expand; paginated like the hub) and ``GET /api/whoami-v2``.
* Gated and private repositories: no token → 401, another token → 403 (the accepted token is
  ``hf_test_token``), with ``X-Error-Code`` (``GatedRepo`` / ``RepoNotFound``) and ``X-Error-Message``
  headers and a JSON ``{"error": ...}`` body, so huggingface_hub raises its own error classes. Gated
  repositories keep their metadata (model info, tree) public, as on the hub.
* ``rename_repo(old, new)``: the old name answers a same-host ``307`` to the new one.
* A mirror that serves only the file routes: ``repo_api = False`` turns search (``/api/models``) and the
  repository API (``/api/models/{repo_id}[/revision/{rev}]``) off, ``tree_api = False`` the tree listing;
  they then answer ``no_route_status`` (404 unless set) with a plain body and none of the hub's
  ``X-Error-*`` headers, as a server without those routes does. ``resolve`` always works.

Fault injection (per server, consumed ``times`` times; substrings match the unquoted request target,
path and query, so a filename matches both the resolve URL and the CDN URL):
``fail_next``, ``drop_after``, ``corrupt``, ``ignore_range``, ``throttle``. ``requests`` is the log.

Files given as a ``Path`` are streamed from disk (``sendfile`` when no fault applies); they are hashed
once, in chunks, when added.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pytest

VALID_TOKEN = "hf_test_token"
LFS_SUFFIXES = (".gguf", ".bin", ".safetensors", ".pt", ".pth", ".onnx", ".h5", ".msgpack", ".npz", ".zip")
LFS_MIN_SIZE = 10 * 1024 * 1024
_COPY_CHUNK = 256 * 1024
# What /api/models returns per model without ``full`` or ``expand``, as the hub does.
_LIST_FIELDS = ("_id", "id", "modelId", "likes", "trendingScore", "private", "downloads", "tags")
_LIST_FIELDS += ("pipeline_tag", "library_name", "createdAt")
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class HubFile:
    """One file of a repository: its bytes in memory or a path on disk, with the hub's hashes."""

    path: str
    source: bytes | Path
    size: int
    sha256: str
    lfs: bool
    oid: str  # git blob id: of the content, or of the LFS pointer for LFS files
    pointer_size: int

    @classmethod
    def make(cls, path: str, source: bytes | Path, lfs: bool | None = None) -> HubFile:
        if isinstance(source, Path):
            with source.open("rb") as f:
                digest = hashlib.file_digest(f, "sha256")
            size = source.stat().st_size
        else:
            source = bytes(source)
            digest = hashlib.sha256(source)
            size = len(source)
        sha = digest.hexdigest()
        if lfs is None:
            lfs = path.lower().endswith(LFS_SUFFIXES) or size >= LFS_MIN_SIZE
        if lfs:
            pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize {size}\n".encode()
            oid, pointer_size = _git_blob_oid(pointer), len(pointer)
        else:
            if isinstance(source, Path):
                raise ValueError(f"{path}: a non-LFS file must be given as bytes")
            oid, pointer_size = _git_blob_oid(source), 0
        return cls(path, source, size, sha, lfs, oid, pointer_size)

    def chunks(self, start: int, end: int) -> Iterator[bytes]:
        """Bytes [start, end) in pieces of at most 256 KiB, read from disk as they go."""
        if isinstance(self.source, bytes):
            for pos in range(start, end, _COPY_CHUNK):
                yield self.source[pos : min(end, pos + _COPY_CHUNK)]
            return
        with self.source.open("rb") as f:
            f.seek(start)
            pos = start
            while pos < end:
                block = f.read(min(_COPY_CHUNK, end - pos))
                if not block:
                    return
                pos += len(block)
                yield block


@dataclass
class HubRepo:
    repo_id: str
    gated: bool | str
    private: bool
    downloads: int
    likes: int
    gguf: dict | None
    tags: list[str]
    pipeline_tag: str | None
    created_at: datetime
    last_modified: datetime
    history: dict[str, dict[str, HubFile]] = field(default_factory=dict)  # commit -> files
    refs: dict[str, str] = field(default_factory=dict)  # branch -> commit

    @property
    def commit(self) -> str:
        return self.refs["main"]

    @property
    def files(self) -> dict[str, HubFile]:
        return self.history[self.commit]


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it. Only whether a token came is kept, never the token."""

    server: str  # "hub" or "cdn"
    method: str
    path: str  # the raw request target: path and query
    range: str | None
    authorized: bool
    status: int
    body_bytes: int  # body bytes actually sent


@dataclass
class _Rule:
    kind: str  # fail | drop | corrupt | ignore_range
    substring: str
    times: int
    method: str | None = None
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    n_bytes: int = 0
    offset: int = 0


class _HTTPServer(ThreadingHTTPServer):
    """A threading server that knows its connections, so ``close_all`` can end them and join threads."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, hub: HubServer, role: str):
        self.hub = hub
        self.role = role
        self._lock = threading.Lock()
        self._conns: dict[threading.Thread, socket.socket] = {}
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request, client_address):
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"hubserver-{self.role}-conn",
            daemon=True,
        )
        with self._lock:
            self._conns[thread] = request
        thread.start()

    def _serve_connection(self, request, client_address) -> None:
        try:
            self.finish_request(request, client_address)
        except (ConnectionError, TimeoutError, OSError):
            pass  # the client went away or stop() closed the socket: nothing to report
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._conns.pop(threading.current_thread(), None)

    def close_all(self) -> None:
        with self._lock:
            conns = dict(self._conns)
        for sock in conns.values():
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in conns:
            thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TokenDiceTestHub/1.0"
    timeout = 30
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self.server.hub._handle(self, "HEAD")

    def do_GET(self) -> None:
        self.server.hub._handle(self, "GET")


class _Reply:
    """What one request answered: status, headers, and a body (bytes, or a file range)."""

    def __init__(self, status: int, headers: dict[str, str] | None = None, body: bytes = b""):
        self.status = status
        self.headers = dict(headers or {})
        self.body = body
        self.file: HubFile | None = None
        self.start = 0
        self.end = 0

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> _Reply:
        body = json.dumps(payload).encode()
        return cls(status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, body)

    @classmethod
    def error(cls, status: int, message: str, code: str | None = None, **headers: str) -> _Reply:
        extra = {"X-Error-Message": message, **headers}
        if code:
            extra["X-Error-Code"] = code
        return cls.json(status, {"error": message}, extra)

    @property
    def length(self) -> int:
        return self.end - self.start if self.file is not None else len(self.body)


class HubServer:
    """The loopback hub: ``start()``, configure with ``add_repo``, inject faults, ``stop()``."""

    def __init__(
        self,
        *,
        lfs_redirect: bool = True,
        page_size: int = 1000,
        tree_page_size: int = 1000,
        repo_api: bool = True,
        tree_api: bool = True,
        no_route_status: int = 404,
    ):
        self.lfs_redirect = lfs_redirect
        self.repo_api = repo_api
        self.tree_api = tree_api
        self.no_route_status = no_route_status
        self.page_size = page_size
        self.tree_page_size = tree_page_size
        self.valid_token = VALID_TOKEN
        self._lock = threading.Lock()
        self._quiet = threading.Condition(self._lock)
        self._inflight = 0
        self._repos: dict[str, HubRepo] = {}
        self._renamed: dict[str, str] = {}
        self._blobs: dict[str, HubFile] = {}
        self._rules: list[_Rule] = []
        self._requests: list[RequestRecord] = []
        self._throttle: float | None = None
        self._stopping = threading.Event()
        self._servers: list[_HTTPServer] = []
        self._threads: list[threading.Thread] = []
        self._clock = datetime(2024, 6, 1, tzinfo=UTC)

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> HubServer:
        if self._servers:
            return self
        self._stopping.clear()
        for role in ("hub", "cdn"):
            srv = _HTTPServer(self, role)
            thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
            thread.name = f"hubserver-{role}"
            thread.daemon = True
            thread.start()
            self._servers.append(srv)
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop listening, close every open connection and join every thread the server started."""
        self._stopping.set()
        for srv in self._servers:
            srv.shutdown()
        for srv in self._servers:
            srv.close_all()
            srv.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The hub endpoint, e.g. ``http://127.0.0.1:54321`` (for ``HF_ENDPOINT`` / ``endpoint=``)."""
        return f"http://127.0.0.1:{self._servers[0].server_address[1]}"

    @property
    def cdn_url(self) -> str:
        return f"http://127.0.0.1:{self._servers[1].server_address[1]}"

    # --- repositories ----------------------------------------------------------------------------
    def add_repo(
        self,
        repo_id: str,
        files: dict[str, bytes | Path],
        *,
        gated: bool | str = False,
        private: bool = False,
        downloads: int = 0,
        likes: int = 0,
        gguf: dict | None = None,
        tags: list[str] | None = None,
        pipeline_tag: str | None = "text-generation",
        lfs: set[str] | None = None,
    ) -> HubRepo:
        """Add (or replace) a repository. ``gated`` may be True (= "auto"), "auto" or "manual".

        ``lfs`` names the files stored in LFS; by default binary suffixes and files over 10 MiB are."""
        hub_files = {
            name: HubFile.make(name, src, None if lfs is None else name in lfs) for name, src in files.items()
        }
        all_tags = list(tags or [])
        if "gguf" not in all_tags and (gguf is not None or any(n.endswith(".gguf") for n in files)):
            all_tags.insert(0, "gguf")
        with self._lock:
            self._clock += timedelta(minutes=1)
            repo = HubRepo(
                repo_id=repo_id,
                gated="auto" if gated is True else gated,
                private=private,
                downloads=downloads,
                likes=likes,
                gguf=gguf,
                tags=all_tags,
                pipeline_tag=pipeline_tag,
                created_at=self._clock,
                last_modified=self._clock,
            )
            self._commit(repo, hub_files)
            self._repos[repo_id] = repo
        return repo

    def update_file(self, repo_id: str, filename: str, source: bytes | Path) -> str:
        """A new commit on main that adds or replaces one file; returns the commit id."""
        new = HubFile.make(filename, source)
        with self._lock:
            repo = self._repos[repo_id]
            self._clock += timedelta(minutes=1)
            repo.last_modified = self._clock
            return self._commit(repo, {**repo.files, filename: new})

    def rename_repo(self, old: str, new: str) -> None:
        """Rename a repository: requests to the old name are redirected (307, same host)."""
        with self._lock:
            repo = self._repos.pop(old)
            repo.repo_id = new
            self._repos[new] = repo
            self._renamed[old] = new

    def _commit(self, repo: HubRepo, files: dict[str, HubFile]) -> str:
        listing = json.dumps(
            [repo.repo_id, len(repo.history), sorted((f.path, f.oid) for f in files.values())]
        )
        commit = hashlib.sha1(listing.encode()).hexdigest()
        repo.history[commit] = files
        repo.refs["main"] = commit
        for f in files.values():
            if f.lfs:
                self._blobs[f.sha256] = f
        return commit

    # --- fault injection and the log -------------------------------------------------------------
    def fail_next(
        self,
        path_substring: str,
        status: int = 500,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (and ``headers``)."""
        self._add_rule(_Rule("fail", path_substring, times, method, status, dict(headers or {})))

    def drop_after(self, path_substring: str, n_bytes: int, *, times: int = 1) -> None:
        """Send the headers and ``n_bytes`` of the body, then close the connection."""
        self._add_rule(_Rule("drop", path_substring, times, "GET", n_bytes=n_bytes))

    def corrupt(self, path_substring: str, offset: int, *, times: int = 1) -> None:
        """Flip the byte at file ``offset`` in the next ``times`` bodies that contain it."""
        self._add_rule(_Rule("corrupt", path_substring, times, "GET", offset=offset))

    def ignore_range(self, path_substring: str, *, times: int = 1) -> None:
        """Answer the next ranged GETs with 200 and the whole file, as servers without Range support do."""
        self._add_rule(_Rule("ignore_range", path_substring, times, "GET"))

    def throttle(self, bytes_per_second: float | None) -> None:
        """Limit every body to about this many bytes per second (None: no limit)."""
        self._throttle = bytes_per_second

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()
        self._throttle = None

    def _add_rule(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def _take_rule(
        self, kind: str, method: str, target: str, span: tuple[int, int] | None = None
    ) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.kind != kind or rule.times <= 0 or rule.substring not in target:
                    continue
                if rule.method is not None and rule.method != method:
                    continue
                if span is not None and not span[0] <= rule.offset < span[1]:
                    continue
                rule.times -= 1
                return rule
        return None

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request answered so far, in the order they finished (waits for those being answered)."""
        self.wait_quiet()
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the log, after waiting for requests still being answered (a cancelled body)."""
        self.wait_quiet()
        with self._lock:
            self._requests.clear()

    def wait_quiet(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being answered; False on timeout."""
        with self._quiet:
            return self._quiet.wait_for(lambda: self._inflight == 0, timeout)

    # --- request handling ------------------------------------------------------------------------
    def _handle(self, h: _Handler, method: str) -> None:
        with self._lock:
            self._inflight += 1
        try:
            self._answer(h, method)
        finally:
            with self._quiet:
                self._inflight -= 1
                self._quiet.notify_all()

    def _answer(self, h: _Handler, method: str) -> None:
        target = h.path
        plain = unquote(target)
        token = self._token(h)
        reply = None
        rule = self._take_rule("fail", method, plain)
        if rule is not None:
            reply = _Reply.error(rule.status, f"Injected failure {rule.status}", **rule.headers)
        elif h.server.role == "cdn":
            reply = self._cdn(h, method)
        else:
            reply = self._route(h, method, token)
        progress = [0]
        try:
            self._send(h, method, plain, reply, progress)
        except OSError:  # the client went away mid-body (a cancelled download): log what was sent
            h.close_connection = True
        record = RequestRecord(
            server=h.server.role,
            method=method,
            path=target,
            range=h.headers.get("Range"),
            authorized=h.headers.get("Authorization") is not None,
            status=reply.status,
            body_bytes=progress[0],
        )
        with self._lock:
            self._requests.append(record)

    @staticmethod
    def _token(h: _Handler) -> str | None:
        auth = h.headers.get("Authorization") or ""
        return auth[7:].strip() if auth.lower().startswith("bearer ") else (auth.strip() or None)

    def _route(self, h: _Handler, method: str, token: str | None) -> _Reply:
        split = urlsplit(h.path)
        path = unquote(split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        if path == "/api/whoami-v2":
            if token != self.valid_token:
                return _Reply.error(401, "Invalid credentials in Authorization header")
            return _Reply.json(200, {"type": "user", "name": "tokendice-tester", "fullname": "Test User"})
        if path == "/api/models" or path == "/api/models/":
            return self._list_models(query, token) if self.repo_api else self._no_route()
        if path.startswith("/api/models/"):
            parts = path[len("/api/models/") :].split("/")
            if len(parts) < 2:
                return _Reply.error(404, "Repository not found", "RepoNotFound")
            repo_id, rest = "/".join(parts[:2]), parts[2:]
            if (not rest or rest[0] == "revision") and not self.repo_api:
                return self._no_route()
            if rest and rest[0] == "tree" and not self.tree_api:
                return self._no_route()
            if repo_id in self._renamed:
                return self._rename_redirect(h.path, repo_id)
            if not rest:
                return self._model_info(repo_id, "main", query, token)
            if rest[0] == "revision" and len(rest) >= 2:
                return self._model_info(repo_id, "/".join(rest[1:]), query, token)
            if rest[0] == "tree" and len(rest) >= 2:
                return self._tree(repo_id, rest[1], "/".join(rest[2:]), query, token)
            return _Reply.error(404, "Not found")
        match = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path)
        if match:
            repo_id, revision, filename = match.groups()
            if repo_id in self._renamed:
                return self._rename_redirect(h.path, repo_id)
            return self._resolve(h, method, repo_id, revision, filename, token)
        return _Reply.error(404, "Not found")

    def _no_route(self) -> _Reply:
        """What a server without the route answers: a status and a plain body, no X-Error-* headers."""
        status = self.no_route_status
        body = HTTPStatus(status).phrase.encode()
        return _Reply(status, {"Content-Type": "text/plain; charset=utf-8"}, body)

    def _rename_redirect(self, target: str, old: str) -> _Reply:
        new_target = target.replace(quote(old, safe="/"), self._renamed[old], 1)
        return _Reply(307, {"Location": self.url + new_target}, b"Temporary Redirect")

    def _access(self, repo: HubRepo | None, repo_id: str, token: str | None, files: bool) -> _Reply | None:
        """The error a request for this repository gets, or None when it may proceed."""
        if repo is None:
            status = 404 if token == self.valid_token else 401
            return _Reply.error(status, "Repository not found", "RepoNotFound")
        if repo.private and token != self.valid_token:
            if token is None:
                return _Reply.error(401, "Repository not found", "RepoNotFound")
            return _Reply.error(403, "You don't have access to this repository")
        if repo.gated and files and token != self.valid_token:
            if token is None:
                msg = (
                    f"Access to model {repo_id} is restricted. You must have access to it and be "
                    "authenticated to access it. Please log in."
                )
                return _Reply.error(401, msg, "GatedRepo")
            msg = (
                f"Access to model {repo_id} is restricted and you are not in the authorized list. "
                f"Visit {self.url}/{repo_id} to ask for access."
            )
            return _Reply.error(403, msg, "GatedRepo")
        return None

    def _revision(self, repo: HubRepo, revision: str) -> str | None:
        if revision in repo.refs:
            return repo.refs[revision]
        return revision if revision in repo.history else None

    def _resolve(
        self, h: _Handler, method: str, repo_id: str, revision: str, filename: str, token: str | None
    ) -> _Reply:
        repo = self._repos.get(repo_id)
        denied = self._access(repo, repo_id, token, files=True)
        if denied is not None or repo is None:
            return denied or _Reply.error(404, "Repository not found", "RepoNotFound")
        commit = self._revision(repo, revision)
        if commit is None:
            return _Reply.error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        f = repo.history[commit].get(filename)
        if f is None:
            return _Reply.error(404, "Entry not found", "EntryNotFound", **{"X-Repo-Commit": commit})
        headers = {"X-Repo-Commit": commit, "Accept-Ranges": "bytes"}
        if f.lfs:
            headers.update(
                {"X-Linked-Etag": f'"{f.sha256}"', "X-Linked-Size": str(f.size), "ETag": f'"{f.sha256}"'}
            )
            if self.lfs_redirect:
                return _Reply(302, {**headers, "Location": self._cdn_location(f)}, b"Found. Redirecting")
        else:
            headers["ETag"] = f'"{f.oid}"'
        return self._file_reply(h, f, headers)

    def _cdn_location(self, f: HubFile) -> str:
        name = f.path.rsplit("/", 1)[-1]
        disposition = f"inline; filename*=UTF-8''{quote(name)}; filename=\"{name}\";"
        query = urlencode(
            {
                "response-content-disposition": disposition,
                "Expires": "4102444800",
                "Signature": hashlib.sha1(f.sha256.encode()).hexdigest(),
            }
        )
        return f"{self.cdn_url}/repos/{f.sha256[:2]}/{f.sha256[2:4]}/{f.sha256}?{query}"

    def _cdn(self, h: _Handler, method: str) -> _Reply:
        match = re.match(r"^/repos/[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})$", urlsplit(h.path).path)
        f = self._blobs.get(match.group(1)) if match else None
        if f is None:
            return _Reply(404, {"Content-Type": "application/xml"}, b"<Error><Code>NoSuchKey</Code></Error>")
        return self._file_reply(h, f, {"ETag": f'"{f.sha256}"', "Accept-Ranges": "bytes"})

    def _file_reply(self, h: _Handler, f: HubFile, headers: dict[str, str]) -> _Reply:
        content_type = "application/octet-stream" if f.lfs else "text/plain; charset=utf-8"
        reply = _Reply(200, {**headers, "Content-Type": content_type})
        reply.file, reply.start, reply.end = f, 0, f.size
        wanted = h.headers.get("Range")
        if wanted is None or self._take_rule("ignore_range", "GET", unquote(h.path)) is not None:
            return reply
        match = _RANGE.match(wanted)
        if match is None or match.group(1) == match.group(2) == "":
            return reply  # an unsupported range form: the whole file, as servers may do
        first, last = match.groups()
        if first == "":
            start, end = max(0, f.size - int(last)), f.size
        else:
            start = int(first)
            end = f.size if last == "" else min(f.size, int(last) + 1)
        if start >= f.size or start >= end:
            return _Reply(416, {"Content-Range": f"bytes */{f.size}", "Content-Type": "text/plain"}, b"")
        reply.status, reply.start, reply.end = 206, start, end
        reply.headers["Content-Range"] = f"bytes {start}-{end - 1}/{f.size}"
        return reply

    def _send(self, h: _Handler, method: str, plain_target: str, reply: _Reply, sent: list[int]) -> None:
        """Write the reply; ``sent[0]`` counts the body bytes written so far."""
        h.send_response(reply.status)
        for name, value in reply.headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(reply.length))
        h.send_header("X-Request-Id", hashlib.sha1(f"{time.monotonic_ns()}".encode()).hexdigest()[:16])
        h.end_headers()
        if method == "HEAD" or reply.status in (204, 304):
            h.wfile.flush()
            return
        if reply.file is None:
            h.wfile.write(reply.body)
            h.wfile.flush()
            sent[0] = len(reply.body)
            return
        drop = self._take_rule("drop", method, plain_target)
        limit = reply.end if drop is None else min(reply.end, reply.start + drop.n_bytes)
        flip = self._take_rule("corrupt", method, plain_target, (reply.start, limit))
        f = reply.file
        if drop is None and flip is None and self._throttle is None and isinstance(f.source, Path):
            h.wfile.flush()
            with f.source.open("rb") as fh:
                sent[0] = h.connection.sendfile(fh, reply.start, reply.end - reply.start)
            return
        pos = reply.start
        for block in f.chunks(reply.start, limit):
            if flip is not None and pos <= flip.offset < pos + len(block):
                i = flip.offset - pos
                block = block[:i] + bytes([block[i] ^ 0xFF]) + block[i + 1 :]
            h.wfile.write(block)
            sent[0] += len(block)
            pos += len(block)
            if self._throttle:
                h.wfile.flush()
                if self._stopping.wait(len(block) / self._throttle):
                    break
        h.wfile.flush()
        if drop is not None:
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)

    # --- the JSON API ----------------------------------------------------------------------------
    def _visible(self, repo: HubRepo, token: str | None) -> bool:
        return not repo.private or token == self.valid_token

    def _model_json(self, repo: HubRepo, commit: str, *, full: bool, blobs: bool) -> dict[str, Any]:
        files = repo.history[commit]
        siblings = []
        for f in sorted(files.values(), key=lambda f: f.path):
            entry: dict[str, Any] = {"rfilename": f.path}
            if blobs:
                entry.update({"blobId": f.oid, "size": f.size})
                if f.lfs:
                    entry["lfs"] = {"sha256": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
            siblings.append(entry)
        data: dict[str, Any] = {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": commit,
            "lastModified": _iso(repo.last_modified),
            "createdAt": _iso(repo.created_at),
            "private": repo.private,
            "gated": repo.gated,
            "disabled": False,
            "downloads": repo.downloads,
            "likes": repo.likes,
            "trendingScore": repo.likes // 10,
            "tags": list(repo.tags),
            "pipeline_tag": repo.pipeline_tag,
            "library_name": "gguf" if "gguf" in repo.tags else None,
            "usedStorage": sum(f.size for f in files.values()),
        }
        if repo.gguf is not None:
            data["gguf"] = repo.gguf
        if full:
            data["siblings"] = siblings
            data["spaces"] = []
        return data

    @staticmethod
    def _expand(query: dict[str, list[str]]) -> list[str]:
        return query.get("expand", []) + query.get("expand[]", [])

    def _model_info(self, repo_id: str, revision: str, query: dict, token: str | None) -> _Reply:
        repo = self._repos.get(repo_id)
        denied = self._access(repo, repo_id, token, files=False)
        if denied is not None or repo is None:
            return denied or _Reply.error(404, "Repository not found", "RepoNotFound")
        commit = self._revision(repo, revision)
        if commit is None:
            return _Reply.error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        blobs = query.get("blobs", ["false"])[0].lower() in ("1", "true")
        data = self._model_json(repo, commit, full=True, blobs=blobs)
        if expand := self._expand(query):
            data = {k: v for k, v in data.items() if k in ("_id", "id") or k in expand}
        return _Reply.json(200, data)

    def _list_models(self, query: dict, token: str | None) -> _Reply:
        with self._lock:
            repos = [r for r in self._repos.values() if self._visible(r, token)]
        if search := query.get("search", [""])[0].lower():
            repos = [r for r in repos if search in r.repo_id.lower()]
        if author := query.get("author", [""])[0]:
            repos = [r for r in repos if r.repo_id.split("/")[0] == author]
        for tag in query.get("filter", []):
            repos = [r for r in repos if tag in r.tags or tag == r.pipeline_tag]
        if gated := query.get("gated", [""])[0].lower():
            repos = [r for r in repos if bool(r.gated) == (gated == "true")]
        sort = query.get("sort", [""])[0]
        keys = {
            "downloads": lambda r: r.downloads,
            "likes": lambda r: r.likes,
            "trendingScore": lambda r: r.likes // 10,
            "lastModified": lambda r: r.last_modified,
            "createdAt": lambda r: r.created_at,
            "id": lambda r: r.repo_id,
        }
        repos.sort(key=lambda r: r.repo_id)
        if sort in keys:
            descending = query.get("direction", ["-1"])[0] != "1"
            repos.sort(key=keys[sort], reverse=descending)
        full = query.get("full", ["false"])[0].lower() in ("1", "true")
        expand = self._expand(query)
        items = []
        for r in repos:
            data = self._model_json(r, r.commit, full=full, blobs=False)
            if expand:
                data = {k: v for k, v in data.items() if k in ("_id", "id") or k in expand}
            elif not full:
                keep = ("_id", "id", "modelId", "likes", "trendingScore", "private", "downloads", "tags")
                data = {
                    k: v for k, v in data.items() if k in (*keep, "pipeline_tag", "library_name", "createdAt")
                }
            items.append(data)
        limit = int(query.get("limit", ["0"])[0] or 0)
        size = min(limit, self.page_size) if limit > 0 else self.page_size
        return self._page(items, size, query, "/api/models")

    def _page(self, items: list, size: int, query: dict, path: str) -> _Reply:
        cursor = query.get("cursor", [""])[0]
        offset = json.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"] if cursor else 0
        page = items[offset : offset + size]
        headers = {}
        if offset + size < len(items):
            params = [(k, v) for k, vs in query.items() if k != "cursor" for v in vs]
            params.append(
                ("cursor", base64.urlsafe_b64encode(json.dumps({"offset": offset + size}).encode()).decode())
            )
            headers["Link"] = f'<{self.url}{quote(path)}?{urlencode(params)}>; rel="next"'
        return _Reply.json(200, page, headers)

    def _tree(self, repo_id: str, revision: str, sub: str, query: dict, token: str | None) -> _Reply:
        repo = self._repos.get(repo_id)
        denied = self._access(repo, repo_id, token, files=False)
        if denied is not None or repo is None:
            return denied or _Reply.error(404, "Repository not found", "RepoNotFound")
        commit = self._revision(repo, revision)
        if commit is None:
            return _Reply.error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
        expand = query.get("expand", ["false"])[0].lower() in ("1", "true")
        prefix = sub.strip("/") + "/" if sub.strip("/") else ""
        files = [f for f in repo.history[commit].values() if f.path.startswith(prefix)]
        if prefix and not files:
            return _Reply.error(404, f"{sub} does not exist on {revision}", "EntryNotFound")
        folders: set[str] = set()
        entries = []
        for f in files:
            rel = f.path[len(prefix) :].split("/")
            for depth in range(1, len(rel)):
                if depth == 1 or recursive:
                    folders.add(prefix + "/".join(rel[:depth]))
            if len(rel) == 1 or recursive:
                entry: dict[str, Any] = {"type": "file", "oid": f.oid, "size": f.size, "path": f.path}
                if f.lfs:
                    entry["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
                entries.append(entry)
        dirs = [
            {"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0, "path": d}
            for d in sorted(folders)
        ]
        listing = dirs + sorted(entries, key=lambda e: e["path"])
        if expand:
            last = {"id": commit, "title": "Upload", "date": _iso(repo.last_modified)}
            listing = [{**e, "lastCommit": last} for e in listing]
        size = min(self.tree_page_size, 50) if expand else self.tree_page_size
        path = f"/api/models/{repo_id}/tree/{revision}" + (f"/{sub}" if sub else "")
        return self._page(listing, size, query, path)


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    """A started HubServer, with the environment pointed at it (online, no token), stopped after the test.

    huggingface_hub reads ``HF_HUB_OFFLINE``, ``HF_ENDPOINT`` and the token path once, at import; the
    fixture patches its offline constant and token path too, and sets ``HF_ENDPOINT`` for code that reads
    the environment at call time. Code under test should still pass ``endpoint=`` explicitly.
    """
    import huggingface_hub.constants as hf_constants

    server = HubServer().start()
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "no-hf-token"))
    try:
        yield server
    finally:
        server.stop()
