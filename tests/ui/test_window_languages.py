"""The whole window in 繁體中文 and in English, with the real bundled model: after a reply, a step, several
answers, every dock raised, the Hugging Face tab (offline, with the curated list) and a lesson, every text
a person can read is in the window's language.

The walk reads every widget of the window: labels, button texts, tooltips, placeholder texts, dock
titles, tab texts, menu and action texts, table headers, combo-box items, spin-box texts, group-box
titles, the status bar, and the chat pane's own words around the messages (who speaks, "edit", why a
reply stopped). What the model, the library or the user wrote (message bodies, model and file names,
token labels) is not translated and is allowed, as listed in ``ALLOWED``.
"""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QTextDocument
from PySide6.QtGui import Qt as GuiQt  # Qt.mightBeRichText lives in QtGui
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QTabBar,
    QTableWidget,
    QTabWidget,
    QTextEdit,
    QTreeWidget,
    QWidget,
)

from desktop_app import APP_NAME, __version__
from desktop_app.core.lessons import BY_ID
from desktop_app.core.services import Services
from desktop_app.ui.i18n import LANGUAGE_NAMES, install_translators, remove_translators
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.widgets.chat_html import HEADS, STOPS
from desktop_app.ui.widgets.text_line import TextLine

LOAD_MS = 60_000
REPLY_MS = 120_000
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
LETTERS = re.compile(r"[A-Za-z]")

# Words a 繁體中文 window shows as they are, and why:
ALLOWED = {
    APP_NAME,  # the app's name, and its version in the status bar
    LANGUAGE_NAMES["en"],  # the language menu names each language in that language ("English")
    "GGUF",  # the file format's name
    "top-k",  # sampler names a class uses as they are (the lecture says top-k, top-p, min-p)
    "top-p",
    "min-p",
    "Top-k",
    "Top-p",
    "Min-p",
}


@pytest.fixture
def translated(qapp, request):
    """The translators for the test's language (none for English), removed afterwards."""
    translators = install_translators(qapp, request.param)
    yield request.param
    remove_translators(qapp, translators)


def _on_screen(dock: QDockWidget) -> bool:
    """The dock's view can be seen (not behind another dock's tab). A view in a scroll area is asked
    itself: the area's viewport covers the area, which then has no region of its own left to show."""
    shown = dock.widget()
    if isinstance(shown, QScrollArea):
        shown = shown.widget()
    return not shown.visibleRegion().isEmpty()


def _exercise(window: MainWindow, qtbot) -> None:
    """What the walk should see: a reply, one step, several answers, each dock, the hub tab, a lesson."""
    settings = window.sampling.settings().replace(seed=7)
    window.sampling.set_settings(settings)
    window.controller.set_settings(settings)
    window.sampling.set_max_tokens(6)
    window.controller.max_tokens = 6
    with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS):
        window.chat.input.setPlainText("What is the tallest mountain in Taiwan?")
        window.chat.send_button.click()
    window.sampling.set_max_tokens(8)  # room for a step: step mode stops at the reply's length
    window.controller.max_tokens = 8
    with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS):  # step once: one more token
        window.step_next()
    window.chat.token_clicked.emit(1, 1)  # the chart, the die and the stages show a step
    workshop = window.workshop
    window.chat.input.setPlainText("Give me a name for a cat.")
    window.controller.max_tokens = 4
    with qtbot.waitSignal(window.engine.worker.compared, timeout=REPLY_MS):
        workshop.compare.count.setValue(2)
        workshop.compare.run_button.click()
    window.chat.input.clear()
    workshop.tokens.set_text("臺灣最高的山是玉山。")
    qtbot.waitUntil(lambda: bool(workshop.tokens.ids), timeout=10_000)
    for name in ("chart", "die", "waterfall", "compare", "end", "tokens", "template", "models"):
        dock = window.docks[name]
        dock.show()
        dock.raise_()
        qtbot.waitUntil(lambda dock=dock: _on_screen(dock), timeout=5000)
        QApplication.processEvents()
    workshop.die.roll(100)
    workshop.die.flush()
    window.inspector.set_view("tokens")
    window.models.show_hub()
    qtbot.waitUntil(lambda: window.models.browser.memory is not None, timeout=10_000)
    with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS):
        workshop.open_lesson(BY_ID["distribution"])
    window.docks["die"].raise_()
    for view in (window.chart, workshop.die, workshop.waterfall, workshop.end_lane):
        view.flush()
    QApplication.processEvents()


