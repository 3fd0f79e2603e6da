"""Which language the interface speaks: the setting ("system", "en", "zh_TW") and the rule that turns
"system" into one of the languages TokenDice has, from the system's preferred languages.

No Qt here: the UI reads the system's languages (``QLocale.system().uiLanguages()``) and passes them in,
so the rule is tested without a display.
"""

from __future__ import annotations

from collections.abc import Iterable

SYSTEM = "system"
#: The interface languages TokenDice has (English is the source language of every text).
LANGUAGES = ("en", "zh_TW")
#: What the language setting may hold.
CHOICES = (SYSTEM, *LANGUAGES)
DEFAULT = SYSTEM

# Chinese written in Traditional characters: the script, or the regions that use it.
_TRADITIONAL_SCRIPTS = {"hant"}
_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}
_SIMPLIFIED_SCRIPTS = {"hans"}


def _parts(tag: str) -> list[str]:
    """``"zh_Hant_TW.UTF-8@euro"`` → ``["zh", "hant", "tw"]``: a locale name or a BCP 47 tag, lowercased."""
    tag = tag.split(".", 1)[0].split("@", 1)[0]
    return [p for p in tag.replace("_", "-").lower().split("-") if p]


def language_of_tag(tag: str) -> str | None:
    """The TokenDice language a system locale tag asks for: ``"zh_TW"`` for Chinese in Traditional
    characters (zh-TW, zh-HK, zh-MO, zh-Hant, zh-Hant-CN …), ``"en"`` for English, None for anything else
    (Simplified Chinese, a bare "zh", other languages, "C" / "POSIX")."""
    parts = _parts(tag)
    if not parts:
        return None
    language, rest = parts[0], set(parts[1:])
    if language == "en":
        return "en"
    if language != "zh":
        return None
    if rest & _TRADITIONAL_SCRIPTS:
        return "zh_TW"
    if rest & _SIMPLIFIED_SCRIPTS:
        return None
    return "zh_TW" if rest & _TRADITIONAL_REGIONS else None


def resolve_language(setting: str, system_tags: Iterable[str] = ()) -> str:
    """The language to show: ``setting`` itself when it names one, else (``"system"``) the first of the
    system's preferred languages (most preferred first, e.g. ``["zh-Hant-TW", "en-US"]``) that TokenDice
    has; English when none of them is one (or the setting is unknown)."""
    if setting in LANGUAGES:
        return setting
    if setting == SYSTEM:
        for tag in system_tags:
            found = language_of_tag(tag)
            if found is not None:
                return found
    return "en"


def validate_choice(value: object) -> str:
    """``value`` if it is a valid language setting, else ValueError with the choices."""
    if value not in CHOICES:
        raise ValueError(f"unknown language {value!r} ({', '.join(CHOICES)})")
    return str(value)
