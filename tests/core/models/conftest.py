"""Fixtures shared by the model tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.models.library import Library
from desktop_app.core.store.db import Database


@pytest.fixture
def library(tmp_path: Path):
    """A library in a fresh database that lists files without asking llama.cpp whether they load
    (placeholder GGUFs). A test module may define its own."""
    db = Database(tmp_path / "db.sqlite3")
    yield Library(db, check_loadable=False)
    db.close()
