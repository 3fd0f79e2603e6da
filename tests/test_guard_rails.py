"""Rules of the codebase that are tests, not hopes: the layer boundary, ruff, pyright, the PySide6 pin,
the CI."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
QT_MODULES = ("PySide6", "pyqtgraph", "shiboken6", "desktop_app.ui")


def _core_modules() -> list[str]:
    core = ROOT / "desktop_app" / "core"
    return sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in core.rglob("*.py")
    )


def test_core_never_imports_qt_when_running():
    """Import every core module and use the library, then look at what got imported."""
    script = f"""
import importlib, json, sys
for name in {_core_modules()!r}:
    importlib.import_module(name)
from desktop_app.core.services import Services
s = Services.open()
s.library.entries()
s.close()
import desktop_app.cli, desktop_app.paths
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')
             or m.startswith('desktop_app.ui'))
print(json.dumps(bad))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_core_source_has_no_qt_imports():
    offenders = []
    for path in (ROOT / "desktop_app" / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(QT_MODULES)]
    assert offenders == []


def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is part of the test extra"
    proc = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_pyright_is_clean():
    """pyright over what [tool.pyright] includes (desktop_app), in its mode, with this Python's packages."""
    pyright = shutil.which("pyright", path=str(Path(sys.executable).parent)) or shutil.which("pyright")
    assert pyright, "pyright is part of the test extra"
    proc = subprocess.run(
        [pyright, "--outputjson", "--pythonpath", sys.executable],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    report = json.loads(proc.stdout)
    errors = [
        f"{Path(d['file']).resolve().relative_to(ROOT)}:{d['range']['start']['line'] + 1}: {d['message']}"
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]
    assert not errors, "\n".join(errors)


def _pyside_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(r) for r in project["dependencies"] if r.lower().startswith("pyside6")]


@pytest.mark.parametrize("python", ["3.11"])
def test_pyside_612_is_excluded_where_it_crashes(python: str):
    env = {"python_version": python, "python_full_version": f"{python}.0"}
    active = [r for r in _pyside_requirements() if r.marker is None or r.marker.evaluate(env)]
    assert active, "PySide6 must be required on every Python"
    for r in active:
        assert not r.specifier.contains("6.12.0")
        assert r.specifier.contains("6.11.3")


def test_installed_pyside_is_allowed_by_the_pins():
    import importlib.metadata as md

    version = md.version("pyside6-essentials")
    env = {"python_version": f"{sys.version_info[0]}.{sys.version_info[1]}"}
    active = [r for r in _pyside_requirements() if r.marker is None or r.marker.evaluate(env)]
    assert all(r.specifier.contains(version) for r in active), version


def _quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    return [line for line in block.strip().splitlines() if line.strip()]


def test_readme_quick_start_is_two_commands_and_ci_runs_the_second():
    commands = _quick_start_commands()
    assert len(commands) == 2
    install_and_run, install_and_test = commands
    assert "'.[demo]'" in install_and_run and install_and_run.endswith("tokendice")
    assert "pytest" in install_and_test and "QT_QPA_PLATFORM=offscreen" in install_and_test
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "## Quick start" in ci and "pytest" in ci
    probe = subprocess.run(
        ["awk", "/^## Quick start/{q=1} q && /^python3 .*pytest/{print; exit}", str(ROOT / "README.md")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == install_and_test


def test_ci_runs_every_python_the_project_promises():
    """.ci/run's Pythons are the classifiers' and the README's, from requires-python's lowest one up."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    ci_pythons = re.search(r"^PYTHONS=\((.*)\)$", ci, re.MULTILINE).group(1).split()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    classified = [
        c.rsplit(" :: ", 1)[1] for c in project["classifiers"] if re.fullmatch(r".*Python :: 3\.\d+", c)
    ]
    assert ci_pythons == classified and len(ci_pythons) >= 3
    assert project["requires-python"] == f">={ci_pythons[0]}"
    promise = ", ".join(ci_pythons[:-1]) + f" or {ci_pythons[-1]}"
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Quick start", 1)[1]
    assert f"with Python {promise}." in " ".join(section.split())
