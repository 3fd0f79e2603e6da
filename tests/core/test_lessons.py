"""The built-in lessons: both languages everywhere, settings the sampler accepts, the lecture covered."""

from __future__ import annotations

import datetime as dt
from typing import get_args

from desktop_app.core.engine.sampler import SamplerSettings
from desktop_app.core.lessons import BY_ID, LANGUAGES, LESSONS, View


def test_every_lesson_speaks_both_languages():
    assert len(LESSONS) >= 8 and len(BY_ID) == len(LESSONS)
    for lesson in LESSONS:
        for language in LANGUAGES:
            for what in ("title", "explanation", "prompt"):
                text = lesson.text(what, language)
                assert text.strip(), (lesson.id, what, language)
            lines = lesson.text("explanation", language)
            assert 40 < len(lines) < 600, (lesson.id, language)
        assert lesson.text("title", "en") != lesson.text("title", "zh_TW")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in lesson.text("explanation", "zh_TW"))
        for _role, text in lesson.history:
            assert text["en"] and text["zh_TW"]


def test_lesson_settings_are_sampler_settings_and_views_exist():
    for lesson in LESSONS:
        SamplerSettings().replace(**lesson.sampler_settings())  # raises on an unknown or bad field
        assert lesson.view in get_args(View)
        assert lesson.mode in ("chat", "plain") and lesson.max_tokens >= 1


def test_the_lecture_is_covered():
    ids = set(BY_ID)
    assert {"continuation", "distribution", "temperature", "end-token", "template", "multi-turn",
            "hallucination", "wait"} <= ids  # fmt: skip
    assert BY_ID["wait"].sampler_settings()["wait_count"] == 2
    assert BY_ID["continuation"].mode == "plain" and BY_ID["continuation"].step_mode


def test_the_date_lesson_puts_today_in_the_system_prompt():
    lesson = BY_ID["hallucination"]
    day = dt.date(2026, 12, 1)
    assert lesson.system_prompt("en", day) == "Today is 2026-12-01."
    assert lesson.system_prompt("zh_TW", day) == "今天是2026年12月1日。"
    assert BY_ID["continuation"].system_prompt("en") == ""
