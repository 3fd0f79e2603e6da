"""Lesson files, pack folders and zips for the tests of lesson packs and classroom kits."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path

THINKING = """
[thinking]
max_tokens = 256

[thinking.model]
repo_id = "Qwen/Qwen3-0.6B-GGUF"
filename = "Qwen3-0.6B-Q8_0.gguf"
size_bytes = 639446688

[thinking.fallback]
en = "{model} does not think."
"""


def lesson_text(lesson_id: str, title: str = "A lesson", *, view: str = "chart", thinks: bool = False) -> str:
    """A small lesson file (its view on line 2), for a thinking model when ``thinks``."""
    return f"""id = "{lesson_id}"
view = "{view}"
max_tokens = 8

[title]
en = "{title}"
zh_TW = "{title}（中文）"

[explanation]
en = "What the lesson {lesson_id} shows."

[prompt]
en = "The sky is"
""" + (THINKING if thinks else "")


def write_pack(folder: Path, lessons: dict[str, str], *, name: str | None = None) -> Path:
    """A folder of lesson files (file name → text), with a pack.toml naming it when ``name`` is given."""
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, text in lessons.items():
        (folder / file_name).write_text(text, encoding="utf-8")
    if name is not None:
        (folder / "pack.toml").write_text(f"name = {{ en = {name!r}, zh_TW = '第三週' }}\n", encoding="utf-8")
    return folder


def write_zip(path: Path, entries: Mapping[str, str | bytes]) -> Path:
    """A real .zip with these entries (name → text or bytes), compressed as most zips are."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return path