def _plain(text: str, rich: bool | None = None) -> str:
    """``text`` as a person reads it: rich text (``rich``, or by Qt's guess) without its tags."""
    if rich if rich is not None else GuiQt.mightBeRichText(text):
        doc = QTextDocument()
        doc.setHtml(text)
        text = doc.toPlainText()
    return " ".join(text.replace("&&", "&").split())


def _menu_actions(menu: QMenu, where: str):
    for action in menu.actions():
        if action.isSeparator():
            continue
        yield f"{where} → {action.text()}", action
        if action.menu() is not None:
            yield from _menu_actions(action.menu(), f"{where} → {action.text()}")


def texts_of(window: MainWindow) -> list[tuple[str, str]]:
    """(where, text) for every readable text of the window."""
    found: list[tuple[str, str]] = []

    def add(where: str, text: str | None, rich: bool | None = None) -> None:
        text = _plain(text or "", rich)
        if text:
            found.append((where, text))

    for w in [window, *window.findChildren(QWidget)]:
        kind = f"{type(w).__name__}{'#' + w.objectName() if w.objectName() else ''}"
        add(f"{kind} tooltip", w.toolTip())
        if isinstance(w, QLabel):
            rich = {Qt.PlainText: False, Qt.RichText: True}.get(w.textFormat())
            add(kind, w.text(), rich)
        if isinstance(w, TextLine):
            add(kind, w.text(), False)
        if isinstance(w, QAbstractButton):
            add(kind, w.text())
        if isinstance(w, (QLineEdit, QPlainTextEdit, QTextEdit)):
            add(f"{kind} placeholder", w.placeholderText())
        if isinstance(w, QComboBox):
            add(f"{kind} placeholder", w.placeholderText())
            for i in range(w.count()):
                add(f"{kind} item {i}", w.itemText(i))
        if isinstance(w, QAbstractSpinBox):
            add(f"{kind} special value", w.specialValueText())
        if isinstance(w, (QSpinBox, QDoubleSpinBox)):
            add(f"{kind} suffix", w.suffix())
            add(f"{kind} prefix", w.prefix())
        if isinstance(w, QDockWidget):
            add(f"{kind} title", w.windowTitle())
        if isinstance(w, QTabWidget):
            for i in range(w.count()):
                add(f"{kind} tab {i}", w.tabText(i))
                add(f"{kind} tab {i} tooltip", w.tabToolTip(i))
        if isinstance(w, QTabBar):
            for i in range(w.count()):
                add(f"{kind} tab {i}", w.tabText(i))
        if isinstance(w, QTreeWidget):
            header = w.headerItem()
            for i in range(header.columnCount()):
                add(f"{kind} header {i}", header.text(i))
                add(f"{kind} header {i} tooltip", header.toolTip(i))
        if isinstance(w, QTableWidget):
            for i in range(w.columnCount()):
                item = w.horizontalHeaderItem(i)
                add(f"{kind} header {i}", item.text() if item else "")
        if isinstance(w, QGroupBox):
            add(f"{kind} title", w.title())
    for top in window.menuBar().actions():
        add("menu", top.text())
        if top.menu() is not None:
            for where, action in _menu_actions(top.menu(), top.text()):
                add(where, action.text())
                if action.toolTip() != action.text().replace("&", ""):
                    add(f"{where} tooltip", action.toolTip())
    for action in window.findChildren(QAction):
        add(f"action {action.objectName()}", action.text())
    add("status bar", window.statusBar().currentMessage())
    pane = window.chat
    for i, m in enumerate(pane.messages):  # the pane's own words: the heads, "edit", why a reply stopped
        lines = _plain_lines(pane.message_html(i))
        add(f"chat message {i} head", lines[0])
        if m.stop_reason in STOPS or m.failed:
            add(f"chat message {i} note", lines[-1])
    return found


def _plain_lines(html: str) -> list[str]:
    doc = QTextDocument()
    doc.setHtml(html)
    return [line for line in doc.toPlainText().splitlines() if line.strip()]


