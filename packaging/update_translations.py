"""Update the interface translations: extract every text of the UI into the .ts files, compile the .qm files.

    .venv/bin/python packaging/update_translations.py              # lupdate, then lrelease
    .venv/bin/python packaging/update_translations.py --release    # lrelease only (after translating)

``pyside6-lupdate`` reads ``self.tr("…")``, ``QCoreApplication.translate("Context", "…")`` /
``translate("Context", "…")`` and ``QT_TRANSLATE_NOOP("Context", "…")`` in ``desktop_app/ui/**.py`` and
``desktop_app/app.py`` and merges them into ``resources/translations/tokendice_<language>.ts``: new texts
arrive as unfinished entries, texts no longer in the code are dropped (``-no-obsolete``), translations
already made are kept. Translate the unfinished entries (Qt Linguist, or any editor: the ``.ts`` is XML),
then run this script again (or with ``--release``) so ``pyside6-lrelease`` compiles the ``.qm`` the app
loads. ``tests/ui/test_translations.py`` fails while a text is untranslated, missing from the ``.ts``, or
the ``.qm`` is older than its ``.ts``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "resources" / "translations"
LANGUAGES = ("zh_TW",)  # English is the source language


def sources(root: Path = ROOT) -> list[Path]:
    """The files whose texts are translated: the UI package and the app's wiring."""
    return [*sorted((root / "desktop_app" / "ui").rglob("*.py")), root / "desktop_app" / "app.py"]


def ts_path(language: str) -> Path:
    return TRANSLATIONS / f"tokendice_{language}.ts"


def qm_path(language: str) -> Path:
    return TRANSLATIONS / f"tokendice_{language}.qm"


def tool(name: str) -> list[str]:
    """The command of one of PySide6's Qt tools ("lupdate", "lrelease"), from this Python's PySide6."""
    import PySide6

    folder = Path(PySide6.__file__).resolve().parent
    for candidate in (folder / name, folder / f"{name}.exe", folder / "Qt" / "libexec" / name):
        if candidate.is_file():
            return [str(candidate)]
    raise FileNotFoundError(f"PySide6 has no {name} in {folder}: install pyside6-essentials")


def lupdate(ts: Path, files: list[Path] | None = None, *, locations: str = "relative") -> str:
    """Extract the texts of ``files`` (default: :func:`sources`) into ``ts``, merging with what it has."""
    files = files if files is not None else sources()
    ts.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".lst", delete=False, encoding="utf-8") as lst:
        lst.write("\n".join(str(f) for f in files) + "\n")
    try:
        command = [*tool("lupdate"), "-no-obsolete", "-locations", locations, "-source-language", "en"]
        command += ["-target-language", ts.stem.split("_", 1)[1], f"@{lst.name}", "-ts", str(ts)]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
    finally:
        Path(lst.name).unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"lupdate failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    return proc.stdout + proc.stderr


def lrelease(ts: Path, qm: Path) -> str:
    """Compile ``ts`` into ``qm`` (unfinished entries are left out: they show in English)."""
    proc = subprocess.run(
        [*tool("lrelease"), "-nounfinished", "-removeidentical", str(ts), "-qm", str(qm)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"lrelease failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    return proc.stdout + proc.stderr


def messages(ts: Path) -> list[tuple[str, str, ET.Element]]:
    """``(context, source, translation element)`` of every message of a .ts file."""
    root = ET.parse(ts).getroot()
    found = []
    for context in root.iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            found.append((name, message.findtext("source") or "", message.find("translation")))
    return found


def unfinished(ts: Path) -> list[tuple[str, str]]:
    """The messages without a finished, non-empty translation."""
    out = []
    for context, source, translation in messages(ts):
        kind = translation.get("type") if translation is not None else "missing"
        text = "".join(translation.itertext()) if translation is not None else ""
        if kind in ("unfinished", "missing") or not text.strip():
            out.append((context, source))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", action="store_true", help="only compile the .ts files into .qm")
    args = parser.parse_args(argv)
    status = 0
    for language in LANGUAGES:
        ts, qm = ts_path(language), qm_path(language)
        if not args.release:
            lupdate(ts)
        lrelease(ts, qm)
        todo = unfinished(ts)
        total = len(messages(ts))
        done = total - len(todo)
        print(f"{ts.relative_to(ROOT)}: {total} texts, {done} translated → {qm.relative_to(ROOT)}")
        for context, source in todo:
            print(f"  untranslated [{context}] {source!r}")
        if todo:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
