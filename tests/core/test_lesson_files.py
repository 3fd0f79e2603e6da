"""Lessons as files: every built-in lesson is read from its TOML file under resources/lessons, and a file
that is not a lesson gets one sentence naming the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.lesson_files import LessonFileError, load_lesson, load_lessons, parse_lesson
from desktop_app.core.lessons import BY_ID, LESSONS
from desktop_app.core.models.curated import FOR_THINKING
from desktop_app.resources_path import resources_dir

FOLDER = resources_dir() / "lessons"
GOOD = """\
id = "mine"
view = "chart"
mode = "plain"
max_tokens = 12

[title]
en = "My lesson"
fr = "Ma leçon"

[explanation]
en = "What it shows."

[prompt]
en = "Once upon a time"

[settings]
temperature = 0.7
seed = 4
"""


def test_every_built_in_lesson_is_read_from_its_file():
    files = sorted(FOLDER.glob("*.toml"))
    assert len(files) == len(LESSONS) >= 10
    assert [load_lesson(path) for path in files] == list(LESSONS)
    assert list(BY_ID) == [lesson.id for lesson in LESSONS]
    wait = BY_ID["wait"]
    assert wait.recommends == FOR_THINKING and wait.sampler_settings(thinks=True)["think_wait"] == 2
    assert BY_ID["hallucination"].side_by_side and BY_ID["multi-turn"].history


def test_a_lesson_of_one_s_own_with_any_language():
    lesson = parse_lesson(GOOD, "mine.toml")
    assert lesson.id == "mine" and lesson.mode == "plain" and lesson.max_tokens == 12
    assert lesson.text("title", "fr") == "Ma leçon" and lesson.text("title", "zh_TW") == "My lesson"
    assert dict(lesson.settings) == {"temperature": 0.7, "seed": 4}


HISTORY = '\n[[history]]\nrole = "robot"\ntext.en = "Hi"\n'
THINKING = '\n[thinking]\nmax_tokens = 100\nfallback.en = "x"\n'
BROKEN = [  # (what is replaced, by what, what the sentence says)
    ('view = "chart"', 'view = "radio"', "mine.toml, line 2: view: 'radio' is not one of"),
    ("temperature = 0.7", 'temperature = "hot"', "line 17: settings.temperature: temperature must be"),
    ("seed = 4", "seed = -4", "line 18: settings.seed: seed must be 0 or more"),
    ("seed = 4", "sede = 4", "line 18: settings.sede: is not a field of a lesson here"),
    ('en = "My lesson"\n', "", "line 6: title: needs an English text"),
    ('[prompt]\nen = "Once upon a time"\n', "", "mine.toml: prompt: prompt is missing"),
    ("max_tokens = 12", "max_tokens = 0", "line 4: max_tokens: must be from 1 to"),
    ("max_tokens = 12", "max_tokens = true", "line 4: max_tokens: must be a whole number"),
    ('id = "mine"', 'id = "My Lesson!"', "line 1: id: 'My Lesson!' is not an id"),
    ("seed = 4\n", "seed = 4\n" + HISTORY, "line 21: history[1].role: 'robot' is not user or assistant"),
    ("seed = 4\n", 'seed = 4\n\ncolour = "red"\n', "settings.colour: is not a field of a lesson here"),
    ("[title]", "[title", "mine.toml: not a valid TOML file"),
    ("seed = 4\n", "seed = 4\n" + THINKING, "thinking: model is missing"),
]


@pytest.mark.parametrize(("old", "new", "said"), BROKEN)
def test_a_broken_lesson_file_says_where_and_what(old, new, said):
    assert old in GOOD
    with pytest.raises(LessonFileError) as caught:
        parse_lesson(GOOD.replace(old, new, 1), "mine.toml")
    assert said in str(caught.value)


def test_a_folder_of_lessons_refuses_two_with_one_id_and_a_file_that_is_not_text(tmp_path: Path):
    (tmp_path / "a.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(LessonFileError, match=r"b\.toml: the id 'mine' is a\.toml's already"):
        load_lessons(tmp_path)
    (tmp_path / "b.toml").write_bytes(b'id = "x\xff"\n')
    with pytest.raises(LessonFileError, match=r"b\.toml: not UTF-8 text"):
        load_lessons(tmp_path)