def _content(window: MainWindow) -> set[str]:
    """What the model, the library and the engine wrote: shown as they are in every language."""
    shown = {window.loaded.display_name, window.windowTitle(), f"{APP_NAME} {__version__}"}
    m = window.current.metadata
    shown |= {m.architecture, m.quantization}
    for view in (window.chart, window.workshop.die, window.workshop.waterfall):  # the steps' token labels
        d = view.step()
        if d is not None:
            shown |= {window.label_of(int(t)) for t in d.candidates[:60]}
    return {s for s in shown if s}


def _without(text: str, words: set[str]) -> str:
    for word in sorted(words, key=len, reverse=True):
        text = text.replace(word, " ")
    return text


def _untranslated(text: str, content: set[str]) -> bool:
    if CJK.search(text):
        return False
    return bool(LETTERS.search(_without(text, ALLOWED | content)))


def _exercised_window(services: Services, language: str, qtbot) -> MainWindow:
    """A window in ``language`` with the bundled model loaded and every part of it used once."""
    window = MainWindow(services, current=services.library.resolve("default"), language=language)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.show()
    assert window.workshop.language == language
    _exercise(window, qtbot)
    return window


@pytest.mark.slow
@pytest.mark.parametrize("translated", ["zh_TW"], indirect=True)
def test_every_text_of_the_chinese_window_is_chinese(translated, qtbot):
    services = Services.open()
    try:
        window = _exercised_window(services, translated, qtbot)
        lesson = BY_ID["distribution"]
        assert lesson.text("title", "zh_TW") in window.workshop.lesson_label.text()
        assert window.workshop.lesson_actions[0].text().endswith(BY_ID["continuation"].text("title", "zh_TW"))
        found = texts_of(window)
        assert len(found) > 300  # the walk really read the window
        content = _content(window)
        bad = sorted({f"{where}: {text!r}" for where, text in found if _untranslated(text, content)})
        assert not bad, f"{len(bad)} untranslated texts:\n" + "\n".join(bad)
        heads = [text for where, text in found if where.endswith("head")]
        assert heads and all(not re.search(r"\b(You|Model|edit|System)\b", h) for h in heads), heads
        assert any(translate_head in h for h in heads for translate_head in ("你", "模型"))
        notes = [text for where, text in found if where.endswith("note")]
        assert "一步一步來：按「下一個 token」（→）再加一個" in notes  # the lesson rolls one token
        window.close()
    finally:
        services.close()


@pytest.mark.slow
@pytest.mark.parametrize("translated", ["en"], indirect=True)
def test_the_english_window_has_no_chinese_outside_content(translated, qtbot):
    services = Services.open()
    try:
        window = _exercised_window(services, translated, qtbot)
        found = texts_of(window)
        assert len(found) > 300
        # Chinese on purpose: the language menu names 繁體中文 in Chinese; the tokenizer's example text.
        chinese_ok = {LANGUAGE_NAMES["zh_TW"], window.workshop.tokens.input.placeholderText()}
        content = _content(window)  # a token the model wrote may be Chinese, in any language
        bad = sorted(
            {
                f"{where}: {text!r}"
                for where, text in found
                if text not in chinese_ok and CJK.search(_without(text, content))
            }
        )
        assert not bad, f"{len(bad)} texts with Chinese in the English window:\n" + "\n".join(bad)
        heads = [text for where, text in found if where.endswith("head")]
        assert any(h.startswith(HEADS["user"]) for h in heads) and any(
            h.startswith(HEADS["assistant"]) for h in heads
        )
        window.close()
    finally:
        services.close()


def test_the_language_menu_saves_the_choice_for_the_next_start(qtbot):
    services = Services.open()
    try:
        window = MainWindow(services, current=services.library.resolve("default"))
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
            window.show()
        actions = window.language_actions
        assert [a.text() for a in actions.values()] == ["English", "繁體中文", "Follow the system"]
        assert actions["system"].isChecked() and window.language == "en"  # a new home follows the system
        window.chart.set_top_n(33)  # saved in the settings file too: choosing a language keeps it
        actions["zh_TW"].trigger()
        saved = services.settings_store.load().settings
        assert saved.language == "zh_TW" and saved.top_n == 33
        message = window.statusBar().currentMessage()
        assert "next time TokenDice starts" in message and "下次啟動" in message  # said in both languages
        assert actions["zh_TW"].isChecked() and not actions["system"].isChecked()
        assert window.language == "en" and window.workshop.language == "en"  # until the next start
        actions["en"].trigger()
        assert services.settings_store.load().settings.language == "en"
        window.close()
    finally:
        services.close()
