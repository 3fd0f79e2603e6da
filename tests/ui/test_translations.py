"""The interface translations as files: every text of the UI code is in the .ts and translated, the .qm is
compiled from that very .ts, and the core words the UI translates by key say exactly the core's English
when no translator is installed."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

from desktop_app.core.engine.gpu import BackendInfo, Device, LoadReport
from desktop_app.core.engine.llama_log import OffloadReport
from desktop_app.core.engine.session import (
    STOP_CANCELLED,
    STOP_CONTEXT_FULL,
    STOP_ENGINE_CRASHED,
    STOP_EOG,
    STOP_MAX_TOKENS,
    STOP_STRING,
)
from desktop_app.core.models import hub as hub_module
from desktop_app.core.models.hub import CURATED, Hub
from desktop_app.core.remote.server_info import NEEDS_IDS, NO_TEMPLATE
from desktop_app.core.remote.service import STOP_SERVER_FAILED
from desktop_app.core.store.presets import BUILTIN_PRESETS
from desktop_app.resources_path import translation_file
from desktop_app.ui import core_text

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[^}]*\}|%\d")
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
# Translations that may stay as the English: names a Taiwanese class uses as they are.
KEPT = {
    "top-k",
    "top-p",
    "min-p",
    "Top-k",
    "Top-p",
    "Min-p",
    "u = {u}",
    "top-k {k}",
    "top-p {p}",
    "min-p {p}",
}


def _tool():
    spec = importlib.util.spec_from_file_location(
        "update_translations", ROOT / "packaging" / "update_translations.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
TS = translation_file("zh_TW", ".ts")
QM = translation_file("zh_TW")


def test_the_translation_files_are_where_the_app_looks():
    assert TOOL.ts_path("zh_TW") == TS and TOOL.qm_path("zh_TW") == QM
    assert TS.is_file() and QM.is_file()


def test_every_entry_is_translated_keeping_its_placeholders():
    unfinished = TOOL.unfinished(TS)
    assert not unfinished, f"{len(unfinished)} untranslated: {unfinished[:20]}"
    problems = []
    for context, source, translation in TOOL.messages(TS):
        text = "".join(translation.itertext())
        if translation.get("type") in ("obsolete", "vanished"):
            problems.append(
                f"[{context}] {source!r} is {translation.get('type')}: run update_translations.py"
            )
        if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text)):
            problems.append(f"[{context}] {source!r} → {text!r}: placeholders differ")
        if source.count("&") != text.count("&") and re.search(r"&\w", source):
            problems.append(f"[{context}] {source!r} → {text!r}: the menu mnemonic is lost")
        if not CJK.search(text) and text not in KEPT:
            problems.append(f"[{context}] {source!r} → {text!r}: not Chinese")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_every_text_of_the_ui_code_is_in_the_ts(tmp_path):
    fresh = tmp_path / "tokendice_zh_TW.ts"
    TOOL.lupdate(fresh)
    in_code = {(c, s) for c, s, _t in TOOL.messages(fresh)}
    committed = {(c, s) for c, s, _t in TOOL.messages(TS)}
    missing, stale = sorted(in_code - committed), sorted(committed - in_code)
    assert not missing and not stale, (
        f"run packaging/update_translations.py and translate: new in the code {missing}, no longer in the "
        f"code {stale}"
    )


@pytest.mark.slow
def test_the_committed_qm_is_compiled_from_the_committed_ts(qapp, tmp_path):
    fresh = tmp_path / "tokendice_zh_TW.qm"
    TOOL.lrelease(TS, fresh)
    if fresh.read_bytes() == QM.read_bytes():
        return
    # Another Qt's lrelease may lay the file out differently: then every text must translate the same.
    from PySide6.QtCore import QTranslator

    committed, compiled = QTranslator(), QTranslator()
    assert committed.load(str(QM)) and compiled.load(str(fresh))
    stale = [
        (context, source)
        for context, source, _t in TOOL.messages(TS)
        if committed.translate(context, source) != compiled.translate(context, source)
    ]
    assert not stale, f"the .qm is stale, run packaging/update_translations.py: {stale[:10]}"


def _calls_in_fstrings(tree: ast.AST) -> list[int]:
    """Lines of tr()/translate() calls that lupdate cannot see: inside an f-string, or given one."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and _name(inner) in ("tr", "translate", "QT_TRANSLATE_NOOP"):
                    lines.append(inner.lineno)
        is_tr = isinstance(node, ast.Call) and _name(node) in ("tr", "translate", "QT_TRANSLATE_NOOP")
        if is_tr and any(isinstance(a, ast.JoinedStr) for a in node.args):
            lines.append(node.lineno)
    return lines


def _name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")


def test_no_text_hides_from_lupdate():
    """lupdate reads literal strings only: a tr() inside an f-string, or of one, would never be translated."""
    hidden = []
    for path in TOOL.sources():
        for line in _calls_in_fstrings(ast.parse(path.read_text(encoding="utf-8"))):
            hidden.append(f"{path.relative_to(ROOT)}:{line}")
    assert not hidden, hidden


