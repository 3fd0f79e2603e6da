"""The built-in lessons: both languages everywhere, settings the sampler accepts, the lecture covered."""

from __future__ import annotations

import datetime as dt
from typing import get_args

from desktop_app.core.lessons import (
    BY_ID,
    FIRST_STEPS,
    LANGUAGES,
    LESSONS,
    ShowStep,
    View,
    step_to_show,
    template_thinks,
)
from desktop_app.core.models.curated import CURATED
from desktop_app.core.sampler_settings import SamplerSettings


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


def test_the_date_lesson_asks_without_and_with_today_in_the_system_prompt():
    """The date lesson opened with today's date already in the system prompt, so the made-up date never
    showed: the chat now starts without it, and two answers stand side by side, without and with it."""
    lesson = BY_ID["hallucination"]
    day = dt.date(2026, 12, 1)
    assert lesson.system is None and lesson.view == "compare"
    without, with_date = lesson.side_by_side
    assert without.system_prompt("en", day) == "" and without.system_prompt("zh_TW", day) == ""
    assert with_date.system_prompt("en", day) == "Today is 2026-12-01."
    assert with_date.system_prompt("zh_TW", day) == "今天是2026年12月1日。"
    for answer in lesson.side_by_side:
        assert answer.title("en") != answer.title("zh_TW")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in answer.title("zh_TW"))
    assert BY_ID["continuation"].system_prompt("en") == ""


def test_each_lesson_names_the_step_it_shows():
    for lesson in LESSONS:
        assert lesson.show_step in get_args(ShowStep)
    assert BY_ID["temperature"].show_step == "most_uncertain"  # not the last, nearly certain step
    for lesson_id in ("end-token", "wait", "continuation", "distribution"):
        assert BY_ID[lesson_id].show_step == "last"  # the end token's step; the newest step


def test_the_step_to_show_skips_tokens_that_were_not_rolled():
    nan = float("nan")
    entropies = [None, 0.5, nan, 4.0, 1.0, 4.0, None]
    assert step_to_show("last", entropies) is None  # the chart already shows the last
    assert step_to_show("first", entropies) == 1
    assert step_to_show("most_uncertain", entropies) == 3  # the earliest of the two highest
    late = [0.1] * FIRST_STEPS + [9.0]
    assert step_to_show("most_uncertain", late) == 0  # only among the first steps
    assert step_to_show("first", [None, nan]) is None


def test_the_wait_lesson_is_test_time_scaling_on_a_thinking_model():
    """The "Wait" lesson replaced the end of the reply; on a thinking model it now replaces the close of
    the thinking (budget forcing), recommends the smallest curated thinking model, and on a model that does
    not think falls back to " Wait" in place of the end token, saying so."""
    lesson = BY_ID["wait"]
    pick = lesson.recommends
    assert pick is not None and pick.thinks and pick.repo_id == "Qwen/Qwen3-0.6B-GGUF"
    assert pick.size_bytes == min(c.size_bytes for c in CURATED if c.thinks)
    thinking = SamplerSettings().replace(**lesson.sampler_settings(thinks=True))
    assert thinking.think_wait == 2 and thinking.wait_count == 0 and thinking.wait_text == " Wait"
    assert thinking.think_budget == 0  # the budget would do the opposite: close the thinking early
    fallback = SamplerSettings().replace(**lesson.sampler_settings())
    assert fallback.wait_count == 2 and fallback.think_wait == 0
    assert lesson.reply_length(thinks=True) > 4 * lesson.reply_length()  # room to think, and again
    for language in LANGUAGES:
        explanation = lesson.text("explanation", language)
        assert "Wait" in explanation and "</think>" in explanation and "s1" in explanation
        line = lesson.fallback(language, "SmolLM2-135M")
        assert line.startswith("SmolLM2-135M") and "Wait" in line and "token" in line
    zh = lesson.text("explanation", "zh_TW")
    assert "深度不夠，長度來湊" in zh and "思考" in zh and "預算" in zh
    assert "budget" in lesson.text("explanation", "en")
    for other in LESSONS:  # the others run alike on any model
        if other is not lesson:
            assert other.recommends is None and other.fallback("en", "x") == ""
            assert other.sampler_settings(thinks=True) == other.sampler_settings()


def test_a_thinking_template_names_the_thinking():
    qwen3 = "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>' }}"
    deepseek = "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
    chatml = "{% for m in messages %}<|im_start|>{{ m.role }}\\n{{ m.content }}<|im_end|>{% endfor %}"
    assert template_thinks(qwen3) and template_thinks(deepseek)
    assert not template_thinks(chatml) and not template_thinks("")
