"""The workshop side of the window: the die, the sampler's stages, the end token's lane, several answers
side by side, the tokenizer and the model's facts, exports, presentation mode and the built-in lessons.
It adds its docks and menus to the main window and routes their requests to the engine thread; the
window keeps the chat, the chart and the models."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, QStandardPaths, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QFrame, QLabel, QScrollArea, QWidget

from desktop_app.core.conversation.shown import ShownToken
from desktop_app.core.engine.compare import Comparison, answer_seeds, divergence
from desktop_app.core.engine.distribution import Distribution
from desktop_app.core.engine.sampler import SamplerSettings
from desktop_app.core.lessons import LESSONS, Lesson, step_to_show
from desktop_app.ui.presentation import Presentation
from desktop_app.ui.widgets import export
from desktop_app.ui.widgets.compare import CompareView
from desktop_app.ui.widgets.die import DieView
from desktop_app.ui.widgets.end_lane import END, PLAIN, WAIT, EndLane, point_of_step
from desktop_app.ui.widgets.prob_chart import RAW
from desktop_app.ui.widgets.slide import caption_font, caption_lines, prompt_before, settle
from desktop_app.ui.widgets.tokens_view import TokensView
from desktop_app.ui.widgets.waterfall import WaterfallView
from desktop_app.ui.workers import CompareRequest, CompareStep, LoadedModel

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

TEMPLATE_SHARE = 0.4  # of the window's height, for the template pane when a lesson shows it
SHORT_TEMPLATE_SHARE = 0.3  # … on a short screen (1280 x 720), where the chat needs its lines too
SLIDE_SCALE = 2.0  # exported and copied images: twice the on-screen size, sharp on a projector


class Workshop(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.language = window.language  # the lessons' language: the interface's
        self.compare = CompareView(window)
        self.tokens = TokensView(window)
        self.die = DieView(window)
        self.waterfall = WaterfallView(window)
        self.end_lane = EndLane(window)
        self.docks = {
            "die": window._dock(
                QT_TRANSLATE_NOOP("Docks", "The die"), _scrolled(self.die), Qt.RightDockWidgetArea
            ),
            "waterfall": window._dock(
                QT_TRANSLATE_NOOP("Docks", "Sampler stages"), self.waterfall, Qt.RightDockWidgetArea
            ),
            "compare": window._dock(
                QT_TRANSLATE_NOOP("Docks", "Compare answers"), self.compare, Qt.RightDockWidgetArea
            ),
            "end": window._dock(
                QT_TRANSLATE_NOOP("Docks", "End token"), self.end_lane, Qt.BottomDockWidgetArea
            ),
            "tokens": window._dock(
                QT_TRANSLATE_NOOP("Docks", "Tokens and model"), self.tokens, Qt.BottomDockWidgetArea
            ),
        }
        for name in ("die", "waterfall", "compare"):
            window.tabifyDockWidget(window.docks["chart"], self.docks[name])
        for name in ("end", "tokens"):
            window.tabifyDockWidget(window.docks["models"], self.docks[name])
        window.docks["chart"].raise_()
        window.docks["template"].raise_()
        window.docks.update(self.docks)
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
        self._own: _Own | None = None  # the user's settings while a lesson holds the window
        self._export_dirs: dict[bool, Path] = {}  # where the last image / table was saved
        self.lesson_label = QLabel(window)
        self.lesson_label.setWordWrap(True)
        self.lesson_label.setStyleSheet("background:#eef6ee; padding:6px; border-radius:4px")
        self.lesson_label.hide()
        self.lesson_label.setToolTip(self.tr("Your own settings come back when you leave the lesson."))
        self.lesson_label.linkActivated.connect(lambda _link: self.close_lesson())
        window.chat.layout().insertWidget(0, self.lesson_label)
        self._request: CompareRequest | None = None
        # A lesson's answers side by side: one request each, sent one after the other (the next ones
        # here), and the answers so far (None: the comparison running is not a lesson's).
        self._side_next: list[CompareRequest] = []
        self._side_done: list[Comparison] | None = None
        self.presentation = Presentation(window)

        w = window.engine.worker
        w.compare_step.connect(self._on_compare_step)
        w.compared.connect(self._on_compared)
        w.failed.connect(self._on_failed)
        w.tokenized.connect(self.tokens.show_tokens)
        window.distribution_shown.connect(self._on_distribution)
        window.controller.reply_started.connect(self._on_reply_started)
        window.controller.step_streamed.connect(self.end_lane.append_step)
        window.controller.step_selected.connect(self._on_token_selected)
        window.controller.finished.connect(self._on_lesson_reply)
        window.controller.chat_opened.connect(lambda _id: self._clear_views())
        window.chat.lesson_requested.connect(lambda: self.open_lesson(LESSONS[0]))
        self.die.token_clicked.connect(window._on_bar_clicked)
        self.end_lane.step_clicked.connect(self._on_lane_clicked)
        self.end_lane.controls.mirror(window.sampling)
        self.compare.compare_requested.connect(self.run_compare)
        self.compare.stop_requested.connect(self._stop_compare)
        self.tokens.tokenize_requested.connect(window.engine.request_tokenize)
        window.model_loaded.connect(self._on_loaded)

    def add_menu(self) -> None:
        file_menu = self.window.file_menu
        file_menu.addSeparator()
        for text, kind in (
            (self.tr("Export the chart as PNG…"), "chart.png"),
            (self.tr("Export the chart as SVG…"), "chart.svg"),
            (self.tr("Export the sampler stages as PNG…"), "waterfall.png"),
            (self.tr("Export the sampler stages as SVG…"), "waterfall.svg"),
            (self.tr("Export the distribution as CSV…"), "distribution.csv"),
        ):
            action = QAction(text, self.window)
            action.triggered.connect(lambda _c=False, kind=kind: self.ask_export(kind))
            file_menu.addAction(action)
        copy = QAction(self.tr("Copy the chart"), self.window)
        copy.setShortcut(QKeySequence("Ctrl+Shift+C"))
        copy.triggered.connect(self.copy_chart)
        file_menu.addAction(copy)
        view = self.window.view_menu
        view.addSeparator()
        self.presentation_action = QAction(self.tr("&Presentation mode"), self.window, checkable=True)
        self.presentation_action.setShortcut(QKeySequence("F5"))
        self.presentation_action.setToolTip(self.tr("Large fonts and high contrast for a projector"))
        self.presentation_action.toggled.connect(self.presentation.set_on)
        view.addAction(self.presentation_action)
        self._add_die_animation_action(view)
        menu = self.window.menuBar().addMenu(self.tr("&Lessons"))
        self.lesson_actions: list[QAction] = []
        for i, lesson in enumerate(LESSONS, start=1):
            action = QAction(f"{i}. {lesson.text('title', self.language)}", self.window)
            action.triggered.connect(lambda _checked=False, lesson=lesson: self.open_lesson(lesson))
            menu.addAction(action)
            self.lesson_actions.append(action)

    def _add_die_animation_action(self, view) -> None:
        """View → Animate the die's roll: on by default, saved at once with the window's preferences
        (presentation mode leaves it as it is)."""
        on = self.window._qsettings().value("animate_die", "true") in (True, "true")
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
        qs = self.window._qsettings()
        qs.setValue("animate_die", on)
        qs.sync()

    # --- the model ------------------------------------------------------------------------------
    def _on_loaded(self, model: LoadedModel) -> None:
        self.tokens.set_vocab(model.n_vocab)
        self.tokens.show_facts(self.window.current)
        if self.tokens.input.text():
            self.window.engine.request_tokenize.emit(self.tokens.input.text())

    # --- the views of one step ----------------------------------------------------------------------
    def _clear_views(self) -> None:
        self.die.clear()
        self.waterfall.clear()
        self.end_lane.clear()

    def _on_distribution(self, d: Distribution, position: object) -> None:
        w = self.window
        if w.loaded is None:
            return
        self.die.set_step(d, w._label_of, w.loaded.eog_ids)
        self.waterfall.set_step(d, w._label_of, w.loaded.eog_ids, position=position)

    def _on_reply_started(self, kept: list[ShownToken]) -> None:
        self.end_lane.set_points(self._points(kept))

    def _on_token_selected(self, shown: ShownToken) -> None:
        """A token of a finished reply was chosen: the lane shows that reply, the token marked."""
        if self.window.controller.busy:
            return
        where = self.window.controller.token_at(shown)
        if where is None:
            return
        tokens = self.window.controller.messages[where[0]].tokens
        self.end_lane.set_points(self._points(tokens))
        self.end_lane.set_current(self._point_index(tokens, where[1]))

    def _on_lane_clicked(self, index: int) -> None:
        controller = self.window.controller
        for mi in range(len(controller.messages) - 1, -1, -1):
            tokens = controller.messages[mi].tokens
            if controller.messages[mi].role == "assistant" and tokens:
                rolled = [k for k, t in enumerate(tokens) if self._point(t) is not None]
                if 0 <= index < len(rolled):
                    controller.select_token(mi, rolled[index])
                return

    def _point(self, t: ShownToken) -> tuple[float, str] | None:
        if t.step is not None:
            return point_of_step(t.step)
        w = self.window
        d = t.distribution(w.loaded.n_vocab, w.loaded.eog_ids) if w.loaded is not None else None
        if d is None:
            return None
        return d.eos_p_raw, END if t.end else WAIT if t.inserted else PLAIN

    def _points(self, tokens: list[ShownToken]) -> list[tuple[float, str]]:
        return [p for p in (self._point(t) for t in tokens) if p is not None]

    def _point_index(self, tokens: list[ShownToken], k: int) -> int | None:
        n = sum(1 for t in tokens[: k + 1] if self._point(t) is not None)
        return n - 1 if n else None

    # --- exports --------------------------------------------------------------------------------
    def export(self, kind: str, path: str | Path) -> None:
        """Write ``kind`` (chart.png / .svg, waterfall.png / .svg, distribution.csv) to ``path``."""
        w = self.window
        what, _, fmt = kind.partition(".")
        if what == "distribution":
            d = w.chart.step()
            if d is None or w.engine.vocab is None:
                raise OSError(self.tr("There is no step to export yet: generate a token first."))
            export.export_csv(d, path, w.engine.piece, w._shown_pending)
            return
        slide = self.slide(what)
        if fmt == "svg":
            export.export_svg(slide, path)
        else:
            export.export_png(slide, path, scale=SLIDE_SCALE)

    def slide(self, what: str = "chart") -> export.Slide:
        """The chart's (or the sampler stages') plot alone, as a slide shows it, with a caption: the
        prompt, the step, the model and the settings. ``OSError`` when there is no step yet."""
        w = self.window
        if w.chart.step() is None:
            raise OSError(self.tr("There is no step to export yet: generate a token first."))
        view = w.chart if what == "chart" else self.waterfall
        if not view.in_view():  # behind another dock's tab, or never opened: shown, to be laid out
            w.docks[what].show()
            w.docks[what].raise_()
        settle(view)  # the latest step drawn now, with no bars mid-glide
        at = w.controller.token_at(w._shown) if w._shown is not None else None
        prompt = prompt_before(w.controller.messages, at[0] if at is not None else None)
        model = w.loaded.display_name if w.loaded is not None else ""
        raw = view is w.chart and w.chart.mode() == RAW
        caption = caption_lines(prompt, w.chart.where(), model, w.sampling.settings(), raw=raw)
        return export.Slide(view.plot, caption, caption_font(view))

    def export_start(self, kind: str) -> Path:
        """Where the save dialog for ``kind`` opens: the folder last saved to (for a run of slides), else
        Pictures for an image and Documents for a table, not the app's working folder."""
        image = not kind.endswith(".csv")
        folder = self._export_dirs.get(image)
        if folder is None:
            where = QStandardPaths.PicturesLocation if image else QStandardPaths.DocumentsLocation
            located = QStandardPaths.writableLocation(where)
            folder = Path(located) if located and Path(located).is_dir() else Path.home()
        return folder / f"tokendice-{kind}"

    def ask_export(self, kind: str) -> None:
        suffix = kind.rsplit(".", 1)[1]
        path, _ = QFileDialog.getSaveFileName(
            self.window,
            self.tr("Export"),
            str(self.export_start(kind)),
            self.tr("{kind} (*.{suffix})").format(kind=suffix.upper(), suffix=suffix),
        )
        if not path:
            return
        try:
            self.export(kind, path)
        except OSError as exc:
            self.window.statusBar().showMessage(str(exc), 10000)
            return
        self._export_dirs[not kind.endswith(".csv")] = Path(path).parent
        self.window.statusBar().showMessage(self.tr("Saved %1").replace("%1", path), 8000)

    def copy_chart(self) -> None:
        """The chart as the PNG export draws it (the plot alone, with its caption) on the clipboard."""
        try:
            slide = self.slide("chart")
        except OSError as exc:
            self.window.statusBar().showMessage(str(exc), 10000)
            return
        export.copy_image(slide, scale=SLIDE_SCALE)
        self.window.statusBar().showMessage(self.tr("The chart is on the clipboard."), 6000)

    # --- several answers --------------------------------------------------------------------------
    def run_compare(self, k: int) -> None:
        window, controller = self.window, self.window.controller
        if window.loaded is None or controller.busy or self._request is not None:
            return
        messages = list(controller.conversation())
        typed = window.chat.input.toPlainText().strip()
        if typed:
            messages.append({"role": "user", "content": typed})
        if not messages or messages[-1]["role"] != "user":
            self.compare.failed(self.tr("Type a question first: the answers all reply to it."))
            return
        settings = controller.settings
        request = CompareRequest(tuple(messages), settings, k, controller.max_tokens, controller.plain)
        self._request = request
        self.compare.start(k, answer_seeds(settings, k))
        self.docks["compare"].show()
        self.docks["compare"].raise_()
        window.engine.request_compare.emit(request)

    def _stop_compare(self) -> None:
        """Stop the answers being generated (a lesson's next ones are not asked for)."""
        self._side_next = []
        self.window.engine.cancel()

    def _mine(self, request_id: int) -> bool:
        return self._request is not None and self._request.request_id == request_id

    def _on_compare_step(self, event: CompareStep) -> None:
        if self._mine(event.request_id):
            side = self._side_done
            self.compare.add_step(event.answer if side is None else len(side), event.step)

    def _on_compared(self, request_id: int, result: Comparison) -> None:
        if not self._mine(request_id):
            return
        self._request = None
        if self._side_done is None:
            self.compare.done(result)
            return
        self._side_done.append(result)
        if self._side_next:
            self._send_side()
        else:
            self._side_finished()

    def _on_failed(self, request_id: int, message: str) -> None:
        if self._mine(request_id):
            self._request = None
            self._side_next, self._side_done = [], None
            self.compare.failed(message)

    # --- lessons ----------------------------------------------------------------------------------
    def open_lesson(self, lesson: Lesson) -> None:
        """Set up a lesson: a new chat with its prompt, settings and view, and its explanation shown."""
        window, controller, language = self.window, self.window.controller, self.language
        if controller.busy:
            controller.stop()
            window.statusBar().showMessage(self.tr("The reply was stopped to open the lesson."), 6000)
            return
        if self._request is not None:
            self._stop_compare()
            window.statusBar().showMessage(self.tr("The answers were stopped to open the lesson."), 6000)
            return
        if self.lesson is None:  # the user's own settings, given back when the lesson is left
            self._own = _Own(window.sampling.settings(), window.sampling.max_tokens(), controller.plain)
        self.lesson = lesson
        controller.new_chat()
        controller.set_plain(lesson.mode == "plain")
        window.chat.step_bar.set_plain(lesson.mode == "plain")
        window.chat.set_system_prompt(lesson.system_prompt(language))
        # Every setting is the lesson's own over the defaults: nothing clicked before (a "Wait" ×2, a
        # top-p set by hand) leaks into it.
        settings = SamplerSettings(**lesson.sampler_settings())
        window.sampling.set_settings(settings)
        controller.set_settings(settings)
        window.sampling.set_max_tokens(lesson.max_tokens)
        controller.max_tokens = lesson.max_tokens
        window._stepping = False
        if lesson.history:
            controller.start_with_history(
                lesson.text("title", language), [(role, text[language]) for role, text in lesson.history]
            )
        title = lesson.text("title", language)
        leave = self.tr("Leave the lesson")
        self.lesson_label.setText(
            f'<b>{title}</b><br>{lesson.text("explanation", language)}<br><a href="leave">{leave}</a>'
        )
        self.lesson_label.show()
        self._show_view(lesson.view)
        prompt = lesson.text("prompt", language)
        window.chat.input.setPlainText(prompt)
        if lesson.view == "tokens":
            self.tokens.set_text(prompt)
        if lesson.send and window.loaded is not None:
            window.chat.input.clear()
            window._stepping = lesson.step_mode
            controller.send(prompt)
        if lesson.side_by_side and window.loaded is not None:
            self._run_side_by_side(lesson)
        window.chat.input.setFocus()

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
        window._stepping = False

    def own_settings(self) -> tuple[SamplerSettings, int]:
        """The user's sampler settings and reply length: theirs, not a lesson's (what is saved)."""
        if self._own is not None:
            return self._own.settings, self._own.max_tokens
        return self.window.sampling.settings(), self.window.sampling.max_tokens()

    def _run_side_by_side(self, lesson: Lesson) -> None:
        """The lesson's answers side by side: its prompt once per answer, each with that answer's system
        prompt, at the lesson's settings (the same seed for each: only the system prompt differs)."""
        controller, language = self.window.controller, self.language
        prompt = {"role": "user", "content": lesson.text("prompt", language)}
        settings, n, plain = controller.settings, controller.max_tokens, controller.plain
        headers, requests = [], []
        for answer in lesson.side_by_side:
            system = answer.system_prompt(language)
            head = ({"role": "system", "content": system},) if system else ()
            requests.append(CompareRequest((*head, prompt), settings, 1, n, plain))
            if system:
                detail = self.tr("system prompt: “%1”").replace("%1", system)
            else:
                detail = self.tr("no system prompt")
            headers.append((answer.title(language), detail))
        self._side_next, self._side_done = requests, []
        seeds = [answer_seeds(r.settings, 1)[0] for r in requests]
        self.compare.start(len(requests), seeds, headers)
        self._send_side()

    def _send_side(self) -> None:
        self._request = self._side_next.pop(0)
        self.window.engine.request_compare.emit(self._request)

    def _side_finished(self) -> None:
        """The lesson's answers are all in: one comparison of them, where each parts from the others."""
        parts, self._side_done = self._side_done or [], None
        answers = tuple(a for part in parts for a in part.answers)
        split = tuple(divergence([[s.token.id for s in a.steps] for a in answers]))
        seeds = tuple(seed for part in parts for seed in part.seeds)
        prompt_tokens = max((part.prompt_tokens for part in parts), default=0)
        evaluated = sum(part.prompt_evaluated for part in parts)
        result = Comparison(answers, seeds, split, prompt_tokens, evaluated)
        self.compare.done(
            result,
            self.tr(
                "The same question at the same settings; only the system prompt differs. The marked token "
                "is where the answers part."
            ),
        )

    def _on_lesson_reply(self, _event: object) -> None:
        """A reply in a lesson is done: the views show the step the lesson names (the chart already shows
        the last one). Not in step mode, where each step shows its own new token."""
        lesson, window, controller = self.lesson, self.window, self.window.controller
        if lesson is None or window._stepping or window.loaded is None or not controller.messages:
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
            window.resizeDocks([target], [round(window.height() * share)], Qt.Vertical)
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
    scroll.setFrameShape(QFrame.NoFrame)
    scroll.setWidget(widget)
    return scroll