# --- the core's words, by key --------------------------------------------------------------------------
def test_the_keyed_tables_cover_the_core():
    assert set(core_text.STOP_REASONS) == {
        STOP_EOG,
        STOP_MAX_TOKENS,
        STOP_STRING,
        STOP_CANCELLED,
        STOP_CONTEXT_FULL,
        STOP_ENGINE_CRASHED,
        STOP_SERVER_FAILED,
    }
    assert set(core_text.VERDICTS) == {"fits", "tight", "won't fit", "unknown"}
    assert set(core_text.SERVER_LIMITS) == {NEEDS_IDS, NO_TEMPLATE}
    assert set(core_text.PRESET_NAMES) == {name for name, _s in BUILTIN_PRESETS}
    assert set(core_text.CURATED_REASONS) == {c.reason for c in CURATED}


def test_without_a_translator_the_keyed_words_are_the_core_english(qapp):
    assert core_text.stop_reason("max_tokens") == "max tokens" and core_text.stop_reason("eog") == "eog"
    assert core_text.verdict("won't fit") == "won't fit"
    assert core_text.preset_name("Creative") == "Creative" and core_text.preset_name("Mine") == "Mine"
    reason = CURATED[0].reason
    assert core_text.curated_reason(reason) == reason
    assert core_text.offline_sentence() == hub_module._OFFLINE
    hub = Hub()
    for repo in ("someone/gated-model", "bare"):
        assert core_text.gated_sentence(hub, repo) == hub.gated_sentence(repo)


def _gpu(name="CUDA0", total=8 << 30):
    return Device(name, "NVIDIA Test", "gpu", "CUDA", 6 << 30, total)


CPU = Device("CPU", "AMD EPYC", "cpu", "CPU", 0, 0)
BACKENDS = [
    BackendInfo((CPU,), False, "", ("CPU",)),
    BackendInfo((CPU,), False, "", ("CPU", "Vulkan")),
    BackendInfo((), False, "", device_api=False, note="device list unavailable: no symbol"),
    BackendInfo((), True, "CUDA : ARCHS = 890 |", device_api=False, note="device list unavailable: x"),
    BackendInfo((CPU, _gpu()), True, "", ("CUDA", "CPU")),
    BackendInfo((CPU, _gpu(total=0), _gpu("CUDA1")), True, "", ("CUDA", "CPU")),
]


@pytest.mark.parametrize("backends", BACKENDS)
def test_without_a_translator_the_gpu_summaries_are_the_core_english(qapp, backends):
    assert core_text.backends_summary(backends) == backends.summary()
    for offload in (None, OffloadReport(0, 31), OffloadReport(31, 31, ("CUDA0",)), OffloadReport(12, 31)):
        for asked in (0, "auto"):
            report = LoadReport(asked, offload, backends)
            assert core_text.load_summary(report) == report.summary()


# --- installing a language --------------------------------------------------------------------------
def test_installing_chinese_translates_ours_and_qts_own_texts(qapp):
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QDialogButtonBox

    from desktop_app.ui.i18n import active_language, install_translators, remove_translators

    assert active_language() == "en" and install_translators(qapp, "en") == []
    translators = install_translators(qapp, "zh_TW")
    try:
        assert len(translators) == 2  # TokenDice's texts, and Qt's own (qtbase_zh_TW.qm from PySide6)
        assert active_language() == "zh_TW"
        assert QCoreApplication.translate("Docks", "Next token") == "下一個 token"
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        assert sorted(b.text() for b in buttons.buttons()) == sorted(["確定", "取消"])
    finally:
        remove_translators(qapp, translators)
    assert active_language() == "en"
    with pytest.raises(ValueError, match="unknown language"):
        install_translators(qapp, "fr")


def test_the_chinese_font_prefers_traditional_glyphs_and_keeps_the_latin_font(qapp):
    from PySide6.QtGui import QFontDatabase, QFontInfo

    from desktop_app.ui.i18n import TRADITIONAL_FONTS, language_font

    base = qapp.font()
    assert language_font(base, "en") == base
    installed = [f for f in TRADITIONAL_FONTS if f in QFontDatabase.families()]
    if not installed:
        pytest.skip("no Traditional Chinese font installed (fonts-noto-cjk)")
    font = language_font(base, "zh_TW")
    assert font.families()[:2] == [QFontInfo(base).family(), installed[0]]
    assert QFontInfo(font).family() == QFontInfo(base).family()  # Latin text keeps its font and line height


def test_the_system_setting_reads_the_systems_languages(monkeypatch):
    from desktop_app.ui import i18n

    assert i18n.system_language_tags()  # Qt always names at least one
    monkeypatch.setattr(i18n, "system_language_tags", lambda: ["zh-Hant-TW", "zh-TW"])
    assert i18n.resolved_language("system") == "zh_TW" and i18n.resolved_language("en") == "en"
    monkeypatch.setattr(i18n, "system_language_tags", lambda: ["de-DE"])
    assert i18n.resolved_language("system") == "en" and i18n.resolved_language("zh_TW") == "zh_TW"
