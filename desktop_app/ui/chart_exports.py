"""The step shown, out of the window: the chart or the sampler stages as a PNG or SVG slide (the plot alone,
with a caption), the distribution as a CSV table, and the chart's slide on the clipboard; from the File
menu."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QStandardPaths
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from desktop_app.ui.widgets import export
from desktop_app.ui.widgets.prob_chart import RAW
from desktop_app.ui.widgets.slide import caption_font, caption_lines, prompt_before, settle
from desktop_app.ui.widgets.waterfall import WaterfallView

if TYPE_CHECKING:
    from desktop_app.ui.window_host import WindowHost

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls
SLIDE_SCALE = 2.0  # exported and copied images: twice the on-screen size, sharp on a projector


class ChartExports(QObject):
    def __init__(self, window: WindowHost, waterfall: WaterfallView) -> None:
        super().__init__(window)
        self.window = window
        self.waterfall = waterfall
        self._dirs: dict[bool, Path] = {}  # where the last image / table was saved

    def add_actions(self, menu: QMenu) -> None:
        """The exports and "Copy the chart", after a separator."""
        menu.addSeparator()
        for text, kind in (
            (translate("Workshop", "Export the chart as PNG…"), "chart.png"),
            (translate("Workshop", "Export the chart as SVG…"), "chart.svg"),
            (translate("Workshop", "Export the sampler stages as PNG…"), "waterfall.png"),
            (translate("Workshop", "Export the sampler stages as SVG…"), "waterfall.svg"),
            (translate("Workshop", "Export the distribution as CSV…"), "distribution.csv"),
        ):
            action = QAction(text, self.window)
            action.triggered.connect(lambda _c=False, kind=kind: self.ask_export(kind))
            menu.addAction(action)
        copy = QAction(translate("Workshop", "Copy the chart"), self.window)
        copy.setShortcut(QKeySequence("Ctrl+Shift+C"))
        copy.triggered.connect(self.copy_chart)
        menu.addAction(copy)

    def export(self, kind: str, path: str | Path) -> None:
        """Write ``kind`` (chart.png / .svg, waterfall.png / .svg, distribution.csv) to ``path``."""
        w = self.window
        what, _, fmt = kind.partition(".")
        if what == "distribution":
            d = w.chart.step()
            if d is None or w.engine.vocab is None:
                raise OSError(_no_step())
            export.export_csv(d, path, w.engine.piece, w.shown_pending)
            return
        slide = self.slide(what)
        if fmt == "svg":
            export.export_svg(slide, path)
        else:
            export.export_png(slide, path, scale=SLIDE_SCALE)

    def slide(self, what: str = "chart") -> export.Slide:
        """The chart's (or the sampler stages') plot alone, as a slide shows it, with a caption: the
        prompt, the step, the model and the settings. ``OSError`` when there is no step yet."""
        w = self.window
        if w.chart.step() is None:
            raise OSError(_no_step())
        view = w.chart if what == "chart" else self.waterfall
        if not view.in_view():  # behind another dock's tab, or never opened: shown, to be laid out
            w.show_dock(what)
        settle(view)  # the latest step drawn now, with no bars mid-glide
        at = w.controller.token_at(w.shown_token) if w.shown_token is not None else None
        prompt = prompt_before(w.controller.messages, at[0] if at is not None else None)
        model = w.loaded.display_name if w.loaded is not None else ""
        raw = view is w.chart and w.chart.mode() == RAW
        caption = caption_lines(prompt, w.chart.where(), model, w.sampling.settings(), raw=raw)
        return export.Slide(view.plot, caption, caption_font(view))

    def export_start(self, kind: str) -> Path:
        """Where the save dialog for ``kind`` opens: the folder last saved to (for a run of slides), else
        Pictures for an image and Documents for a table, not the app's working folder."""
        image = not kind.endswith(".csv")
        folder = self._dirs.get(image)
        if folder is None:
            locations = QStandardPaths.StandardLocation
            where = locations.PicturesLocation if image else locations.DocumentsLocation
            located = QStandardPaths.writableLocation(where)
            folder = Path(located) if located and Path(located).is_dir() else Path.home()
        return folder / f"tokendice-{kind}"

    def ask_export(self, kind: str) -> None:
        suffix = kind.rsplit(".", 1)[1]
        path, _ = QFileDialog.getSaveFileName(
            self.window,
            translate("Workshop", "Export"),
            str(self.export_start(kind)),
            translate("Workshop", "{kind} (*.{suffix})").format(kind=suffix.upper(), suffix=suffix),
        )
        if not path:
            return
        try:
            self.export(kind, path)
        except OSError as exc:
            self.window.show_status(str(exc), 10000)
            return
        self._dirs[not kind.endswith(".csv")] = Path(path).parent
        self.window.show_status(translate("Workshop", "Saved %1").replace("%1", path), 8000)

    def copy_chart(self) -> None:
        """The chart as the PNG export draws it (the plot alone, with its caption) on the clipboard."""
        try:
            slide = self.slide("chart")
        except OSError as exc:
            self.window.show_status(str(exc), 10000)
            return
        export.copy_image(slide, scale=SLIDE_SCALE)
        self.window.show_status(translate("Workshop", "The chart is on the clipboard."), 6000)


def _no_step() -> str:
    return translate("Workshop", "There is no step to export yet: generate a token first.")
