"""The bar over the chat that says the engine has stopped, with Restart and the details of why."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget


class EngineBanner(QFrame):
    """Hidden until :meth:`show_death`; *Restart the engine* asks for a restart, *Details…* shows the
    signal and the last lines of the engine's log."""

    restart_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("engine-banner")
        self.setStyleSheet(
            "#engine-banner { background:#fdecea; border:1px solid #e0a39c; border-radius:4px; }"
        )
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.restart_button = QPushButton(self.tr("Restart the engine"), self)
        self.details_button = QPushButton(self.tr("Details…"), self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.restart_button)
        layout.addWidget(self.details_button)
        self.restart_button.clicked.connect(self.restart_requested)
        self.details_button.clicked.connect(self.show_details)
        self._details = ""
        self.hide()

    def show_death(self, sentence: str, details: str, *, can_restart: bool) -> None:
        self.label.setText(sentence)
        self._details = details
        self.restart_button.setVisible(can_restart)
        self.show()

    def details(self) -> str:
        return self._details

    def show_details(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning, self.tr("The engine stopped"), self.label.text(), parent=self
        )
        box.setDetailedText(self._details)
        box.open()
