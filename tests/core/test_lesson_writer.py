"""Lessons written as files: a lesson's text reads back as the same lesson (every built-in one, word for
word its own file, and any lesson a file can give, whatever its texts hold), and a lesson file is written
atomically: a write that fails says which file and why, and leaves nothing half-written behind."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import tomllib
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.core.lesson_files import MAX_TOKENS, load_lesson, parse_lesson
from desktop_app.core.lesson_types import Answer, ForThinking, Lesson, ShowStep, View
from desktop_app.core.lesson_writer import lesson_toml, write_lesson
from desktop_app.core.models.curated import CURATED, CuratedModel
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.resources_path import resources_dir

FOLDER = resources_dir() / "lessons"
ROOT = Path(__file__).resolve().parents[2]


def exact(value: Any) -> Any:
    """``value`` as plain data that tells apart what ``==`` does not: 1 from 1.0 and True, 0.0 from -0.0."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (type(value).__name__, {f.name: exact(getattr(value, f.name)) for f in fields})
    if isinstance(value, MappingProxyType | dict):
        return ("mapping", [(exact(k), exact(v)) for k, v in value.items()])
    if isinstance(value, tuple | list):
        return (type(value).__name__, [exact(v) for v in value])
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def assert_round_trip(lesson: Lesson, comment: str | None = None) -> str:
    text = lesson_toml(lesson, comment=comment)
    again = parse_lesson(text, "written.toml")
    assert again == lesson
    assert exact(again) == exact(lesson)  # (the same types too, and in the same order)
    assert lesson_toml(again, comment=comment) == text  # stable: written twice, the same text
    return text


# --- the built-in lessons --------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(FOLDER.glob("*.toml")), ids=lambda p: p.name)
def test_every_built_in_lesson_is_written_back_as_its_own_file(path: Path):
    original = path.read_text(encoding="utf-8")
    comment = original.splitlines()[0].removeprefix("# ")
    lesson = load_lesson(path)
    assert assert_round_trip(lesson, comment) == original


def test_lesson_equality_compares_the_texts_and_settings_by_content():
    """Lesson's ``==`` compares its MappingProxyType fields by what they hold, not by identity."""
    path = FOLDER / "06-multi-turn.toml"
    first, second = load_lesson(path), load_lesson(path)
    assert first.title is not second.title and first == second
    role, text = first.history[0]
    other = MappingProxyType({**text, "en": "Other"})
    changed = replace(first, history=((role, other), *first.history[1:]))
    assert changed != first
    assert replace(first, settings=MappingProxyType({**first.settings, "seed": 5})) != first
    assert replace(first, title=MappingProxyType({**first.title, "fr": "x"})) != first


# --- any lesson a file can give ---------------------------------------------------------------------

NASTY = [
    '"', "\\", "\n", "\r", "\r\n", "\t", "\b", "\f", "\x00", "\x1b", "\x1f", "\x7f", "\x85", "\x9f",
    "\u2028", "\u2029", "\ufeff", "\u200d", "😀", "👩‍👩‍👧", "\U0010ffff", "臺灣", "玉山", "ไทย", "'''", '"""',
    "\\u0041", "#", "[x]", "a = 1", " ", "=", ".", "{today}",
]  # fmt: skip
TEXT = st.lists(st.one_of(st.sampled_from(NASTY), st.characters(codec="utf-8")), max_size=20).map("".join)
LANGUAGE_KEY = st.one_of(st.sampled_from(["en", "zh_TW", "fr", "ja", "pt-BR", "a.b", "", "x y"]), TEXT)


@st.composite
def texts(draw: st.DrawFn) -> MappingProxyType:
    """A text per language, English among them (not always first)."""
    others = draw(st.dictionaries(LANGUAGE_KEY, TEXT, max_size=3))
    english = draw(TEXT)
    pairs = {**others, "en": english} if draw(st.booleans()) else {"en": english, **others}
    return MappingProxyType(pairs)


def finite(low: float | None = None, high: float | None = None) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


