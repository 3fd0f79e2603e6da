"""One version source (desktop_app.__version__) and a changelog section for it."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

from desktop_app import __version__

ROOT = Path(__file__).resolve().parents[2]


def test_version_has_one_source():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "desktop_app.__version__"}
    # The bundle's spec and setuptools read it without importing anything: it must stay a literal.
    tree = ast.parse((ROOT / "desktop_app" / "__init__.py").read_text(encoding="utf-8"))
    assigned = [n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "__version__"]
    assert [ast.literal_eval(v) for v in assigned] == [__version__]
    assert not any(isinstance(n, ast.Import | ast.ImportFrom) for n in tree.body)
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?(a|b|rc|dev|post)\d+)?", __version__)


def test_changelog_keeps_a_changelog_and_has_this_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n") and "keepachangelog.com" in text
    sections = re.findall(r"^## \[([^\]]+)\]", text, flags=re.M)
    assert sections[0] == "Unreleased"
    assert sections[1] == __version__, "add a CHANGELOG.md section when __version__ changes"
    assert re.search(rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", text, flags=re.M)
