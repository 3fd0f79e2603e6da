from __future__ import annotations

from pathlib import Path

import platformdirs

from desktop_app.paths import AppPaths


def test_tokendice_home_holds_everything(tmp_path: Path):
    p = AppPaths.from_env({"TOKENDICE_HOME": str(tmp_path / "h")}).ensure()
    assert p.portable
    for folder in (p.data_dir, p.config_dir, p.cache_dir, p.models_dir):
        assert folder.is_dir() and folder.is_relative_to(tmp_path / "h")
    assert p.db_path.parent == p.data_dir and p.settings_path.parent == p.config_dir
    assert p.log_dir == (tmp_path / "h" / "logs").resolve()


def test_platform_folders_without_override():
    p = AppPaths.from_env({})
    assert not p.portable
    assert p.data_dir == Path(platformdirs.user_data_dir("TokenDice", appauthor=False))
    assert p.config_dir == Path(platformdirs.user_config_dir("TokenDice", appauthor=False))
    assert p.cache_dir == Path(platformdirs.user_cache_dir("TokenDice", appauthor=False))
    assert p.models_dir == p.data_dir / "models"
    assert p.log_dir == Path(platformdirs.user_log_dir("TokenDice", appauthor=False))


def test_the_suite_runs_in_a_temporary_home(tokendice_home: Path):
    assert AppPaths.from_env().data_dir.is_relative_to(tokendice_home)
