"""Step mode: one token per click (→), back one token (←), auto-play at a chosen speed, and the switch
between chatting and plain text continuation."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSlider, QStyle, QWidget

SPEEDS = (0.5, 1, 2, 4, 8)  # tokens per second of auto-play


class StepBar(QWidget):
    next_requested = Signal()
    back_requested = Signal()
    plain_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.back_button = QPushButton(self.tr("← Back"), self)
        self.back_button.setToolTip(self.tr("Take the last token back (←)"))
        self.back_button.clicked.connect(self.back_requested)
        self.next_button = QPushButton(self.tr("Next token →"), self)
        self.next_button.setToolTip(
            self.tr("Compute the next-token distribution, roll the die and add one token (→)")
        )
        self.next_button.clicked.connect(self.next_requested)
        # Icons from the style, not emoji: a machine without a colour emoji font drew empty boxes.
        self.play_button = QPushButton(self.tr("Auto-play"), self)
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setCheckable(True)
        self.play_button.setToolTip(self.tr("Add one token after another at the chosen speed"))
        self.play_button.toggled.connect(self._on_play)
        self.speed = QSlider(Qt.Orientation.Horizontal, self)
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setValue(2)
        self.speed.setFixedWidth(70)
        self.speed.setToolTip(self.tr("Auto-play speed"))
        self.speed_label = QLabel(self)
        self.speed.valueChanged.connect(self._on_speed)
        self.plain = QCheckBox(self.tr("Plain text"), self)
        self.plain.setToolTip(
            self.tr(
                "Plain text continuation: the model continues your text as it is, without the chat "
                "template and its special tokens"
            )
        )
        self.plain.toggled.connect(self.plain_changed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.back_button, self.next_button, self.play_button, self.speed, self.speed_label):
            layout.addWidget(w)
        layout.addStretch(1)  # ``plain`` is placed by the owner (the chat pane puts it by "Show tokens")
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.next_requested)
        self._on_speed(self.speed.value())

    # --- auto-play --------------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self.play_button.isChecked()

    def interval_ms(self) -> int:
        return round(1000 / SPEEDS[self.speed.value()])

    def step_done(self, can_go_on: bool) -> None:
        """A step finished: schedule the next one while auto-playing, or stop at the end."""
        if not self.playing:
            return
        if can_go_on:
            self._timer.start(self.interval_ms())
        else:
            self.play_button.setChecked(False)

    def stop(self) -> None:
        self.play_button.setChecked(False)

    def _on_play(self, on: bool) -> None:
        self.play_button.setText(self.tr("Pause") if on else self.tr("Auto-play"))
        self.play_button.setIcon(
            self.style().standardIcon(
                QStyle.StandardPixmap.SP_MediaPause if on else QStyle.StandardPixmap.SP_MediaPlay
            )
        )
        if on:
            self.next_requested.emit()
        else:
            self._timer.stop()

    def _on_speed(self, index: int) -> None:
        self.speed_label.setText(self.tr("%1 tokens/s").replace("%1", f"{SPEEDS[index]:g}"))

    def set_plain(self, plain: bool) -> None:
        self.plain.blockSignals(True)
        self.plain.setChecked(plain)
        self.plain.blockSignals(False)

    def set_enabled_for(self, busy: bool, can_next: bool = True, can_back: bool = True) -> None:
        self.next_button.setEnabled(not busy and can_next)
        self.back_button.setEnabled(not busy and can_back)
