"""Presentation mode, for a projector: large fonts, high contrast, only the panels a room needs.

Turning it on scales the application font, draws black on white with strong accents, and hides the
chats list, the sampling panel, the models and the template docks (the chat, the chart and the step
controls stay); turning it off puts back the fonts, the palette and the docks exactly as they were.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

SCALE = 1.6
HIDDEN = ("chats", "sampling", "models", "template", "tokens")


def high_contrast_palette() -> QPalette:
    pal = QPalette()
    white, black = QColor("#ffffff"), QColor("#000000")
    for group in (QPalette.Active, QPalette.Inactive):
        pal.setColor(group, QPalette.Window, white)
        pal.setColor(group, QPalette.Base, white)
        pal.setColor(group, QPalette.AlternateBase, QColor("#f2f2f2"))
        pal.setColor(group, QPalette.WindowText, black)
        pal.setColor(group, QPalette.Text, black)
        pal.setColor(group, QPalette.ButtonText, black)
        pal.setColor(group, QPalette.Button, QColor("#e6e6e6"))
        pal.setColor(group, QPalette.Highlight, QColor("#0050b3"))
        pal.setColor(group, QPalette.HighlightedText, white)
        pal.setColor(group, QPalette.PlaceholderText, QColor("#404040"))
    return pal


class Presentation(QObject):
    toggled = Signal(bool)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.on = False
        self._font: QFont | None = None
        self._palette: QPalette | None = None
        self._state: QByteArray | None = None

    def set_on(self, on: bool) -> None:
        if on == self.on:
            return
        app = QApplication.instance()
        w = self.window
        if on:
            self._font, self._palette, self._state = QFont(app.font()), QPalette(app.palette()), w.saveState()
            big = QFont(self._font)
            size = big.pointSizeF() if big.pointSizeF() > 0 else 10.0
            big.setPointSizeF(size * SCALE)
            app.setFont(big)
            app.setPalette(high_contrast_palette())
            w.chart.set_font_scale(1.25)
            for name in HIDDEN:
                if name in w.docks:
                    w.docks[name].hide()
            w.docks["chart"].show()
        else:
            app.setFont(self._font)
            app.setPalette(self._palette)
            w.chart.set_font_scale(1.0)
            if self._state is not None:
                w.restoreState(self._state)
        w.tidy_tab_bars()
        self.on = on
        self.toggled.emit(on)