WHOLE = st.integers(0, 2**63 - 1)
SETTING = {
    "temperature": st.one_of(finite(0, 1e300), st.integers(0, 5)),
    "top_k": st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-1, 1000).map(float)),
    "top_p": finite(0, 1),
    "min_p": st.one_of(finite(0, 1), st.sampled_from([0, 1])),
    "repeat_penalty": finite(5e-324, 1.7e308),
    "repeat_last_n": st.integers(-1, 2**63 - 1),
    "frequency_penalty": finite(),
    "presence_penalty": st.one_of(finite(), st.integers(-(2**63), 2**63 - 1)),
    "seed": st.one_of(WHOLE, st.integers(0, 10**6).map(float)),
    "ban_eos": st.booleans(),
    "wait_count": WHOLE,
    "wait_text": TEXT,
    "think_wait": WHOLE,
    "think_budget": WHOLE,
}
SETTINGS = st.fixed_dictionaries({}, optional=SETTING).map(MappingProxyType)
SHA256 = st.one_of(st.none(), st.from_regex(r"[0-9a-f]{64}", fullmatch=True))
CURATED_PAIRS = {(c.repo_id, c.filename) for c in CURATED}


@st.composite
def models(draw: st.DrawFn, thinks: bool) -> CuratedModel:
    """A recommended model as a file gives it: a curated one (with a lesson's sha256 or not), or a model
    of the lesson's own, said to think when it is a thinking lesson's."""
    sha = draw(SHA256)
    if draw(st.booleans()):
        curated = draw(st.sampled_from(CURATED))
        return curated if sha is None else replace(curated, sha256=sha)
    repo, filename = draw(st.tuples(TEXT, TEXT).filter(lambda pair: pair not in CURATED_PAIRS))
    size = draw(st.integers(1, 2**63 - 1))
    return CuratedModel(repo, filename, size, "", "", "", thinks=thinks, sha256=sha)


@st.composite
def lessons(draw: st.DrawFn) -> Lesson:
    model = draw(st.one_of(st.none(), models(thinks=False)))
    codes = st.lists(st.sampled_from(["en", "zh_TW", "fr", "pt-BR", "zh_Hant_TW"]), min_size=1, max_size=3)
    languages = tuple(draw(codes)) if model is not None and draw(st.booleans()) else ()
    thinking = None
    if draw(st.booleans()):
        max_tokens = draw(st.integers(1, MAX_TOKENS))
        thinking = ForThinking(draw(SETTINGS), max_tokens, draw(models(thinks=True)), draw(texts()))
    return Lesson(
        draw(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,63}", fullmatch=True)),
        draw(texts()),
        draw(texts()),
        draw(texts()),
        draw(st.sampled_from(get_args(View))),
        mode=draw(st.sampled_from(["chat", "plain"])),
        system=draw(st.one_of(st.none(), texts())),
        history=tuple(draw(st.lists(st.tuples(st.sampled_from(["user", "assistant"]), texts()), max_size=3))),
        settings=draw(SETTINGS),
        max_tokens=draw(st.integers(1, MAX_TOKENS)),
        step_mode=draw(st.booleans()),
        send=draw(st.booleans()),
        show_step=draw(st.sampled_from(get_args(ShowStep))),
        side_by_side=tuple(
            draw(st.lists(st.builds(Answer, texts(), st.one_of(st.none(), texts())), max_size=3))
        ),
        thinking=thinking,
        model=model,
        model_languages=languages,
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lessons(), st.one_of(st.none(), TEXT))
def test_any_lesson_reads_back_as_itself(lesson: Lesson, comment: str | None):
    SamplerSettings(**lesson.settings)  # (a lesson a file can give: its settings are valid)
    text = assert_round_trip(lesson, comment)
    assert not any(c in text for c in "\x00\x7f\r\x85\u2028\u2029")  # always escaped, even in a comment


def test_the_nasty_characters_are_escaped_and_read_back():
    lesson = load_lesson(FOLDER / "05-template.toml")
    nasty = "".join(NASTY)
    odd = replace(
        lesson,
        prompt=MappingProxyType({"en": nasty, "zh_TW": "臺灣最高的山是\n玉山。", 'a "b"': "x", "": "y"}),
        settings=MappingProxyType({"wait_text": "\tWait\x7f", "temperature": 1e-300, "seed": 2}),
    )
    text = assert_round_trip(odd, comment="First line\nsecond line, with a NUL: \x00")
    assert text.startswith("# First line\n# second line, with a NUL: \\u0000\n\nid = ")
    assert '"a \\"b\\"" = "x"' in text and '"" = "y"' in text
    assert 'zh_TW = "臺灣最高的山是\\n玉山。"' in text
    assert 'wait_text = "\\tWait\\u007F"' in text and "temperature = 1e-300" in text
    assert "😀" in text and "\U0010ffff" in text  # written as they are
    assert tomllib.loads(text)["prompt"]["en"] == nasty


