"""Qt paints on the window's thread: while a model generates, llama.cpp's threads hold every core, and a
thread pool of Qt's own would take turns on them (see qt_platform.paint_on_one_thread)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter

from desktop_app.qt_platform import paint_on_one_thread


def test_the_setting_is_made_unless_the_user_made_it():
    env: dict[str, str] = {}
    paint_on_one_thread(env)
    assert env == {"QT_NO_GUI_THREADPOOL": "1"}
    own = {"QT_NO_GUI_THREADPOOL": ""}  # set, to anything: Qt's pool is off; the user's value stays
    paint_on_one_thread(own)
    assert own == {"QT_NO_GUI_THREADPOOL": ""}


def _qt_pool_threads() -> list[str]:
    names = [p.read_text().strip() for p in Path("/proc/self/task").glob("*/comm")]
    return [n for n in names if "pooled" in n.lower()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's thread names")
def test_large_fills_are_painted_without_qts_thread_pool(qapp):
    image = QImage(1920, 1080, QImage.Format.Format_ARGB32_Premultiplied)
    gradient = QLinearGradient(0, 0, 0, 1080)
    gradient.setColorAt(0, QColor("white"))
    gradient.setColorAt(1, QColor("navy"))
    painter = QPainter(image)
    for _ in range(20):  # fills and blends large enough for Qt to split them across threads
        painter.fillRect(image.rect(), QColor(20, 40, 60, 200))
        painter.fillRect(image.rect(), gradient)
        painter.fillRect(image.rect(), Qt.GlobalColor.white)
    painter.end()
    assert image.pixelColor(5, 5) == QColor("white")
    assert _qt_pool_threads() == []
