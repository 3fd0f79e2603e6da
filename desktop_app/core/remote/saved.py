"""The model servers the user saved (llama-server or any OpenAI-compatible one): ``servers.json`` in the
config folder, in the order they were added, one per base URL. Their API keys are not in it: they are in a
:class:`~desktop_app.core.remote.keys.KeyStore`.

A file that cannot be read at all is kept aside as ``servers.json.broken`` and the list starts empty; a
file with some entries that cannot be used keeps the good ones, a copy of the original is kept beside it,
and the file is repaired. Either way :attr:`SavedServers.warning` says so in one sentence.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from desktop_app.core.remote.keys import KeyStore, server_base
from desktop_app.core.safe_text import shown
from desktop_app.core.store import json_file

if TYPE_CHECKING:
    from desktop_app.core.remote.connection import ServerAddress
    from desktop_app.paths import AppPaths

SERVERS_FILE = "servers.json"
SERVERS_VERSION = 1


@dataclass(frozen=True)
class SavedServer:
    """A server the user saved: its address, a name of their choosing (may be empty), whether its TLS
    certificate is checked, and the model last used on it (None: the server's default)."""

    url: str
    name: str = ""
    verify: bool = True
    model: str | None = None

    @property
    def label(self) -> str:
        """The name, else the server's host and port (``192.168.1.5:8080``; the host alone when the
        address gives no port)."""
        if self.name.strip():
            return self.name.strip()
        parts = urlsplit(self.url.strip())
        host = parts.hostname or parts.netloc  # hostname: without a user name or password in the URL
        if ":" in host:
            host = f"[{host}]"  # an IPv6 address
        try:
            port = parts.port
        except ValueError:
            port = None
        return f"{host}:{port}" if port else host

    @property
    def base(self) -> str:
        """The address without a trailing slash or ``/v1``: one saved server per base."""
        return server_base(self.url)


class SavedServers:
    """Reads and writes the saved servers; each change reads the file again first (the window and the
    command line may both change it). ``warning``: one sentence about the file's last reading, or None."""

    def __init__(self, path: Path, keys: KeyStore) -> None:
        self.path = Path(path)
        self.keys = keys
        self.warning: str | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_paths(cls, paths: AppPaths, environ: Mapping[str, str] | None = None) -> SavedServers:
        return cls(paths.config_dir / SERVERS_FILE, KeyStore.for_paths(paths, environ))

    def __repr__(self) -> str:
        return f"SavedServers({str(self.path)!r}, keys in {self.keys.where})"

    # --- reading -----------------------------------------------------------------------------------
    def load(self) -> list[SavedServer]:
        with self._lock:
            return self._read()

    def find(self, url: str) -> SavedServer | None:
        """The saved server with URL's base, if there is one (ValueError for what is not an address)."""
        base = server_base(url)
        return next((s for s in self.load() if s.base == base), None)

    def api_key(self, url: str) -> str | None:
        return self.keys.get(url)

    def address(self, server: SavedServer) -> ServerAddress:
        """Where to reach SERVER, with its stored API key."""
        from desktop_app.core.remote.connection import ServerAddress  # see keys.server_base

        return ServerAddress(server.url.strip(), self.keys.get(server.url), server.verify)

    # --- changes -----------------------------------------------------------------------------------
    def add(self, server: SavedServer, api_key: str | None = None) -> SavedServer:
        """Save SERVER (in place of one saved with the same base, else last) and its API key (an empty
        or None key deletes a stored one). ValueError with a sentence for an address that is not one."""
        server = replace(server, url=server.url.strip(), name=server.name.strip())
        base = server_base(server.url)  # ValueError: ServerAddress's sentence
        key = (api_key or "").strip()  # a pasted key often brings a line break with it
        with self._lock:
            servers = self._read()
            if key:
                self.keys.set(base, key)
            else:
                self.keys.delete(base)
            at = next((i for i, s in enumerate(servers) if s.base == base), None)
            if at is None:
                servers.append(server)
            else:
                servers[at] = server
            self._write(servers)
        return server

    def remove(self, url: str) -> bool:
        """Forget the server with URL's base and its API key; whether it was saved."""
        base = server_base(url)
        with self._lock:
            servers = self._read()
            kept = [s for s in servers if s.base != base]
            self.keys.delete(base)
            if len(kept) == len(servers):
                return False
            self._write(kept)
            return True

    def set_model(self, url: str, model: str | None) -> SavedServer | None:
        """Remember MODEL as the one last used on the server with URL's base; the updated server, or
        None when no such server is saved (it may have been removed meanwhile)."""
        base = server_base(url)
        with self._lock:
            servers = self._read()
            for i, saved in enumerate(servers):
                if saved.base == base:
                    if saved.model == model:
                        return saved
                    servers[i] = replace(saved, model=model)
                    self._write(servers)
                    return servers[i]
        return None

    # --- the file ----------------------------------------------------------------------------------
    def _read(self) -> list[SavedServer]:
        self.warning = None
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            self.warning = shown(
                f"The saved servers in {self.path} could not be read ({exc.strerror or exc})."
            )
            return []
        try:
            servers, problems = _servers_from(json_file.parse_object(raw, SERVERS_VERSION))
        except json_file.Unreadable as exc:
            backup = json_file.move_aside(self.path)
            self.warning = shown(
                f"The saved servers file {self.path} could not be read ({exc}); no servers are listed."
                f"{json_file.kept_clause(backup)}"
            )
            return []
        if problems:
            backup = json_file.keep_copy(self.path, raw)
            if backup is not None:
                # The copy holds the original, so the file can be repaired; when it cannot be written,
                # the good entries are still listed and the warning comes again next time.
                with contextlib.suppress(OSError):
                    self._write(servers)
            self.warning = shown(
                f"Some saved servers in {self.path} could not be used: {'; '.join(problems)}."
                f"{json_file.kept_clause(backup)}"
            )
        return servers

    def _write(self, servers: list[SavedServer]) -> None:
        doc = {"schema_version": SERVERS_VERSION, "servers": [asdict(s) for s in servers]}
        json_file.write_atomic(self.path, (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode())


def _servers_from(doc: Mapping[str, Any]) -> tuple[list[SavedServer], list[str]]:
    """(the usable servers, one clause per problem). A server without a usable address, or with the
    base of one before it, is dropped; a field that is wrong falls back to its default."""
    entries = doc.get("servers", [])
    if not isinstance(entries, list):
        raise json_file.Unreadable('its "servers" is not a list of servers')
    servers: list[SavedServer] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, entry in enumerate(entries, start=1):
        server, wrong = _server_from(entry, n)
        problems.extend(wrong)
        if server is None:
            continue
        if server.base in seen:
            problems.append(f"server {n} ({server.base}) is saved twice (the first one is kept)")
            continue
        seen.add(server.base)
        servers.append(server)
    return servers, problems


def _server_from(entry: Any, n: int) -> tuple[SavedServer | None, list[str]]:
    if not isinstance(entry, dict):
        return None, [f"server {n} is not an object of server fields"]
    url = json_file.text(entry.get("url"))
    if url is None:
        return None, [f"server {n} has no address"]
    try:
        server_base(url)
    except ValueError as exc:
        return None, [f"server {n}: {exc}"]
    problems: list[str] = []
    name = json_file.text(entry.get("name", ""))
    if name is None:
        problems.append(f"the name of server {n} is not text")
    verify = entry.get("verify", True)
    if not isinstance(verify, bool):
        problems.append(f"server {n}'s certificate check is not true or false (it is checked)")
        verify = True  # the safe default: a certificate the user did not choose to trust is checked
    model = entry.get("model")
    if model is not None and json_file.text(model) is None:
        problems.append(f"the model of server {n} is not text")
        model = None
    return SavedServer(url.strip(), name or "", verify, model), problems
