"""Exports of real steps: PNG and SVG images of the step plots, the distribution as CSV, the clipboard;
and the window's exports as slides: the plot alone (none of its widget's controls), twice the on-screen
size, with a caption that says the prompt, the step, the model and the settings."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QGuiApplication, QImage

from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.services import Services
from desktop_app.ui.widgets import export
from desktop_app.ui.widgets.die import DieView
from desktop_app.ui.widgets.prob_chart import RAW
from desktop_app.ui.widgets.prob_chart_looks import CHOSEN_COLOR
from desktop_app.ui.widgets.slide import MARGIN, PROMPT_CHARS, caption_lines
from desktop_app.ui.widgets.waterfall import WaterfallView
from tests.ui.real_steps import EVERY_STAGE, REPEATING, label_of, step
from tests.ui.test_workshop import REPLY_MS, open_window

SVG = "{http://www.w3.org/2000/svg}svg"
SVG_NS = "{http://www.w3.org/2000/svg}"
PROMPT = (
    "Name three fruits that are red, and tell me which one of them is the sweetest of all, please, "
    "in one short sentence."
)
SETTINGS = SamplerSettings(seed=4, temperature=0.7, top_k=30, top_p=0.9, min_p=0.02)
MAGENTA = QColor("#ff00ff").rgba()


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


# --- the window's exports, as slides ------------------------------------------------------------------
@pytest.fixture
def window(qtbot):
    services = Services.open()
    w = open_window(qtbot, services)
    yield w
    w.close()
    services.close()


@pytest.fixture
def replied(window, qtbot):
    """The window after a six-token reply with fixed settings, its third step shown in the chart, the
    chart's and the stages' controls painted magenta (no slide may show them)."""
    window.sampling.set_settings(SETTINGS)
    window.controller.set_settings(SETTINGS)
    window.controller.max_tokens = 6
    with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS):
        window.controller.send(PROMPT)
    window.chat.token_clicked.emit(1, 2)  # the third token's step: "step 3 of 6"
    chart, waterfall = window.chart, window.workshop.waterfall
    for control in (chart.raw_button, chart.final_button, chart.top_n_spin, waterfall.top_n_spin):
        control.setStyleSheet("background: #ff00ff; color: #ff00ff")
    assert window.chart.where() == (3, 6)
    return window


def _magenta(image: QImage) -> int:
    image = image.convertToFormat(QImage.Format_ARGB32)
    rows = range(0, image.height(), 2)
    return sum(image.pixel(x, y) == MAGENTA for x in range(image.width()) for y in rows)


def _colours(image: QImage, top: int, bottom: int) -> set[int]:
    return {image.pixel(x, y) for x in range(0, image.width(), 3) for y in range(top, bottom, 3)}


def _caption_text(window, what: str) -> str:
    return " ".join(window.workshop.slide(what).caption_rows())


@pytest.mark.parametrize("what", ["chart", "waterfall"])
def test_a_png_is_the_plot_alone_at_twice_its_size_with_a_caption(replied, qtbot, tmp_path, what):
    window = replied
    view = window.chart if what == "chart" else window.workshop.waterfall
    path = tmp_path / f"{what}.png"
    window.workshop.export(f"{what}.png", path)  # the stages' dock was never opened: shown and laid out
    image = QImage(str(path))
    slide = window.workshop.slide(what)
    plot = view.plot.viewport().size()
    assert plot.width() > 300 and plot.height() > 300  # laid out at the dock's size, not a new widget's
    assert slide.plot_size() == plot
    # The plot with a small margin, then the caption: twice that, and not the widget with its buttons.
    caption = slide.caption_height()
    expected = QSize(plot.width() + 2 * MARGIN, plot.height() + MARGIN + caption)
    assert slide.size() == expected and caption > 3 * 12
    assert image.size() == 2 * expected
    assert abs(image.width() - 2 * plot.width()) <= 4 * MARGIN
    assert image.dotsPerMeterX() == round(2 * slide.dpi() / 0.0254)  # placed at the on-screen size
    # None of the widget's controls: their magenta is in the widget's own picture, not in the slide's.
    assert _magenta(export.grab_image(view)) > 100
    assert _magenta(image) == 0
    # The bars are drawn (the chosen token's orange), and so is the caption under the plot.
    plot_bottom = 2 * (MARGIN + plot.height())
    image = image.convertToFormat(QImage.Format_ARGB32)
    assert CHOSEN_COLOR.rgba() in _colours(image, 0, plot_bottom)
    assert len(_colours(image, plot_bottom + 4, image.height())) > 5
    assert image.pixel(4, image.height() - 4) == slide.background().rgba()


def test_the_caption_says_the_prompt_the_step_the_model_and_the_settings(replied):
    window = replied
    name = window.loaded.display_name
    for what in ("chart", "waterfall"):
        text = _caption_text(window, what)
        assert "Name three fruits that are red" in text
        assert "in one short sentence" not in text and "…" in text  # a long prompt is shortened
        assert "step 3 of 6" in text
        assert name in text
        for part in ("temperature 0.7", "top-k 30", "top-p 0.9", "min-p 0.02", "seed 4"):
            assert part in text, part
        assert "raw" not in text
    window.chart.set_mode(RAW)
    assert "the model's raw probabilities" in _caption_text(window, "chart")
    assert "raw probabilities" not in _caption_text(window, "waterfall")


def test_caption_lines_leave_out_what_is_not_known_and_say_off():
    off = SamplerSettings(temperature=0.0, top_k=0, top_p=1.0, min_p=0.0, repeat_penalty=1.2)
    lines = caption_lines("  two\n lines ", None, "Model", off)
    assert lines == (
        "Prompt: “two lines”",
        "model: Model",
        "temperature 0 · top-k off · top-p off · min-p off · repeat ×1.2",
    )
    assert caption_lines("", (1, 1), "", None) == ("step 1 of 1",)
    long = caption_lines("x" * 500, None, "", None)[0]
    assert len(long) == len("Prompt: “”") + PROMPT_CHARS and long.endswith("…”")


def test_an_svg_is_the_plot_alone_with_the_caption_as_text(replied, tmp_path):
    window = replied
    for what in ("chart", "waterfall"):
        path = tmp_path / f"{what}.svg"
        window.workshop.export(f"{what}.svg", path)
        root = ET.parse(path).getroot()
        slide = window.workshop.slide(what)
        assert root.tag == SVG
        assert root.get("viewBox") == f"0 0 {slide.size().width()} {slide.size().height()}"
        texts = [t.text or "" for t in root.iter(f"{SVG_NS}text")]
        for row in slide.caption_rows():
            assert row in texts, row
        joined = " ".join(texts)
        assert "step 3 of 6" in joined and "temperature 0.7" in joined and "%" in joined
        assert "Show top" not in joined and "After sampling" not in joined  # no controls
        assert not list(root.iter(f"{SVG_NS}image"))  # vectors and text, no pictures of them
        assert list(root.iter(f"{SVG_NS}path")) or list(root.iter(f"{SVG_NS}rect"))


def test_copy_the_chart_gives_the_slide(replied, tmp_path):
    window = replied
    window.workshop.export("chart.png", tmp_path / "chart.png")
    saved = QImage(str(tmp_path / "chart.png")).convertToFormat(QImage.Format_ARGB32)
    QGuiApplication.clipboard().clear()
    window.workshop.copy_chart()
    pasted = QGuiApplication.clipboard().image().convertToFormat(QImage.Format_ARGB32)
    assert pasted.size() == saved.size() == 2 * window.workshop.slide("chart").size()
    assert pasted == saved
    assert "clipboard" in window.statusBar().currentMessage()


def test_slides_with_no_step_or_an_unwritable_folder_say_so(window, qtbot, tmp_path):
    workshop = window.workshop
    for kind in ("chart.png", "chart.svg", "waterfall.png", "waterfall.svg"):
        with pytest.raises(OSError, match="There is no step to export yet"):
            workshop.export(kind, tmp_path / kind)
        assert not (tmp_path / kind).exists()
    QGuiApplication.clipboard().clear()
    workshop.copy_chart()
    assert QGuiApplication.clipboard().image().isNull()
    assert "There is no step to export yet" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS):
        window.controller.send("Say yes.")
    missing = tmp_path / "no such folder"
    for kind in ("chart.png", "chart.svg", "waterfall.png", "waterfall.svg"):
        with pytest.raises(OSError, match="Could not write"):
            workshop.export(kind, missing / kind)
