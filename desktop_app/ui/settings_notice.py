"""The note that some settings could not be used: a dialog that leaves the window usable (not modal)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

OBJECT_NAME = "settings-warning"


def show_settings_warning(parent: QWidget, warning: str) -> QMessageBox:
    """A non-modal message box over PARENT with the store's sentence (what fell back, where the original
    file is kept). It opens once the event loop runs, above the window; nothing waits for it."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        QCoreApplication.translate("SettingsNotice", "Settings"),
        QCoreApplication.translate(
            "SettingsNotice", "Some settings could not be used, so their defaults are used instead."
        ),
        QMessageBox.StandardButton.Ok,
        parent,
    )
    box.setObjectName(OBJECT_NAME)
    box.setInformativeText(warning)
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    QTimer.singleShot(0, box, lambda: _show_over(parent, box))
    return box


def _show_over(parent: QWidget, box: QMessageBox) -> None:
    """Show BOX if its window is on screen; a window closed before its first event is told nothing."""
    if parent.isVisible():
        box.show()
    else:
        box.deleteLater()
