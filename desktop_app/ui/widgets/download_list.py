"""The downloads list of the Models page: one row per model download, with its progress and buttons.

Display only: rows show a :class:`~desktop_app.ui.downloads.DownloadJob` and emit what was clicked.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.units import size_text
from desktop_app.ui.downloads import DownloadJob
from desktop_app.ui.widgets.hub_text import ERROR_COLOUR, progress_text

BAR_STEPS = 1000
#: Light fills, so the percentage written across the bar stays readable on every part of it.
BAR_COLOURS = {"running": "#8ab4f8", "done": "#81c995", "failed": "#f28b82", "cancelled": "#dadce0"}
BAR_COLOURS["cancelling"] = BAR_COLOURS["queued"] = BAR_COLOURS["cancelled"]
translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls
_BAR_STYLE = (
    "QProgressBar {{ border: 1px solid #9aa0a6; border-radius: 3px; text-align: center; min-height: 16px; }}"
    " QProgressBar::chunk {{ background: {colour}; }}"
)


def _button(text: str, tip: str, parent: QWidget) -> QToolButton:
    button = QToolButton(parent)
    button.setText(text)
    button.setToolTip(tip)
    return button


def status_text(job: DownloadJob) -> str:
    """What the row says under its bar, in words."""
    total = job.model.size
    kept = size_text(job.kept_bytes)
    of_total = (
        translate("HubText", "{done} of {total}").format(done=kept, total=size_text(total)) if total else kept
    )
    if job.state == "queued":
        if job.kept_bytes:
            return translate(
                "DownloadList", "Waiting: downloads run one at a time; it resumes from {kept}."
            ).format(kept=kept)
        return translate("DownloadList", "Waiting: downloads run one at a time.")
    if job.state == "running":
        if job.progress is not None:
            return progress_text(job.progress)
        if job.kept_bytes:
            return translate("DownloadList", "Resuming from {kept}…").format(kept=of_total)
        return translate("DownloadList", "Starting…")
    if job.state == "cancelling":
        return translate("DownloadList", "Cancelling… what was downloaded is kept.")
    if job.state == "done":
        return translate(
            "DownloadList", "Done: it is in the library. Select it on “On this computer” and press Load."
        )
    if job.state == "cancelled":
        if job.kept_bytes:
            return translate("DownloadList", "Cancelled: {kept} kept. Resume continues from there.").format(
                kept=of_total
            )
        return translate("DownloadList", "Cancelled before it started.")
    if job.kept_bytes:  # failed
        return translate("DownloadList", "{kept} kept: Resume continues from there.").format(kept=of_total)
    return translate("DownloadList", "Nothing was kept: Retry starts from the beginning.")


class DownloadRow(QFrame):
    """One download: name, progress bar, bytes/speed/ETA or the reason it stopped, and its buttons."""

    cancel_clicked = Signal(int)
    resume_clicked = Signal(int)
    remove_clicked = Signal(int)
    show_clicked = Signal(int)

    def __init__(self, job: DownloadJob, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job_id = job.id
        self._state: str | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = ElidedLabel(self)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, BAR_STEPS)
        self.bar.setTextVisible(True)
        self.detail = QLabel(self)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color:{ERROR_COLOUR}")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cancel_button = _button(
            self.tr("Cancel"), self.tr("Stop it; what was downloaded is kept for a resume"), self
        )
        self.resume_button = _button(self.tr("Resume"), self.tr("Continue from what was kept"), self)
        self.show_button = _button(
            self.tr("Show"), self.tr("Select it in the library (“On this computer”)"), self
        )
        self.remove_button = _button(
            "✕", self.tr("Take it off this list (downloaded files stay on disk)"), self
        )
        self.cancel_button.clicked.connect(lambda: self.cancel_clicked.emit(self.job_id))
        self.resume_button.clicked.connect(lambda: self.resume_clicked.emit(self.job_id))
        self.remove_button.clicked.connect(lambda: self.remove_clicked.emit(self.job_id))
        self.show_button.clicked.connect(lambda: self.show_clicked.emit(self.job_id))
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(4)
        top.addWidget(self.title, 1)
        for b in (self.cancel_button, self.resume_button, self.show_button, self.remove_button):
            top.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail)
        layout.addWidget(self.error)
        self.show_job(job)

    def show_job(self, job: DownloadJob) -> None:
        name, repo = job.name, job.repo_id
        if job.model.is_split:
            parts = " " + translate("HubTables", "({n} parts)").format(n=job.model.split_total)
        else:
            parts = ""
        self.title.set_full_text(name + parts)
        self.title.setToolTip(f"{repo}: {job.model.name}")
        p = job.progress
        total = (p.total_bytes if p is not None else None) or job.model.size
        done = p.done_bytes if p is not None else job.kept_bytes
        if job.state == "done":
            self.bar.setValue(BAR_STEPS)
        elif total:
            self.bar.setValue(int(BAR_STEPS * min(max(done / total, 0.0), 1.0)))
        else:
            self.bar.setValue(0)
        if job.state != self._state:  # a style sheet costs a relayout: only when the state changes
            self._state = job.state
            self.bar.setStyleSheet(
                _BAR_STYLE.format(colour=BAR_COLOURS.get(job.state, BAR_COLOURS["running"]))
            )
        self.detail.setText(status_text(job))
        self.error.setText(job.error or "")
        self.error.setVisible(job.state == "failed" and bool(job.error))
        self.cancel_button.setVisible(job.active)
        self.cancel_button.setEnabled(job.state != "cancelling")
        self.resume_button.setVisible(job.resumable)
        self.resume_button.setText(self.tr("Resume") if job.kept_bytes else self.tr("Retry"))
        self.show_button.setVisible(job.state == "done")
        self.remove_button.setVisible(not job.active)


class ElidedLabel(QLabel):
    """A one-line label that shortens its text with “…” to the width it gets, instead of being cut."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self._elide()

    def full_text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + 4, hint.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(20, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(
            self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, max(self.width(), 20))
        )


class DownloadList(QScrollArea):
    """Every download of this session, newest last."""

    cancel_requested = Signal(int)
    resume_requested = Signal(int)
    remove_requested = Signal(int)
    show_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.rows: dict[int, DownloadRow] = {}
        body = QWidget(self)
        self._column = QVBoxLayout(body)
        self._column.setContentsMargins(2, 2, 2, 2)
        self._column.setSpacing(4)
        self.placeholder = QLabel(self.tr("No downloads yet: choose a file and press Download."), body)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color:#5f6368")
        self._column.addWidget(self.placeholder)
        self._column.addStretch(1)
        self.setWidget(body)

    def show_job(self, job: DownloadJob) -> None:
        row = self.rows.get(job.id)
        if row is None:
            row = DownloadRow(job, self.widget())
            row.cancel_clicked.connect(self.cancel_requested)
            row.resume_clicked.connect(self.resume_requested)
            row.remove_clicked.connect(self.remove_requested)
            row.show_clicked.connect(self.show_requested)
            self.rows[job.id] = row
            self._column.insertWidget(self._column.count() - 1, row)
            self.placeholder.hide()
        else:
            row.show_job(job)

    def remove_job(self, job_id: int) -> None:
        row = self.rows.pop(job_id, None)
        if row is not None:
            self._column.removeWidget(row)
            row.deleteLater()
        self.placeholder.setVisible(not self.rows)
