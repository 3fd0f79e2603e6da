"""A lesson made from the window's setup: which text is the prompt, which turns come before it, which
settings are written (those that differ from the defaults: the same setup once applied over them), and
the lesson's id."""

from __future__ import annotations

from desktop_app.core.lesson_files import parse_lesson
from desktop_app.core.lesson_setup import lesson_from_setup, lesson_id_for, setup_from_chat
from desktop_app.core.lesson_writer import lesson_toml
from desktop_app.core.models.curated import CuratedModel
from desktop_app.core.sampler_settings import SamplerSettings

CHAT = [("user", "Hi"), ("assistant", "Hello!"), ("user", "Name a colour."), ("assistant", "Blue.")]
SETTINGS = SamplerSettings(temperature=0.3, top_k=5, seed=7, wait_count=1)


def _setup(typed: str, messages=CHAT, *, plain=False, system="Be brief."):
    return setup_from_chat(
        typed, messages, system=system, plain=plain, settings=SETTINGS, max_tokens=33, step_mode=True
    )


def test_what_is_typed_is_the_prompt_after_every_turn_of_the_chat():
    s = _setup("And another?")
    assert s is not None and s.prompt == "And another?" and s.history == tuple(CHAT)
    assert (s.system, s.max_tokens, s.step_mode, s.settings) == ("Be brief.", 33, True, SETTINGS)


def test_with_nothing_typed_the_last_question_is_the_prompt_after_the_turns_before_it():
    s = _setup("  \n")
    assert s is not None and s.prompt == "Name a colour." and s.history == tuple(CHAT[:2])


def test_no_prompt_at_all_is_no_setup():
    assert _setup("", []) is None
    assert _setup("", [("assistant", "An answer alone")]) is None


def test_a_plain_continuation_has_no_turns_and_no_system_prompt():
    s = _setup("Once upon a time", [("user", "Earlier text"), ("assistant", " went on")], plain=True)
    assert s is not None and s.prompt == "Once upon a time" and s.history == ()
    lesson = lesson_from_setup(s, lesson_id="story", language="en", title="T", explanation="E", view="chart")
    assert lesson.mode == "plain" and lesson.system is None


def test_the_lesson_has_the_setup_in_the_teachers_language_and_only_the_settings_that_differ():
    s = _setup("And another?")
    assert s is not None
    pick = CuratedModel("someone/Model-GGUF", "model-q4_k_m.gguf", 1234, "", "", "")
    lesson = lesson_from_setup(
        s, lesson_id="colours", language="zh_TW", title=" 顏色 ", explanation="說明", view="die",
        send=False, model=pick,
    )  # fmt: skip
    assert lesson.text("title", "zh_TW") == "顏色" and lesson.text("prompt", "zh_TW") == "And another?"
    assert dict(lesson.settings) == {"temperature": 0.3, "top_k": 5, "seed": 7, "wait_count": 1}
    assert SamplerSettings(**lesson.sampler_settings()) == SETTINGS  # over the defaults: the same
    assert [(role, dict(text)) for role, text in lesson.history] == [(r, {"zh_TW": t}) for r, t in CHAT]
    assert lesson.system_prompt("zh_TW") == "Be brief."
    assert (lesson.view, lesson.send, lesson.step_mode, lesson.max_tokens) == ("die", False, True, 33)
    assert lesson.recommended("zh_TW") == pick and lesson.recommended("en") == pick
    # Written and read back: the same lesson (a lesson in one language only, Chinese here).
    assert parse_lesson(lesson_toml(lesson), "colours.toml") == lesson


def test_an_id_from_the_title_not_one_taken():
    assert lesson_id_for("The End Token, again!", set()) == "the-end-token-again"
    assert lesson_id_for("Ça va: café", set()) == "ca-va-cafe"
    assert lesson_id_for("溫度與骰子", set()) == "lesson"
    assert lesson_id_for("溫度與骰子", {"lesson", "lesson-2"}) == "lesson-3"
    assert lesson_id_for("x" * 200, set()) == "x" * 48  # lesson files allow 64 characters
