"""The interface language: which language the setting means on a system (no Qt needed for the rule)."""

from __future__ import annotations

import pytest

from desktop_app.core.language import CHOICES, DEFAULT, LANGUAGES, language_of_tag, resolve_language


@pytest.mark.parametrize(
    "tag",
    ["zh_TW", "zh-TW", "zh_TW.UTF-8", "zh-Hant", "zh-Hant-TW", "zh_Hant_HK", "zh-HK", "zh_MO", "zh-Hant-CN",
     "ZH-tw", "zh_TW@euro"],
)  # fmt: skip
def test_traditional_chinese_tags_ask_for_zh_tw(tag):
    assert language_of_tag(tag) == "zh_TW"


@pytest.mark.parametrize("tag", ["en", "en_US", "en-GB", "en_US.UTF-8", "EN-au"])
def test_english_tags_ask_for_english(tag):
    assert language_of_tag(tag) == "en"


@pytest.mark.parametrize(
    "tag", ["zh_CN", "zh-Hans", "zh-Hans-TW", "zh_SG", "zh", "ja_JP", "de-DE", "C", "POSIX", "", "fr_CA.UTF8"]
)
def test_other_tags_ask_for_nothing_we_have(tag):
    assert language_of_tag(tag) is None


def test_an_explicit_setting_wins_over_the_system():
    assert resolve_language("en", ["zh-Hant-TW"]) == "en"
    assert resolve_language("zh_TW", ["en-US"]) == "zh_TW"
    assert resolve_language("zh_TW") == "zh_TW"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["zh-Hant-TW", "zh-TW"], "zh_TW"),  # a Taiwanese system
        (["zh-HK", "en-US"], "zh_TW"),  # Hong Kong
        (["en-US", "zh-TW"], "en"),  # English first: the most preferred language wins
        (["ja-JP", "zh-TW", "en-US"], "zh_TW"),  # the first one TokenDice has
        (["zh-CN", "en-US"], "en"),  # Simplified Chinese is not Traditional: English
        (["zh-Hans-CN"], "en"),
        (["de-DE", "fr-FR"], "en"),  # nothing TokenDice has: English
        (["C"], "en"),
        ([], "en"),
    ],
)
def test_system_follows_the_first_preferred_language_we_have(tags, expected):
    assert resolve_language("system", tags) == expected


def test_an_unknown_setting_means_english():
    assert resolve_language("klingon", ["zh-TW"]) == "en"


def test_the_choices():
    assert DEFAULT == "system" and CHOICES == ("system", "en", "zh_TW") and LANGUAGES == ("en", "zh_TW")
