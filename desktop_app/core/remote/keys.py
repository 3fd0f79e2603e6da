"""The API keys of saved model servers, one per server base URL, kept apart from every other file.

Where the system has a keyring (Secret Service, the macOS Keychain, Windows' Credential Manager) the keys
live there, under the service name ``TokenDice``. Elsewhere, in portable mode (everything in one folder
that may be carried to another machine), or when ``TOKENDICE_KEYRING`` is ``off``, they live in
``server_keys.json`` in the config folder, which only the user can read (0o600). A keyring that fails
while the app runs (locked, its D-Bus service gone) is logged and that one call uses the file instead.
A key never appears in another file, a log line or a repr.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_app.core.safe_text import shown
from desktop_app.core.store import json_file

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from desktop_app.paths import AppPaths

log = logging.getLogger(__name__)

SERVICE = "TokenDice"
KEYS_FILE = "server_keys.json"
KEYS_VERSION = 1
KEYRING_ENV = "TOKENDICE_KEYRING"
_OFF = ("off", "0", "false")


def server_base(url: str) -> str:
    """The key's name for a server: its base URL (ValueError with a sentence for what is not one)."""
    # Imported when first needed: the connection brings the HTTP client, which the window's start
    # leaves for later (tests/ui/test_startup_imports.py), and the window imports the saved servers.
    from desktop_app.core.remote.connection import ServerAddress

    return ServerAddress(url.strip()).base


class KeyStore:
    """Get, set and delete the API key of a server. ``where`` says where the keys are kept (a fragment
    for a sentence); ``warning`` is one sentence when the keys file could not be used, else None."""

    def __init__(self, path: Path, backend: KeyringBackend | None = None) -> None:
        self.path = Path(path)
        self._backend = backend
        # Finding the system keyring takes a tenth of a second or more (its backends are looked up and
        # asked whether they work): done when a key is first needed, not when the window starts.
        self._find_keyring: Callable[[], KeyringBackend | None] | None = None
        self._lock = threading.RLock()
        self._warning: str | None = None
        self._checked = False  # the file's permissions and contents looked at once

    @classmethod
    def for_paths(cls, paths: AppPaths, environ: Mapping[str, str] | None = None) -> KeyStore:
        """The system keyring where there is a real one and it may be used, else the private file."""
        env = os.environ if environ is None else environ
        path = paths.config_dir / KEYS_FILE
        store = cls(path)
        if not (paths.portable or env.get(KEYRING_ENV, "").strip().lower() in _OFF):
            store._find_keyring = _system_keyring
        return store

    @property
    def where(self) -> str:
        keyring = self.keyring_name
        if keyring is not None:
            return f"the system keyring ({keyring})"
        return f"{self.shown_path}, readable only by you"

    @property
    def keyring_name(self) -> str | None:
        """The system keyring's name when keys go there (None: they go to the file)."""
        with self._lock:
            backend = self._keyring()
        return _backend_name(backend) if backend is not None else None

    @property
    def shown_path(self) -> str:
        """The keys file's path, the home folder written as ``~``."""
        return _home_short(self.path)

    @property
    def warning(self) -> str | None:
        with self._lock:
            if not self._checked:
                self._read()
            return self._warning

    def __repr__(self) -> str:  # where the keys are, never one of them
        return f"KeyStore(in {self.where})"

    # --- the API -----------------------------------------------------------------------------------
    def get(self, url: str) -> str | None:
        base = server_base(url)
        with self._lock:
            backend = self._keyring()
            if backend is not None:
                try:
                    found = backend.get_password(SERVICE, base)
                except Exception as exc:  # see _keyring_failed
                    self._keyring_failed("read", base, exc)
                else:
                    if found:
                        return found
            # Also after a keyring answered "none": a key set while the keyring failed is in the file.
            return self._read().get(base)

    def set(self, url: str, key: str) -> None:
        """Keep KEY for the server at URL (an empty key deletes it)."""
        if not key:
            self.delete(url)
            return
        base = server_base(url)
        with self._lock:
            backend = self._keyring()
            if backend is not None:
                try:
                    backend.set_password(SERVICE, base, key)
                except Exception as exc:
                    self._keyring_failed("store", base, exc, key)
                else:
                    self._forget_in_file(base)  # a copy kept there while the keyring failed is stale now
                    return
            keys = self._read()
            keys[base] = key
            self._write(keys)

    def delete(self, url: str) -> None:
        """Forget the key of the server at URL, wherever it is (no error when there is none)."""
        base = server_base(url)
        with self._lock:
            backend = self._keyring()
            if backend is not None:
                from keyring.errors import PasswordDeleteError

                try:
                    backend.delete_password(SERVICE, base)
                except PasswordDeleteError:
                    pass  # there was no key in the keyring
                except Exception as exc:
                    self._keyring_failed("delete", base, exc)
            self._forget_in_file(base)

    # --- the keyring -------------------------------------------------------------------------------
    def _keyring(self) -> KeyringBackend | None:
        if self._find_keyring is not None:
            self._backend, self._find_keyring = self._find_keyring(), None
        return self._backend

    def _keyring_failed(self, action: str, base: str, exc: Exception, key: str | None = None) -> None:
        """Log a keyring fault (the call goes on with the file). Backends wrap most faults in
        KeyringError, but not all: a D-Bus error or a closed socket can come through as it is, and none
        of them may take the window down when the file can stand in."""
        said = f"{type(exc).__name__}: {exc}"
        if key:
            said = said.replace(key, "…")  # a backend's message is not known never to quote the secret
        log.warning(
            "The system keyring could not %s the API key for %s (%s); %s is used instead.",
            action,
            base,
            said,
            self.path,
        )

    # --- the file ----------------------------------------------------------------------------------
    def _forget_in_file(self, base: str) -> None:
        keys = self._read()
        if base in keys:
            del keys[base]
            self._write(keys)

    def _read(self) -> dict[str, str]:
        """The keys in the file, read again each time (another TokenDice process may have written it)."""
        self._checked = True
        try:
            if json_file.tighten(self.path):
                log.warning("%s could be read by other users; it is now readable only by you.", self.path)
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            self._warning = shown(
                f"The API keys in {self.path} could not be read ({exc.strerror or exc}); "
                "saved servers are used without their keys."
            )
            return {}
        try:
            doc = json_file.parse_object(raw, KEYS_VERSION)
            keys, problems = _keys_from(doc)
        except json_file.Unreadable as exc:
            backup = json_file.move_aside(self.path)
            self._warning = shown(
                f"The API keys file {self.path} could not be read ({exc}); saved servers are used "
                f"without their keys.{json_file.kept_clause(backup)}"
            )
            return {}
        if problems:
            backup = json_file.keep_copy(self.path, raw, private=True)
            if backup is not None:
                # The copy holds the original, so the file can be repaired; when it cannot be written,
                # the good keys are still used and the warning comes again next time.
                with contextlib.suppress(OSError):
                    self._write(keys)
            self._warning = shown(
                f"Some API keys in {self.path} could not be used: {'; '.join(problems)}."
                f"{json_file.kept_clause(backup)}"
            )
        return keys

    def _write(self, keys: Mapping[str, str]) -> None:
        doc = {"schema_version": KEYS_VERSION, "keys": dict(keys)}
        data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
        json_file.write_atomic(self.path, data, private=True)