def test_a_number_that_is_not_finite_is_refused():
    lesson = load_lesson(FOLDER / "05-template.toml")
    for value in (math.inf, -math.inf, math.nan):
        with pytest.raises(ValueError, match="finite numbers only"):
            lesson_toml(replace(lesson, settings=MappingProxyType({"temperature": value})))


# --- writing a file --------------------------------------------------------------------------------


def test_a_lesson_is_written_to_its_file_and_replaces_the_one_there(tmp_path: Path):
    lesson = load_lesson(FOLDER / "07-hallucination.toml")
    path = tmp_path / "mine.toml"
    path.write_text("old", encoding="utf-8")
    write_lesson(lesson, path, comment="My lesson")
    assert load_lesson(path) == lesson
    assert path.read_text(encoding="utf-8") == lesson_toml(lesson, comment="My lesson")
    assert [p.name for p in tmp_path.iterdir()] == ["mine.toml"]


def _refused(path: Path, *said: str) -> None:
    lesson = load_lesson(FOLDER / "01-continuation.toml")
    with pytest.raises(OSError) as caught:
        write_lesson(lesson, path)
    sentence = str(caught.value)
    assert sentence.startswith(f"The lesson file {path} cannot be written (") and sentence.endswith(".")
    assert sentence.count(". ") == 0, sentence  # one sentence
    for words in said:
        assert words in sentence


def test_a_write_into_a_missing_folder_says_so_and_leaves_nothing(tmp_path: Path):
    _refused(tmp_path / "missing" / "mine.toml", "No such file or directory", "choose a folder that exists")
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    _refused(tmp_path / "a-file" / "mine.toml", "Not a directory", "choose a folder that exists")
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]


def test_a_write_that_fails_once_written_leaves_no_temporary_file(tmp_path: Path):
    (tmp_path / "mine.toml").mkdir()  # the temporary file is written; replacing a folder with it fails
    _refused(tmp_path / "mine.toml", "Is a directory", "choose a file name that is not a folder's")
    assert [p.name for p in tmp_path.iterdir()] == ["mine.toml"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a folder even root may not write to")
def test_a_write_into_a_read_only_folder_says_so_and_leaves_nothing(tmp_path: Path):
    if os.geteuid() == 0:  # root may write into any folder of a writable file system, but not into /sys
        folder = Path("/sys")
    else:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
    before = sorted(folder.iterdir())
    try:
        _refused(folder / "tokendice-lesson.toml", "choose a folder you may write to")
        assert sorted(folder.iterdir()) == before
    finally:
        if folder != Path("/sys"):
            folder.chmod(0o755)


@pytest.mark.skipif(sys.platform == "win32", reason="a file size limit (RLIMIT_FSIZE) is POSIX's")
def test_a_write_that_runs_out_of_room_keeps_the_old_file_and_leaves_nothing(tmp_path: Path):
    """A real process whose files may not grow past 4 KiB: as on a full disk, the write fails midway."""
    path = tmp_path / "mine.toml"
    path.write_text("the old lesson", encoding="utf-8")
    script = f"""
import resource, signal, sys
from pathlib import Path
from types import MappingProxyType
from dataclasses import replace
from desktop_app.core.lesson_files import load_lesson
from desktop_app.core.lesson_writer import write_lesson
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
lesson = load_lesson(Path({str(FOLDER / "01-continuation.toml")!r}))
lesson = replace(lesson, explanation=MappingProxyType({{"en": "long " * 5000}}))
try:
    write_lesson(lesson, Path({str(path)!r}))
except OSError as exc:
    print(exc)
    sys.exit(3)
"""
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert done.stdout.startswith(f"The lesson file {path} cannot be written (File too large)")
    assert "choose a folder that allows larger files." in done.stdout
    assert path.read_text(encoding="utf-8") == "the old lesson"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.toml"]


def test_a_text_that_utf_8_cannot_hold_is_refused_before_anything_is_written(tmp_path: Path):
    lesson = load_lesson(FOLDER / "01-continuation.toml")
    lone = replace(lesson, prompt=MappingProxyType({"en": "half a pair: \ud800"}))
    assert parse_lesson(lesson_toml(lone)) == lone  # (the text itself reads back)
    with pytest.raises(ValueError, match=r"lone surrogate \('\\ud800'\), which UTF-8 cannot hold"):
        write_lesson(lone, tmp_path / "mine.toml")
    assert list(tmp_path.iterdir()) == []
