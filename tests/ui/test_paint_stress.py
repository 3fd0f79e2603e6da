"""Regression test: PySide6 6.12.0 on CPython 3.11 aborts ("Fatal Python error: none_dealloc") after a
few thousand QPainter calls, e.g. a pyqtgraph bar chart with per-bar brushes repainted a few hundred
times. This repaints one 2,000 times; on a bad PySide6 the whole test process dies here."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor


def test_bar_chart_with_per_bar_brushes_survives_2000_repaints(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(640, 400)
    widget.show()
    qtbot.waitExposed(widget)
    n = 40
    rng = np.random.default_rng(7)
    bars = pg.BarGraphItem(x0=np.zeros(n), y=np.arange(n), height=0.8, width=np.ones(n))
    widget.addItem(bars)
    palette = [pg.mkBrush(QColor.fromHsv(h, 160, 220)) for h in range(0, 360, 9)]
    gc.collect()  # garbage of earlier tests holds None too: free it before counting
    none_refs = sys.getrefcount(None)
    for i in range(2000):
        probs = rng.dirichlet(np.ones(n))
        brushes = [palette[(i + j) % len(palette)] for j in range(n)]
        bars.setOpts(x0=np.zeros(n), y=np.arange(n), width=probs, height=0.8, brushes=brushes)
        widget.repaint()
    image = widget.grab().toImage()
    assert image.width() > 0
    assert bars.opts["brushes"][0] is palette[1999 % len(palette)]
    del brushes, image
    gc.collect()
    # The broken build releases None about 3.5 times per repaint until None's count reaches zero and the
    # interpreter aborts (on 3.11, where None is not immortal). Catch the drift before it kills the run.
    lost = none_refs - sys.getrefcount(None)
    assert lost < 1000, f"None lost {lost} references over 2,000 repaints: a PySide6 refcount bug"