def _keys_from(doc: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """(the usable keys by base URL, one clause per entry that is not usable). A clause names the
    server, never the key."""
    entries = doc.get("keys", {})
    if not isinstance(entries, dict):
        raise json_file.Unreadable('its "keys" is not an object of server addresses and keys')
    keys: dict[str, str] = {}
    problems: list[str] = []
    for name, value in entries.items():
        try:
            base = server_base(name)
        except ValueError:
            problems.append(f"{name[:60]!r} is not a server address")
            continue
        key = json_file.text(value)
        if not key:
            problems.append(f"the key for {base} is not text")
        else:
            keys[base] = key
    return keys, problems


def _system_keyring() -> KeyringBackend | None:
    """The keyring package's active backend if it is a real one (not the failing or null backend it
    falls back to when the system has none), else None."""
    try:
        import keyring
    except ImportError:
        log.info("The keyring package is not installed; API keys are kept in a private file.")
        return None
    try:
        backend = keyring.get_keyring()
        module = type(backend).__module__
        real = not module.startswith(("keyring.backends.fail", "keyring.backends.null"))
        usable = real and backend.priority > 0
    except Exception as exc:  # a keyring configuration naming a backend that is not installed, and the like
        log.warning(
            "The system keyring cannot be used (%s: %s); API keys are kept in a private file.",
            type(exc).__name__,
            exc,
        )
        return None
    return backend if usable else None


def _backend_name(backend: KeyringBackend) -> str:
    name = getattr(backend, "name", "") or type(backend).__name__
    return str(name).removesuffix(" Keyring").strip() or type(backend).__name__


def _home_short(path: Path) -> str:
    """PATH with the home folder written as ``~`` (a shorter sentence, and no user name in it)."""
    try:
        return str(Path("~") / path.relative_to(Path.home()))
    except ValueError:
        return str(path)
