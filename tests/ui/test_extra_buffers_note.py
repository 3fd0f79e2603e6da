"""The Models page says how the loaded model was loaded (llama.cpp's extra buffer types on or off, and
why), in English or Chinese, from the load report of a real load."""

from __future__ import annotations

import pytest

from desktop_app.core.engine import cpu_quirks
from desktop_app.core.engine.cpu_quirks import SENTENCES, ExtraBuffers, decide_extra_buffers
from desktop_app.ui import core_text
from desktop_app.ui.widgets.models import ModelsPanel
from tests.core.engine.test_cpu_quirks import EPYC, SAPPHIRE_RAPIDS

CJK = "\u3400-\u9fff"


def _all_decisions() -> list[ExtraBuffers]:
    return [
        decide_extra_buffers(info, setting, {} if value is None else {cpu_quirks.EXTRA_BUFFERS_ENV: value})
        for info in (EPYC, SAPPHIRE_RAPIDS)
        for setting in ("auto", "on", "off")
        for value in (None, "on", "off", "auto", "bad")
    ]


def test_the_keyed_sentences_are_the_core_english_without_a_translator(qapp):
    assert set(core_text.EXTRA_BUFFERS) == set(SENTENCES)
    assert core_text.EXTRA_BUFFERS == SENTENCES
    for decision in _all_decisions():
        assert core_text.extra_buffers_reason(decision) == decision.reason()


def test_the_dock_shows_the_choice_of_a_real_load_and_hides_without_one(qtbot, smollm2_engine):
    panel = ModelsPanel(None)
    qtbot.addWidget(panel)
    assert panel.load_note.isHidden()
    report = smollm2_engine.load_report
    assert report.extra_buffers is not None
    panel.set_load_report(report)
    assert not panel.load_note.isHidden()
    assert panel.load_note.text() == f"Loaded with {report.extra_buffers.reason()}."
    assert "TOKENDICE_EXTRA_BUFFERS" in panel.load_note.toolTip()
    panel.set_load_report(None)
    assert panel.load_note.isHidden()


# One decision of each kind: every sentence, with and without a bad variable before it.
KINDS = list({(d.key, bool(d.bad_env)): d for d in _all_decisions()}.values())


@pytest.mark.parametrize("decision", KINDS, ids=[f"{d.key}{'-bad_env' if d.bad_env else ''}" for d in KINDS])
def test_in_chinese_every_reason_is_translated(qapp, qtbot, decision):
    import re

    from desktop_app.core.engine.gpu import BackendInfo, LoadReport
    from desktop_app.ui.i18n import install_translators, remove_translators

    translators = install_translators(qapp, "zh_TW")
    try:
        text = core_text.extra_buffers_reason(decision)
        assert re.search(f"[{CJK}]", text) and text != decision.reason()
        assert ("TOKENDICE_EXTRA_BUFFERS='bad'" in text) == bool(decision.bad_env)
        panel = ModelsPanel(None)
        qtbot.addWidget(panel)
        panel.set_load_report(LoadReport(0, None, BackendInfo((), False, ""), decision))
        assert panel.load_note.text() == f"載入方式：{text}。"
    finally:
        remove_translators(qapp, translators)
