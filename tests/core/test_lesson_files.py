"""Lessons as files: every built-in lesson is read from its TOML file under resources/lessons, and a file
that is not a lesson gets one sentence naming the file, the line and the field."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from desktop_app.core.lesson_files import LessonFileError, load_lesson, load_lessons, parse_lesson
from desktop_app.core.lessons import BY_ID, LESSONS
from desktop_app.core.models.curated import FOR_CHINESE, FOR_THINKING, CuratedModel
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
    # A teacher's lesson in their language alone: shown in it whatever the window's language.
    alone = parse_lesson(GOOD.replace('en = "', 'zh_TW = "').replace('fr = "Ma leçon"\n', ""), "mine.toml")
    assert alone.text("title", "en") == "My lesson" and alone.text("prompt", "fr") == "Once upon a time"
    assert dict(lesson.settings) == {"temperature": 0.7, "seed": 4}


HISTORY = '\n[[history]]\nrole = "robot"\ntext.en = "Hi"\n'
THINKING = '\n[thinking]\nmax_tokens = 100\nfallback.en = "x"\n'
BROKEN = [  # (what is replaced, by what, what the sentence says)
    ('view = "chart"', 'view = "radio"', "mine.toml, line 2: view: 'radio' is not one of"),
    ("temperature = 0.7", 'temperature = "hot"', "line 17: settings.temperature: temperature must be"),
    ("seed = 4", "seed = -4", "line 18: settings.seed: seed must be 0 or more"),
    ("seed = 4", "sede = 4", "line 18: settings.sede: is not a field of a lesson here"),
    ('en = "My lesson"\nfr = "Ma leçon"\n', "", "line 6: title: must be a table of texts by language"),
    ('[prompt]\nen = "Once upon a time"\n', "", "mine.toml: prompt: prompt is missing"),
    ("max_tokens = 12", "max_tokens = 0", "line 4: max_tokens: must be from 1 to"),
    ("max_tokens = 12", "max_tokens = true", "line 4: max_tokens: must be a whole number"),
    ('id = "mine"', 'id = "My Lesson!"', "line 1: id: 'My Lesson!' is not an id"),
    ("seed = 4\n", "seed = 4\n" + HISTORY, "line 21: history[1].role: 'robot' is not user or assistant"),
    ("seed = 4\n", 'seed = 4\n\ncolour = "red"\n', "settings.colour: is not a field of a lesson here"),
    ("[title]", "[title", "mine.toml: not a valid TOML file"),
    ("seed = 4\n", "seed = 4\n" + THINKING, "thinking: model is missing"),
    ('id = "mine"', 'id = "mine\\n"', "line 1: id: 'mine\\n' is not an id"),
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


SHA = "0123456789abcdef" * 4
MODEL = f"""
[model]
repo_id = "someone/Tiny-GGUF"
filename = "tiny-q4_k_m.gguf"
size_bytes = 123456
sha256 = "{SHA}"
languages = ["zh_TW", "pt-BR"]
"""


def test_a_lesson_recommends_a_model_in_the_languages_it_names():
    lesson = parse_lesson(GOOD + MODEL, "mine.toml")
    tiny = CuratedModel("someone/Tiny-GGUF", "tiny-q4_k_m.gguf", 123456, "", "", "", sha256=SHA)
    assert lesson.model == tiny and not tiny.thinks and lesson.model_languages == ("zh_TW", "pt-BR")
    assert lesson.recommended("zh_TW") == tiny and lesson.recommended("pt-BR") == tiny
    assert lesson.recommended("en") is None
    assert lesson.recommends is None  # (the thinking model only)
    everywhere = parse_lesson(GOOD + MODEL.replace('languages = ["zh_TW", "pt-BR"]\n', ""), "mine.toml")
    assert everywhere.model_languages == () and everywhere.recommended("en") == tiny


def test_a_curated_model_is_the_curated_entry_with_the_lesson_s_sha256():
    curated = MODEL.replace("someone/Tiny-GGUF", FOR_CHINESE.repo_id).replace(
        "tiny-q4_k_m.gguf", FOR_CHINESE.filename
    )
    lesson = parse_lesson(GOOD + curated, "mine.toml")
    assert lesson.model is not None and lesson.model.reason == FOR_CHINESE.reason  # (the curated entry)
    assert lesson.model == replace(FOR_CHINESE, sha256=SHA)
    unhashed = parse_lesson(GOOD + curated.replace(f'sha256 = "{SHA}"\n', ""), "mine.toml")
    assert unhashed.model is FOR_CHINESE
    thinking = (
        '\n[thinking]\nfallback.en = "x"\n\n[thinking.model]\nrepo_id = "Qwen/Qwen3-0.6B-GGUF"\n'
        f'filename = "Qwen3-0.6B-Q8_0.gguf"\nsize_bytes = 1\nsha256 = "{SHA}"\n'
    )
    thinks = parse_lesson(GOOD + curated + thinking, "mine.toml")
    assert thinks.thinking is not None and thinks.thinking.model == replace(FOR_THINKING, sha256=SHA)
    # A lesson made for a thinking model recommends that model, in every language, before its [model].
    assert thinks.recommended("en") == thinks.recommended("zh_TW") == thinks.recommends
    assert thinks.recommends is not None and thinks.recommends.repo_id == FOR_THINKING.repo_id


def test_the_built_in_lessons_recommend_a_chinese_model_for_chinese():
    wait = BY_ID["wait"]
    assert wait.recommended("en") == wait.recommended("zh_TW") == FOR_THINKING
    others = [lesson for lesson in LESSONS if lesson.thinking is None]
    assert len(others) == len(LESSONS) - 1
    for lesson in others:
        assert lesson.model is FOR_CHINESE and lesson.model_languages == ("zh_TW",), lesson.id
        assert lesson.recommended("zh_TW") is FOR_CHINESE and lesson.recommended("en") is None
        assert lesson.recommends is None


BROKEN_MODEL = [  # (what is replaced, by what, what the sentence says)
    ('repo_id = "someone/Tiny-GGUF"\n', "", "mine.toml, line 20: model: repo_id is missing."),
    ("size_bytes = 123456", "size_bytes = 0", "mine.toml, line 23: model.size_bytes: must be a size in"),
    ("size_bytes = 123456", 'size_bytes = "big"', "line 23: model.size_bytes: must be a whole number"),
    (f'sha256 = "{SHA}"', 'sha256 = "abc"', "line 24: model.sha256: must be 64 lowercase hexadecimal"),
    (SHA, SHA.upper(), "line 24: model.sha256: must be 64 lowercase hexadecimal digits."),
    (SHA, SHA + "\\n", "line 24: model.sha256: must be 64 lowercase hexadecimal digits."),
    ('["zh_TW", "pt-BR"]', '"zh_TW"', "line 25: model.languages: must be a list of language codes"),
    ('["zh_TW", "pt-BR"]', "[]", "line 25: model.languages: names no language: name one at least"),
    ('["zh_TW", "pt-BR"]', "{ zh = true }", "line 25: model.languages: must be a list of language codes"),
    ('"pt-BR"', "3", "line 25: model.languages: 3 is not a language code"),
    ('"pt-BR"', '"Chinese!"', "line 25: model.languages: 'Chinese!' is not a language code"),
    ("size_bytes = 123456\n", 'size_bytes = 123456\nlicence = "MIT"\n', "line 24: model.licence: is not a"),
]


@pytest.mark.parametrize(("old", "new", "said"), BROKEN_MODEL)
def test_a_broken_model_says_where_and_what(old, new, said):
    assert old in GOOD + MODEL
    with pytest.raises(LessonFileError) as caught:
        parse_lesson((GOOD + MODEL).replace(old, new, 1), "mine.toml")
    assert said in str(caught.value)


def test_a_model_that_is_not_a_table_and_languages_for_the_thinking_model_are_refused():
    with pytest.raises(LessonFileError, match=r"mine\.toml, line 1: model: must be a table\."):
        parse_lesson('model = "qwen"\n' + GOOD, "mine.toml")
    thinking = (
        '\n[thinking]\nfallback.en = "x"\n\n[thinking.model]\nrepo_id = "a/b"\nfilename = "c.gguf"\n'
        'size_bytes = 1\nlanguages = ["en"]\n'
    )
    with pytest.raises(LessonFileError, match=r"line 27: thinking\.model\.languages: is not a field"):
        parse_lesson(GOOD + thinking, "mine.toml")
