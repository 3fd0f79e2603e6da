"""*Lessons → Save this setup as a lesson…*: what the window holds now (the prompt in the message box, or
the chat's last question; the system prompt, the earlier turns, the sampler settings, the reply length,
step mode) with a title, an explanation and the view the teacher chooses, written as a lesson file into
the teacher's own pack, *My lessons* (:mod:`desktop_app.core.lesson_setup` makes the lesson,
:mod:`desktop_app.core.lesson_writer` writes it). The loaded model may go with it as the model the lesson
recommends, when it came from the hub (its repository and file are what a classroom downloads)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
)

from desktop_app.core.lesson_setup import Setup, lesson_from_setup, lesson_id_for, setup_from_chat
from desktop_app.core.lesson_types import Lesson, View
from desktop_app.core.models.curated import CuratedModel
from desktop_app.ui.widgets.slide import settings_text

if TYPE_CHECKING:
    from desktop_app.ui.window_host import WindowHost

# The views a lesson can show, as their docks are named (the model's facts are the Tokens dock's too).
VIEWS: tuple[tuple[View, str], ...] = (
    ("chart", "chart"),
    ("die", "die"),
    ("waterfall", "waterfall"),
    ("end", "end"),
    ("template", "template"),
    ("tokens", "tokens"),
    ("compare", "compare"),
)


def current_setup(window: WindowHost) -> Setup | None:
    """The window's setup now (None: no prompt typed and no question asked in the chat shown)."""
    controller = window.controller
    settings, max_tokens = window.sampling.settings(), window.sampling.max_tokens()
    return setup_from_chat(
        window.chat.input.toPlainText(),
        [(m.role, m.content) for m in controller.messages if m.failed is None and not m.streaming],
        system=window.chat.system_prompt(),
        plain=controller.plain,
        settings=settings,
        max_tokens=max_tokens,
        step_mode=window.stepping,
    )


def shown_view(window: WindowHost) -> View:
    """The view the teacher is looking at: a workshop view raised over the chart, else the chart."""
    for view, dock_name in VIEWS[1:]:
        dock = window.docks.get(dock_name)
        if view != "template" and dock is not None and not dock.visibleRegion().isEmpty():
            return view
    return "chart"


def recommendable(window: WindowHost) -> CuratedModel | None:
    """The loaded model as a lesson's recommended model, when it came from the hub (None otherwise)."""
    entry = window.current if window.loaded is not None else None
    if entry is None or not entry.repo_id or not entry.filename:
        return None
    try:
        size = entry.path.stat().st_size
    except OSError:
        return None
    return CuratedModel(entry.repo_id, entry.filename, size, "", "", "")


class SaveLessonDialog(QDialog):
    def __init__(self, window: WindowHost, setup: Setup) -> None:
        super().__init__(window)
        self.host, self.setup = window, setup
        self.setWindowTitle(self.tr("Save this setup as a lesson"))
        self.title = QLineEdit(self)
        self.title.setPlaceholderText(self.tr("What the room will see in the Lessons menu"))
        self.explanation = QPlainTextEdit(self)
        self.explanation.setPlaceholderText(self.tr("What the lesson shows, in a sentence or two"))
        self.explanation.setFixedHeight(110)
        self.view = QComboBox(self)
        for view, dock_name in VIEWS:
            self.view.addItem(window.docks[dock_name].windowTitle(), view)
        self.view.setCurrentIndex(self.view.findData(shown_view(window)))
        self.send = QCheckBox(self.tr("Send the prompt when the lesson opens"), self)
        self.send.setChecked(True)
        self.step_mode = QCheckBox(self.tr("One token per click (step mode)"), self)
        self.step_mode.setChecked(setup.step_mode)
        self.pick = recommendable(window)
        name = window.current.display_name if window.current is not None else ""
        self.recommend = QCheckBox(self.tr("Recommend the loaded model, {model}").format(model=name), self)
        self.recommend.setChecked(self.pick is not None)
        self.recommend.setEnabled(self.pick is not None)
        if self.pick is None:
            self.recommend.setToolTip(self.tr("Only a model downloaded from the hub can be recommended"))
        form = QFormLayout()
        form.addRow(self.tr("Title"), self.title)
        form.addRow(self.tr("Explanation"), self.explanation)
        form.addRow(self.tr("Show"), self.view)
        summary = QLabel(self._summary(), self)
        summary.setWordWrap(True)
        summary.setStyleSheet("color:#555")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.title.textChanged.connect(self._update_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        for widget in (self.send, self.step_mode, self.recommend, summary, self.buttons):
            layout.addWidget(widget)
        self.resize(560, self.sizeHint().height())
        self._update_button()

    def _summary(self) -> str:
        s = self.setup
        prompt = s.prompt if len(s.prompt) <= 120 else s.prompt[:119] + "…"
        parts = [self.tr("Prompt: {prompt}").format(prompt=prompt)]
        if s.plain:
            parts.append(self.tr("Plain text, continued without the chat template."))
        if s.system.strip() and not s.plain:
            parts.append(self.tr("With the system prompt."))
        if s.history:
            parts.append(self.tr("After {count} earlier turn(s).").format(count=len(s.history)))
        parts.append(
            self.tr("Settings: {settings}; replies of up to {count} tokens.").format(
                settings=settings_text(s.settings), count=s.max_tokens
            )
        )
        return "\n".join(parts)

    def _update_button(self) -> None:
        button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        button.setEnabled(bool(self.title.text().strip()))

    def lesson(self, taken: set[str], language: str) -> Lesson:
        title = self.title.text().strip()
        return lesson_from_setup(
            replace(self.setup, step_mode=self.step_mode.isChecked()),
            lesson_id=lesson_id_for(title, taken),
            language=language,
            title=title,
            explanation=self.explanation.toPlainText().strip() or title,
            view=self.view.currentData(),
            send=self.send.isChecked(),
            model=self.pick if self.recommend.isChecked() else None,
        )
