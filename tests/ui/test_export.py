"""Exports of real steps: PNG and SVG images of the step plots, the distribution as CSV, the clipboard."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtGui import QGuiApplication, QImage

from desktop_app.ui.widgets import export
from desktop_app.ui.widgets.die import DieView
from desktop_app.ui.widgets.waterfall import WaterfallView
from tests.ui.real_steps import EVERY_STAGE, REPEATING, label_of, step

SVG = "{http://www.w3.org/2000/svg}svg"


@pytest.fixture
def shown(qtbot, smollm2_engine):
    """A waterfall and a die showing one real step with every stage on."""
    d = step(smollm2_engine, REPEATING, EVERY_STAGE)
    widgets = []
    for cls in (WaterfallView, DieView):
        w = cls()
        qtbot.addWidget(w)
        w.resize(900, 600)
        w.show()
        qtbot.waitExposed(w)
        w.set_step(d, label_of(smollm2_engine), smollm2_engine.eog_ids)
        w.flush()
        widgets.append(w)
    return d, widgets[0], widgets[1]


def test_png_of_a_widget_and_of_a_plot(shown, tmp_path):
    _d, waterfall, die = shown
    die.roll(1000)
    die.flush()
    path = tmp_path / "waterfall.png"
    size = export.export_png(waterfall, path)
    image = QImage(str(path))
    assert not image.isNull() and image.size() == waterfall.size() == size
    big = export.export_png(die, tmp_path / "die@2x.png", scale=2.0)
    image = QImage(str(tmp_path / "die@2x.png"))
    assert image.width() == big.width() == 2 * die.width() and image.height() == 2 * die.height()
    item = waterfall.plot.getPlotItem()
    export.export_png(item, tmp_path / "plot.png")
    plot = QImage(str(tmp_path / "plot.png"))
    assert not plot.isNull() and plot.width() == int(item.sceneBoundingRect().width())
    # not a blank picture: the bars' blue is in it
    assert len({plot.pixel(x, y) for x in range(0, plot.width(), 7) for y in range(0, plot.height(), 7)}) > 5


def test_svg_is_xml_with_the_plot_in_it(shown, tmp_path):
    _d, waterfall, die = shown
    for target, name in (
        (waterfall, "waterfall.svg"),
        (waterfall.plot.getPlotItem(), "plot.svg"),
        (die, "die.svg"),
    ):
        export.export_svg(target, tmp_path / name)
        root = ET.parse(tmp_path / name).getroot()
        assert root.tag == SVG
        texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
        paths = list(root.iter("{http://www.w3.org/2000/svg}path")) + list(
            root.iter("{http://www.w3.org/2000/svg}rect")
        )
        assert paths, name
        if target is not die:
            assert "top-k" in texts  # the stage headers are text, not pixels
    assert "landed in" in " ".join(
        t.text or ""
        for t in ET.parse(tmp_path / "die.svg").getroot().iter("{http://www.w3.org/2000/svg}text")
    )


def test_csv_has_every_stage_and_the_engines_numbers(shown, tmp_path, smollm2_engine):
    d, _w, _die = shown
    path = tmp_path / "step.csv"
    assert export.export_csv(d, path, smollm2_engine.piece) == len(d.candidates)
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    stages = [f"p_{s.name}" for s in d.stages]
    assert list(rows[0]) == [
        "rank",
        "token_id",
        "piece",
        "label",
        "bytes_hex",
        "p_raw",
        *stages,
        "p_final",
        "removed_by",
        "chosen",
    ]
    assert [int(r["token_id"]) for r in rows] == [int(t) for t in d.candidates]
    assert np.array_equal([float(r["p_final"]) for r in rows], d.p_final)
    assert np.array_equal([float(r["p_raw"]) for r in rows], d.p_raw)
    for s in d.stages:
        assert np.array_equal([float(r[f"p_{s.name}"]) for r in rows], s.p)
    assert [r["removed_by"] or None for r in rows] == list(d.removed_by)
    assert [int(r["chosen"]) for r in rows].index(1) == d.chosen_index and sum(
        int(r["chosen"]) for r in rows
    ) == 1
    for r in rows:
        assert bytes.fromhex(r["bytes_hex"]) == smollm2_engine.piece(int(r["token_id"]))
    assert rows[0]["rank"] == "1" and rows[0]["piece"] == smollm2_engine.piece(int(d.candidates[0])).decode()


def test_csv_of_a_chinese_step_keeps_the_text(tmp_path, smollm2_engine):
    d = step(smollm2_engine, "臺灣最高的山是", EVERY_STAGE)
    export.export_csv(d, tmp_path / "zh.csv", smollm2_engine.piece)
    raw = (tmp_path / "zh.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a byte-order mark: spreadsheets read UTF-8
    with (tmp_path / "zh.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    whole = [r for r in rows if bytes.fromhex(r["bytes_hex"]).decode("utf-8", "replace") == r["piece"]]
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in r["piece"]) for r in whole)
    assert not any("\ufffd" in r["piece"] or "\ufffd" in r["label"] for r in rows)  # bytes, never "�"


def test_the_clipboard_gets_the_image(shown, qtbot):
    _d, waterfall, _die = shown
    QGuiApplication.clipboard().clear()
    image = export.copy_image(waterfall)
    pasted = QGuiApplication.clipboard().image()
    assert not pasted.isNull() and pasted.size() == image.size() == waterfall.size()


def test_an_unwritable_path_says_so(shown, tmp_path, smollm2_engine):
    d, waterfall, _die = shown
    missing = tmp_path / "no such folder" / "x"
    with pytest.raises(OSError, match="Could not write"):
        export.export_png(waterfall, missing.with_suffix(".png"))
    with pytest.raises(OSError, match="Could not write"):
        export.export_csv(d, missing.with_suffix(".csv"), smollm2_engine.piece)
    with pytest.raises(OSError, match="Could not write"):
        export.export_svg(waterfall, missing.with_suffix(".svg"))
