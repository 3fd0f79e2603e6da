"""Presentation mode at a projector's resolutions, with the real bundled model: every text of the views
large enough to read from the back of a room, nothing cut off, the chat with room for the reply, and the
window exactly as it was after leaving."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication, QDockWidget, QTabBar

from desktop_app.core.lessons import LESSONS
from desktop_app.core.services import Services
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.widgets.text_line import TextLine

LOAD_MS = 60_000
REPLY_MS = 120_000
#: The smallest text a room reads on a projected 1280×720 or 1920×1080 picture, in pixels of the window.
READABLE_PX = 18.0


def _px(font) -> float:
    return QFontMetricsF(font).height()


def _lesson(lesson_id: str):
    return next(lesson for lesson in LESSONS if lesson.id == lesson_id)


@pytest.fixture(params=[(1280, 720), (1920, 1080)], ids=["1280x720", "1920x1080"])
def presenting(qtbot, request):
    services = Services.open()
    window = MainWindow(services, current=services.library.resolve("default"))
    qtbot.addWidget(window)
    window.resize(*request.param)
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.show()
    with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS):
        window.workshop.open_lesson(_lesson("distribution"))  # a short reply, the die in front
    yield window
    window.close()
    services.close()


def _docks(window: MainWindow) -> dict[str, tuple[bool, QRect | None]]:
    """Each dock: whether it is open, and where it stands when in front (not behind another's tab)."""
    return {
        name: (d.isVisible(), None if d.visibleRegion().isEmpty() else d.geometry())
        for name, d in window.docks.items()
    }


def _chart_label_px(w: MainWindow, qtbot) -> float:
    """The chart's token labels, in pixels, once the chart is in front and drawn (their size is fitted
    to the rows' height when drawn)."""
    w.docks["chart"].raise_()
    qtbot.waitUntil(lambda: w.chart.isVisible() and not w.chart.dirty, timeout=3000)
    qtbot.wait(30)
    return _px(w.chart._label_font)


def test_every_text_of_the_views_reads_from_the_back_and_the_window_comes_back_exactly(presenting, qtbot):
    w = presenting
    app = QApplication.instance()
    workshop = w.workshop
    label_px = _chart_label_px(w, qtbot)
    assert label_px < READABLE_PX  # ordinary print: what a room cannot read
    w.docks["die"].raise_()  # the lesson's view, in front again
    before = (w.geometry(), _docks(w), w.statusBar().isVisible(), w.chat.input.maximumHeight())
    lesson_px = _px(workshop.lesson_label.font())

    workshop.presentation_action.trigger()
    qtbot.waitUntil(lambda: not workshop.die.dirty, timeout=3000)
    assert workshop.presentation.on
    # The lesson's view stays in front; the chart is beside it.
    assert workshop.die.isVisible()
    w.docks["chart"].raise_()
    qtbot.waitUntil(lambda: w.chart.isVisible() and not w.chart.dirty, timeout=3000)
    for font, what in (
        (w.chart._label_font, "the chart's token labels"),
        (w.chart.bars.cache.font, "the chart's percentages"),
        (w.chart.roll_label.font(), "the chart's roll"),
        (w.chart.info_label.font(), "the chart's figures"),
        (workshop.die.strip_view.roll_label.font(), "the die's headline"),
        (workshop.end_lane.title_label.font(), "the end lane's title"),
        (workshop.lesson_label.font(), "the lesson's explanation"),
        (w.chat.view.font(), "the chat"),
    ):
        assert _px(font) >= READABLE_PX, what
    # A label with a style sheet keeps its font when the application's changes: it is scaled by hand.
    assert _px(workshop.lesson_label.font()) > 1.4 * lesson_px

    # Nothing cut off: every dock tab whole, the step's figures whole, the legend all there.
    bars = [b for b in w.findChildren(QTabBar) if b.isVisible()]
    assert bars
    for bar in bars:
        metrics = bar.fontMetrics()
        for i in range(bar.count()):
            assert bar.tabRect(i).width() >= metrics.horizontalAdvance(bar.tabText(i)), bar.tabText(i)
            assert bar.tabRect(i).right() <= bar.width(), bar.tabText(i)
    for line in w.findChildren(TextLine):
        if line.isVisible() and line.text():
            assert "…" not in line.shown_text(), line.text()
    legend = w.chat.legend
    assert legend.height() >= legend.heightForWidth(legend.width())
    window_rect = w.rect()
    for name, dock in w.docks.items():
        if dock.isVisible() and not dock.visibleRegion().isEmpty():  # not behind another's tab
            assert window_rect.contains(QRect(dock.mapTo(w, dock.rect().topLeft()), dock.size())), name
    # The panels a room does not need are gone; the chat keeps room for the reply.
    assert not w.docks["sampling"].isVisible() and not w.statusBar().isVisible()
    assert w.chat.view.height() >= 0.25 * w.height()
    assert w.docks["chart"].width() >= 0.45 * w.width()
    assert app.palette().color(app.palette().ColorRole.Base).name() == "#ffffff"

    workshop.presentation_action.trigger()
    assert not workshop.presentation.on
    qtbot.waitUntil(lambda: w.geometry() == before[0], timeout=3000)
    assert (w.geometry(), _docks(w), w.statusBar().isVisible(), w.chat.input.maximumHeight()) == before
    assert _px(workshop.lesson_label.font()) == pytest.approx(lesson_px)
    assert _chart_label_px(w, qtbot) == pytest.approx(label_px)


def test_the_end_token_lesson_brings_its_lane_forward_also_presenting(presenting, qtbot):
    w = presenting
    w.workshop.presentation_action.trigger()
    end = _lesson("end-token")
    if end.send:
        with qtbot.waitSignal(w.controller.finished, timeout=REPLY_MS):
            w.workshop.open_lesson(end)
    else:
        w.workshop.open_lesson(end)
    qtbot.waitUntil(lambda: w.workshop.end_lane.isVisible(), timeout=3000)
    dock = w.docks["end"]
    assert isinstance(dock, QDockWidget) and not dock.visibleRegion().isEmpty()
    # Presenting, the lane is one of the views beside the chat, not a strip under it.
    assert dock.geometry().left() >= w.chat.geometry().right()
    w.workshop.presentation_action.trigger()
