"""The interface language: Qt translators for TokenDice's texts and for Qt's own (standard dialogs' buttons).

``app.py`` resolves the language setting (:func:`desktop_app.core.language.resolve_language`, with the
system's preferred languages read here) and installs the translators before the main window is built;
the window is then in that language until the next start. English is the source language: it needs no
translator. The translations are ``resources/translations/tokendice_<language>.qm`` (found through
:mod:`desktop_app.resources_path`), compiled from the ``.ts`` next to them by
``packaging/update_translations.py``.
"""

from __future__ import annotations

import logging
import math
from typing import cast

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QFont, QFontDatabase, QFontInfo, QFontMetricsF
from PySide6.QtWidgets import QAbstractSpinBox, QWidget

from desktop_app.core.language import LANGUAGES, resolve_language
from desktop_app.resources_path import ResourcesNotFound, translation_file

log = logging.getLogger(__name__)

#: Each language by its own name, as a language menu shows it (never translated).
LANGUAGE_NAMES = {"en": "English", "zh_TW": "繁體中文"}

# Fonts with Traditional Chinese glyph forms, best first (Linux, Windows, macOS). Without one of them
# first in the fallback list, a Latin UI font falls back to whichever CJK font the system finds first,
# often a Japanese or Simplified one: 骨, 直, 說 would be drawn in shapes a Taiwanese class does not write.
TRADITIONAL_FONTS = (
    "Noto Sans CJK TC",
    "Noto Sans TC",
    "Source Han Sans TC",
    "Microsoft JhengHei UI",
    "Microsoft JhengHei",
    "PingFang TC",
    "Heiti TC",
    "Noto Sans CJK HK",
    "AR PL UMing TW",
)

# The translation's own language, by name (translated as "繁體中文"): how the app tells which language
# the installed translators speak.
# QT_TRANSLATE_NOOP returns its message; the cast says so where PySide6's stub says ``object``.
_SELF_NAME = cast(str, QT_TRANSLATE_NOOP("Language", "English"))


def system_language_tags() -> list[str]:
    """The system's preferred languages, most preferred first (``["zh-Hant-TW", "zh-TW", "en-US"]``)."""
    locale = QLocale.system()
    tags = [str(t) for t in locale.uiLanguages()]
    if locale.name() not in tags:
        tags.append(locale.name())
    return tags


def resolved_language(setting: str) -> str:
    """The language the setting means on this system: ``"en"`` or ``"zh_TW"``."""
    return resolve_language(setting, system_language_tags())


def install_translators(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Install the translators for ``language`` on ``app`` (none for English) and return them; they are
    children of ``app``. A missing translation is logged and the interface stays English."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} ({', '.join(LANGUAGES)})")
    if language == "en":
        return []
    installed: list[QTranslator] = []
    ours = QTranslator(app)
    try:
        path = translation_file(language)
    except ResourcesNotFound as exc:
        log.warning("no interface translation: %s", exc)
        path = None
    if path is not None and ours.load(str(path)):
        app.installTranslator(ours)
        installed.append(ours)
    else:
        log.warning(
            "the %s translation could not be loaded from %s; the interface stays English",
            language,
            path,
        )
        ours.deleteLater()
    qt = QTranslator(app)  # Qt's own texts: the buttons of message boxes and file dialogs
    if qt.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        installed.append(qt)
    else:
        qt.deleteLater()
    return installed


def remove_translators(app: QCoreApplication, translators: list[QTranslator]) -> None:
    """Undo :func:`install_translators` (tests switch languages within one process)."""
    for translator in translators:
        app.removeTranslator(translator)
        translator.deleteLater()


def active_language() -> str:
    """The language the installed translators speak (``"en"`` when none is installed)."""
    name = QCoreApplication.translate("Language", _SELF_NAME)
    return next((code for code, own in LANGUAGE_NAMES.items() if own == name), "en")


def language_font(font: QFont, language: str) -> QFont:
    """``font`` with the language's glyph forms preferred: for 繁體中文, the first installed Traditional
    Chinese font right after the font's own family (Latin text keeps its font and its line height)."""
    if language != "zh_TW":
        return QFont(font)
    installed = set(QFontDatabase.families())
    chosen = [name for name in TRADITIONAL_FONTS if name in installed][:1]
    # The family the font really resolves to: a generic alias ("Sans Serif") is no family of its own, and
    # before a CJK family it would let that one draw the Latin text too, with its taller lines.
    primary = QFontInfo(font).family()
    families = [f for f in [primary, *font.families()] if f not in chosen]
    out = QFont(font)
    out.setFamilies(list(dict.fromkeys(families[:1] + chosen + families[1:])))
    return out


def room_for_cjk(root: QWidget, sample: str = "關閉") -> None:
    """Give the spin boxes under ``root`` the height CJK text needs. Their line is laid out with the CJK
    fallback font's taller line (Noto Sans CJK: 17 px at 9 pt against DejaVu Sans's 14), and a spin box,
    sized for the Latin font, then draws "關閉" or "64 個 token" against its top border."""
    for spin in root.findChildren(QAbstractSpinBox):
        metrics = QFontMetricsF(spin.font())
        extra = math.ceil(max(metrics.boundingRect(sample).height() - metrics.height(), 0.0) / 2) + 1
        if extra > 1:
            spin.setMinimumHeight(spin.sizeHint().height() + extra)
