"""The workshop side of the window: the die, the sampler's stages, the end token's lane, several answers
side by side (``compare_runs``), the tokenizer and the model's facts, exports (``chart_exports``),
presentation mode and the built-in lessons. It adds its docks and menus to the main window and routes
their requests to the engine thread; the window keeps the chat, the chart and the models."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from desktop_app.core.conversation.shown import ShownToken
from desktop_app.core.engine.distribution import Distribution
from desktop_app.core.lessons import LESSONS, Lesson, step_to_show
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.ui.chart_exports import ChartExports
from desktop_app.ui.compare_runs import CompareRuns
from desktop_app.ui.end_lane_feed import EndLaneFeed
from desktop_app.ui.lesson_menu import LessonMenu
from desktop_app.ui.lesson_model import DOWNLOAD, LOAD, LessonModel
from desktop_app.ui.presentation import Presentation
from desktop_app.ui.widgets import export
from desktop_app.ui.widgets.compare import CompareView
from desktop_app.ui.widgets.die import DieView
from desktop_app.ui.widgets.end_lane import EndLane
from desktop_app.ui.widgets.tokens_view import TokensView
from desktop_app.ui.widgets.waterfall import WaterfallView
from desktop_app.ui.workers import LoadedModel

if TYPE_CHECKING:
    from desktop_app.ui.window_host import WindowHost

TEMPLATE_SHARE = 0.4  # of the window's height, for the template pane when a lesson shows it
SHORT_TEMPLATE_SHARE = 0.3  # … on a short screen (1280 x 720), where the chat needs its lines too


class Workshop(QObject):
    def __init__(self, window: WindowHost) -> None:
        super().__init__(window)
        self.window = window
        self.language = window.language  # the lessons' language: the interface's
        self.compare = CompareView(window)
        self.tokens = TokensView(window)
        self.die = DieView(window)
        self.waterfall = WaterfallView(window)
        self.end_lane = EndLane(window)
        right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
        self.docks = {
            "die": window.add_dock(
                "die", str(QT_TRANSLATE_NOOP("Docks", "The die")), _scrolled(self.die), right
            ),
            "waterfall": window.add_dock(
                "waterfall", str(QT_TRANSLATE_NOOP("Docks", "Sampler stages")), self.waterfall, right
            ),
            "compare": window.add_dock(
                "compare", str(QT_TRANSLATE_NOOP("Docks", "Compare answers")), self.compare, right
            ),
            "end": window.add_dock(
                "end", str(QT_TRANSLATE_NOOP("Docks", "End token")), self.end_lane, bottom
            ),
            "tokens": window.add_dock(
                "tokens", str(QT_TRANSLATE_NOOP("Docks", "Tokens and model")), self.tokens, bottom
            ),
        }
        for name in ("die", "waterfall", "compare"):
            window.tabifyDockWidget(window.docks["chart"], self.docks[name])
        for name in ("end", "tokens"):
            window.tabifyDockWidget(window.docks["models"], self.docks[name])
        window.docks["chart"].raise_()
        window.docks["template"].raise_()
        views = {
            "chart": window.chart,
            "die": self.die,
            "waterfall": self.waterfall,
            "end": self.end_lane,
            "tokens": self.tokens,
        }
        for name, view in views.items():
            window.docks[name].visibilityChanged.connect(view.shown_again)
        self.lesson: Lesson | None = None
        self._lesson_on: str | None = None  # the model the lesson was opened on
        self._own: _Own | None = None  # the user's settings while a lesson holds the window
        self.lesson_label = QLabel(window)
        self.lesson_label.setWordWrap(True)
        self.lesson_label.setStyleSheet("background:#eef6ee; padding:6px; border-radius:4px")
        self.lesson_label.hide()
        self.lesson_label.setToolTip(self.tr("Your own settings come back when you leave the lesson."))
        self.lesson_label.linkActivated.connect(self._on_lesson_link)
        cast(QVBoxLayout, window.chat.layout()).insertWidget(0, self.lesson_label)
        self.exports = ChartExports(window, self.waterfall)
        self.runs = CompareRuns(window, self.compare, self.language)
        self.presentation = Presentation(window, [window.chart, self.die, self.waterfall, self.end_lane])
        self.lesson_model = LessonModel(window)
        self.lesson_model.changed.connect(self._show_lesson_text)

        window.engine.worker.tokenized.connect(self.tokens.show_tokens)
        window.distribution_shown.connect(self._on_distribution)
        self.lane_feed = EndLaneFeed(window, self.end_lane)  # the replies' steps, as the lane reads them
        window.controller.finished.connect(self._on_lesson_reply)
        window.controller.chat_opened.connect(lambda _id: self._clear_views())
        window.chat.lesson_requested.connect(lambda: self.open_lesson(LESSONS[0]))
        self.die.token_clicked.connect(window.pick_token)
        self.end_lane.controls.mirror(window.sampling)
        self.compare.compare_requested.connect(self.runs.run)
        self.compare.stop_requested.connect(self.runs.stop)
        self.tokens.tokenize_requested.connect(window.engine.request_tokenize)
        window.model_loaded.connect(self._on_loaded)

    def add_menu(self) -> None:
        self.exports.add_actions(self.window.file_menu)
        view = self.window.view_menu
        view.addSeparator()
        self.presentation_action = QAction(self.tr("&Presentation mode"), self.window, checkable=True)
        self.presentation_action.setShortcut(QKeySequence("F5"))
        self.presentation_action.setToolTip(self.tr("Large fonts and high contrast for a projector"))
        self.presentation_action.toggled.connect(self.presentation.set_on)
        view.addAction(self.presentation_action)
        self._add_die_animation_action(view)
        self.lesson_menu = LessonMenu(self.window, self)  # the built-in lessons, the packs, the teacher's own

    @property
    def lesson_actions(self) -> list[QAction]:
        """The built-in lessons' menu items, in order."""
        return self.lesson_menu.lesson_actions

    def _add_die_animation_action(self, view) -> None:
        """View → Animate the die's roll: on by default, saved at once with the window's preferences
        (presentation mode leaves it as it is)."""
        on = self.window.preferences().value("animate_die", "true") in (True, "true")
        self.die.set_animate(on)
        self.animate_die_action = QAction(self.tr("Animate the die's roll"), self.window, checkable=True)
        self.animate_die_action.setChecked(on)
        self.animate_die_action.setToolTip(
            self.tr("A step shown after a pause: the die's marker rolls across the strip and settles on u")
        )
        self.animate_die_action.toggled.connect(self._set_die_animation)
        view.addAction(self.animate_die_action)

    def _set_die_animation(self, on: bool) -> None:
        self.die.set_animate(on)
        qs = self.window.preferences()
        qs.setValue("animate_die", on)
        qs.sync()

    # --- the model ------------------------------------------------------------------------------
    def _on_loaded(self, model: LoadedModel) -> None:
        self.tokens.set_vocab(model.n_vocab)
        self.tokens.show_facts(self.window.current)
        if self.tokens.input.text():
            self.window.engine.request_tokenize.emit(self.tokens.input.text())
        # A lesson made for a model (a thinking one, or the one it recommends) starts again on another.
        lesson = self.lesson
        made_for = lesson is not None and lesson.recommended(self.language) is not None
        if lesson is not None and made_for and model.model_id != self._lesson_on:
            self.open_lesson(lesson)

    # --- the views of one step ----------------------------------------------------------------------
    def _clear_views(self) -> None:
        self.die.clear()
        self.waterfall.clear()
        self.end_lane.clear()

    def _on_distribution(self, d: Distribution, position: int | None) -> None:
        w = self.window
        if w.loaded is None:
            return
        self.die.set_step(d, w.label_of, w.loaded.eog_ids)
        self.waterfall.set_step(d, w.label_of, w.loaded.eog_ids, position=position)

    # --- exports and several answers ------------------------------------------------------------
    def export(self, kind: str, path: str | Path) -> None:
        """Write ``kind`` (chart.png / .svg, waterfall.png / .svg, distribution.csv) to ``path``."""
        self.exports.export(kind, path)

    def slide(self, what: str = "chart") -> export.Slide:
        """The chart's (or the sampler stages') plot alone with its caption; ``OSError`` with no step yet."""
        return self.exports.slide(what)

    def export_start(self, kind: str) -> Path:
        """Where the save dialog for ``kind`` opens."""
        return self.exports.export_start(kind)

    def ask_export(self, kind: str) -> None:
        self.exports.ask_export(kind)

    def copy_chart(self) -> None:
        """The chart's slide on the clipboard."""
        self.exports.copy_chart()

    def run_compare(self, k: int) -> None:
        """``k`` answers to the question side by side."""
        self.runs.run(k)

    # --- lessons ----------------------------------------------------------------------------------
    def open_lesson(self, lesson: Lesson) -> None:
        """Set up a lesson: a new chat with its prompt, settings and view, and its explanation shown."""
        window, controller, language = self.window, self.window.controller, self.language
        if controller.busy:
            controller.stop()
            window.show_status(self.tr("The reply was stopped to open the lesson."), 6000)
            return
        if self.runs.running:
            self.runs.stop()
            window.show_status(self.tr("The answers were stopped to open the lesson."), 6000)
            return
        if self.lesson is None:  # the user's own settings, given back when the lesson is left
            self._own = _Own(window.sampling.settings(), window.sampling.max_tokens(), controller.plain)
        self.lesson = lesson
        self._lesson_on = window.loaded.model_id if window.loaded is not None else None
        controller.new_chat()
        controller.set_plain(lesson.mode == "plain")
        window.chat.step_bar.set_plain(lesson.mode == "plain")
        window.chat.set_system_prompt(lesson.system_prompt(language))
        # Every setting is the lesson's own over the defaults: nothing clicked before (a "Wait" ×2, a
        # top-p set by hand) leaks into it. A lesson for a thinking model has its own on one.
        thinks = self.lesson_model.thinks()
        settings = SamplerSettings(**lesson.sampler_settings(thinks))
        window.sampling.set_settings(settings)
        controller.set_settings(settings)
        window.sampling.set_max_tokens(lesson.reply_length(thinks))
        controller.max_tokens = lesson.reply_length(thinks)
        window.stepping = False
        if lesson.history:
            controller.start_with_history(lesson.text("title", language), lesson.turns(language))
        self._show_lesson_text()
        self.lesson_label.show()
        self._show_view(lesson.view)
        prompt = lesson.text("prompt", language)
        window.chat.input.setPlainText(prompt)
        if lesson.view == "tokens":
            self.tokens.set_text(prompt)
        if lesson.send and window.loaded is not None:
            window.chat.input.clear()
            window.stepping = lesson.step_mode
            controller.send(prompt)
        if lesson.side_by_side and window.loaded is not None:
            self.runs.run_side_by_side(lesson)
        window.chat.input.setFocus()

    def _show_lesson_text(self) -> None:
        """The lesson's title and explanation, what it says about the loaded model, and the way out."""
        lesson, language = self.lesson, self.language
        if lesson is None:
            return
        title = html.escape(lesson.text("title", language), quote=False)
        explanation = html.escape(lesson.text("explanation", language), quote=False)
        note = self.lesson_model.note(lesson, language)
        leave = self.tr("Leave the lesson")
        self.lesson_label.setText(
            f"<b>{title}</b><br>{explanation}"
            + (f"<br><i>{note}</i>" if note else "")
            + f'<br><a href="leave">{leave}</a>'
        )

    def _on_lesson_link(self, link: str) -> None:
        pick = self.lesson.recommended(self.language) if self.lesson is not None else None
        if link == DOWNLOAD and pick is not None:
            self.lesson_model.download(pick)
        elif link == LOAD and pick is not None:
            self.lesson_model.load(pick)
        else:
            self.close_lesson()

    def close_lesson(self) -> None:
        """Leave the lesson: its explanation goes and the user's own settings come back."""
        self.lesson = None
        self.lesson_label.hide()
        own, self._own = self._own, None
        if own is None:
            return
        window, controller = self.window, self.window.controller
        window.sampling.set_settings(own.settings)
        controller.set_settings(own.settings)
        window.sampling.set_max_tokens(own.max_tokens)
        controller.max_tokens = own.max_tokens
        controller.set_plain(own.plain)
        window.chat.step_bar.set_plain(own.plain)
        window.stepping = False

    def own_settings(self) -> tuple[SamplerSettings, int]:
        """The user's sampler settings and reply length: theirs, not a lesson's (what is saved)."""
        if self._own is not None:
            return self._own.settings, self._own.max_tokens
        return self.window.sampling.settings(), self.window.sampling.max_tokens()

    def _on_lesson_reply(self, _event: object) -> None:
        """A reply in a lesson is done: the views show the step the lesson names (the chart already shows
        the last one). Not in step mode, where each step shows its own new token."""
        lesson, window, controller = self.lesson, self.window, self.window.controller
        if lesson is None or window.stepping or window.loaded is None or not controller.messages:
            return
        mi = len(controller.messages) - 1
        reply = controller.messages[mi]
        if reply.role != "assistant":
            return
        k = step_to_show(lesson.show_step, [_entropy(t) for t in reply.tokens])
        if k is not None:
            controller.select_token(mi, k)

    def _show_view(self, view: str) -> None:
        window = self.window
        dock = {
            "chart": "chart",
            "die": "die",
            "waterfall": "waterfall",
            "end": "chart",
            "template": "template",
            "tokens": "tokens",
            "compare": "compare",
            "facts": "tokens",
        }.get(view, "chart")
        target = window.docks.get(dock) or window.docks["chart"]
        target.show()
        target.raise_()
        if dock == "template" and not self.presentation.on:  # the prompt's lines, not five of them
            share = TEMPLATE_SHARE if window.height() >= 850 else SHORT_TEMPLATE_SHARE
            window.resizeDocks([target], [round(window.height() * share)], Qt.Orientation.Vertical)
        if view == "end":  # the lane under the chat (or beside it, presenting), the chart beside it
            window.docks["end"].show()
            window.docks["end"].raise_()


@dataclass(frozen=True)
class _Own:
    """What a lesson changes of the user's own choices."""

    settings: SamplerSettings
    max_tokens: int
    plain: bool


def _entropy(t: ShownToken) -> float | None:
    """A rolled token's entropy (the model's distribution at that step); None for any other token."""
    d = t.step.distribution if t.step is not None else None
    if d is None or t.inserted or t.forced or t.end or not d.is_materialized:
        return None
    return d.entropy_bits


def _scrolled(widget: QWidget) -> QScrollArea:
    """A dock's content that may be taller than the dock: it scrolls instead of making the dock bigger."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(widget)
    return scroll
