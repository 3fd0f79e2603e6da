"""Presentation mode, for a projector: large fonts, high contrast, only the panels a room needs.

Turning it on scales the application font (and the text of every plot a little more), draws black on
white with strong accents, hides the chats list, the sampling panel, the models, template and tokens
docks and the status bar, puts the end-token lane beside the other views (the chat keeps the window's
whole height) and gives the views a bit more than half the width, the one in front staying in front
(the chart when none is). Turning it off puts back the fonts, the palette, the docks and the window's
geometry exactly as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QTabBar, QWidget

if TYPE_CHECKING:
    from desktop_app.ui.window_host import WindowHost

SCALE = 1.6  # the application font
PLOT_SCALE = 1.25  # the plots' texts, over the application font: bars and labels read from the back
TAB_SCALE = 0.8  # the dock tabs, under the application font: five fit beside the chat at 1280 px
HIDDEN = ("chats", "sampling", "models", "template", "tokens")
VIEWS = ("chart", "die", "waterfall", "compare", "end")  # tabbed together, right of the chat
VIEWS_SHARE = 0.55  # of the window's width
INPUT_LINES = 2.6  # the message box's height, in lines of the large font
#: A widget's property: true for a note to the teacher that keeps its ordinary size when presenting.
KEEP_SIZE = "presentation_keep_size"


def high_contrast_palette() -> QPalette:
    pal = QPalette()
    white, black = QColor("#ffffff"), QColor("#000000")
    role = QPalette.ColorRole
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        pal.setColor(group, role.Window, white)
        pal.setColor(group, role.Base, white)
        pal.setColor(group, role.AlternateBase, QColor("#f2f2f2"))
        pal.setColor(group, role.WindowText, black)
        pal.setColor(group, role.Text, black)
        pal.setColor(group, role.ButtonText, black)
        pal.setColor(group, role.Button, QColor("#e6e6e6"))
        pal.setColor(group, role.Highlight, QColor("#0050b3"))
        pal.setColor(group, role.HighlightedText, white)
        pal.setColor(group, role.PlaceholderText, QColor("#404040"))
    return pal


class Presentation(QObject):
    toggled = Signal(bool)

    def __init__(self, window: WindowHost, plots: Sequence) -> None:
        """``plots``: the views whose texts grow more than the rest (``set_font_scale``)."""
        super().__init__(window)
        self.window = window
        self._plots = list(plots)
        self.on = False
        self._font: QFont | None = None
        self._palette: QPalette | None = None
        self._state: QByteArray | None = None
        self._geometry: QByteArray | None = None
        self._rect: QRect | None = None
        self._status_shown = True
        self._input_height = 0
        # Widgets with a style sheet keep the font they had when the application's changes (Qt does not
        # pass it on to them): they are set by hand, and put back.
        self._styled: list[tuple[QWidget, QFont, bool]] = []
        self._tabs: list[tuple[QTabBar, Qt.TextElideMode, QFont, bool]] = []

    def plots(self) -> list:
        return list(self._plots)

    def set_on(self, on: bool) -> None:
        if on == self.on:
            return
        if on:
            self._enter()
        else:
            self._leave()
        self.window.tidy_tab_bars()
        self.on = on
        self.toggled.emit(on)

    def _enter(self) -> None:
        app, w = _app(), self.window
        self._font, self._palette = QFont(app.font()), QPalette(app.palette())
        self._state, self._geometry, self._rect = w.saveState(), w.saveGeometry(), w.geometry()
        self._status_shown = w.statusBar().isVisibleTo(w)
        front = next((n for n in VIEWS if n in w.docks and _in_front(w.docks[n])), "chart")
        big = QFont(self._font)
        size = big.pointSizeF() if big.pointSizeF() > 0 else 10.0
        big.setPointSizeF(size * SCALE)
        app.setFont(big)
        app.setPalette(high_contrast_palette())
        self._styled = []
        for widget in w.findChildren(QWidget):
            if widget.styleSheet() and not isinstance(widget, QTabBar) and not widget.property(KEEP_SIZE):
                font = widget.font()
                self._styled.append(
                    (widget, QFont(font), widget.testAttribute(Qt.WidgetAttribute.WA_SetFont))
                )
                scaled = QFont(font)
                scaled.setPointSizeF((font.pointSizeF() if font.pointSizeF() > 0 else size) * SCALE)
                widget.setFont(scaled)
        for plot in self.plots():
            plot.set_font_scale(PLOT_SCALE)
        w.chart.info_label.set_max_lines(2)  # the step's figures wrap rather than lose their end
        for name in HIDDEN:
            if name in w.docks:
                w.docks[name].hide()
        w.statusBar().hide()
        end = w.docks.get("end")
        if end is not None and not end.isHidden():  # beside the views, not under the chat
            w.tabifyDockWidget(w.docks["chart"], end)
        w.docks["chart"].show()
        w.show_dock(front)
        chat_input = w.chat.input
        self._input_height = chat_input.maximumHeight()
        lines = chat_input.fontMetrics().lineSpacing() * INPUT_LINES
        chat_input.setMaximumHeight(round(lines + 2 * chat_input.frameWidth() + 8))
        w.resizeDocks([w.docks["chart"]], [round(w.width() * VIEWS_SHARE)], Qt.Orientation.Horizontal)
        self._set_tabs(big)

    def _set_tabs(self, big: QFont) -> None:
        """The dock tabs whole (never "Next to…"), in a font a little smaller than the rest."""
        self._tabs = []
        tab_font = QFont(big)
        tab_font.setPointSizeF(big.pointSizeF() * TAB_SCALE)
        for bar in self.window.findChildren(QTabBar):
            self._tabs.append(
                (bar, bar.elideMode(), QFont(bar.font()), bar.testAttribute(Qt.WidgetAttribute.WA_SetFont))
            )
            bar.setElideMode(Qt.TextElideMode.ElideNone)
            bar.setFont(tab_font)

    def _leave(self) -> None:
        app, w = _app(), self.window
        if self._font is not None and self._palette is not None:  # as _enter found them
            app.setFont(self._font)
            app.setPalette(self._palette)
        for widget, font, explicit in self._styled:
            _put_font(widget, font, explicit)
        self._styled = []
        for bar, elide, font, explicit in self._tabs:
            bar.setElideMode(elide)
            _put_font(bar, font, explicit)
        self._tabs = []
        for plot in self.plots():
            plot.set_font_scale(1.0)
        w.chart.info_label.set_max_lines(1)
        w.chat.input.setMaximumHeight(self._input_height)
        w.statusBar().setVisible(self._status_shown)
        # The docks and the window are put back once everything is laid out in the ordinary fonts:
        # restored before, a layout still sized for large print would stretch the window after.
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if self._state is not None:
            w.restoreState(self._state)
        if self._geometry is not None:
            w.restoreGeometry(self._geometry)
        # A dock that was hidden shows, for a moment, the size its content wanted in large print, and
        # restoreState widens the window to it; once laid out, the window goes back to its size.
        QTimer.singleShot(0, w, self._put_back_size)

    def _put_back_size(self) -> None:
        w = self.window
        if self.on or self._rect is None or w.isMaximized() or w.isFullScreen():
            return
        for _ in range(4):  # each pass lays out what the one before uncovered
            if w.geometry() == self._rect:
                break
            w.setGeometry(self._rect)
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if self._state is not None:  # the docks' sizes again, now in the window's own size
            w.restoreState(self._state)
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if w.geometry() != self._rect:
            w.setGeometry(self._rect)


def _in_front(dock) -> bool:
    """Shown and not behind another dock's tab."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def _put_font(widget: QWidget, font: QFont, explicit: bool) -> None:
    try:
        if explicit:
            widget.setFont(font)
        else:  # inherit again, as before
            widget.setFont(QFont())
            widget.setAttribute(Qt.WidgetAttribute.WA_SetFont, False)
    except RuntimeError:  # deleted meanwhile
        pass


def _app() -> QApplication:
    return cast(QApplication, QApplication.instance())
