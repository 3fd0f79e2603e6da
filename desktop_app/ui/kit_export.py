"""*File → Export a classroom kit…*: the lesson packs and models a teacher picks, written to a folder (a
USB stick) with the SHA-256 of every file, for the room's machines without internet to import (see
:mod:`desktop_app.core.kit`; ``tokendice kit export`` does the same).

The dialog lists the packs (the teacher's own checked) and the library's models (those the checked
lessons recommend checked, and a line naming any recommended model the library does not have, so the
kit does not leave a seat without it), with the kit's size. The copy runs on a thread of its own and the
status bar says how far it is."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QVBoxLayout,
)

from desktop_app.core.engine.fit import format_bytes
from desktop_app.core.kit import KitManifest, export_kit, missing_recommendations
from desktop_app.core.kit_files import KitError
from desktop_app.core.lesson_packs import BUILTIN, LessonPackError, Pack, PackSource, builtin_pack
from desktop_app.core.models.library import ModelEntry
from desktop_app.ui.background import Background, Task
from desktop_app.ui.lesson_model import model_name

if TYPE_CHECKING:
    from desktop_app.core.lesson_packs import LessonPacks
    from desktop_app.ui.window_host import WindowHost


class KitExportDialog(QDialog):
    """Which packs and models go into the kit."""

    def __init__(self, window: WindowHost, packs: list[Pack | PackSource], models: list[ModelEntry]) -> None:
        super().__init__(window)
        self.language = window.language
        self.setWindowTitle(self.tr("Export a classroom kit"))
        self.packs, self.models = packs, models
        self.pack_list, self.model_list = QListWidget(self), QListWidget(self)
        for pack in packs:
            item = QListWidgetItem(
                self.tr("{name}: {count} lesson(s)").format(
                    name=pack.title(self.language), count=len(pack.lessons)
                )
            )
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if pack.id == BUILTIN else Qt.CheckState.Checked)
            self.pack_list.addItem(item)
        for entry in models:
            size = format_bytes(_size(entry))
            item = QListWidgetItem(f"{entry.display_name} ({size})")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.model_list.addItem(item)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color:#8a5a00")
        self.size_label = QLabel(self)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Export…"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Lesson packs"), self))
        layout.addWidget(self.pack_list)
        layout.addWidget(QLabel(self.tr("Models"), self))
        layout.addWidget(self.model_list)
        for widget in (self.note, self.size_label, self.buttons):
            layout.addWidget(widget)
        self.check_recommended()
        self.pack_list.itemChanged.connect(lambda _item: self.check_recommended())
        self.model_list.itemChanged.connect(lambda _item: self._update())
        self.resize(560, 520)

    def chosen_packs(self) -> list[Pack | PackSource]:
        return [p for i, p in enumerate(self.packs) if _checked(self.pack_list.item(i))]

    def chosen_models(self) -> list[ModelEntry]:
        return [e for i, e in enumerate(self.models) if _checked(self.model_list.item(i))]

    def check_recommended(self) -> None:
        """Check the models the chosen packs' lessons recommend that the library has."""
        rows = {(e.repo_id, e.filename): i for i, e in enumerate(self.models)}
        wanted = {
            (pick.repo_id, pick.filename)
            for pack in self.chosen_packs()
            for lesson in pack.lessons
            for pick in lesson.recommended_models()
        }
        self.model_list.blockSignals(True)
        for key in wanted & rows.keys():
            self.model_list.item(rows[key]).setCheckState(Qt.CheckState.Checked)
        self.model_list.blockSignals(False)
        self._update()

    def _update(self) -> None:
        models = self.chosen_models()
        carried = [(e.repo_id, e.filename or e.path.name) for e in models]
        missing = {model_name(m) for _ref, m in missing_recommendations(self.chosen_packs(), carried)}
        self.note.setText(
            self.tr(
                "Recommended by the chosen lessons and not in the kit: {models}. Download them first "
                "(Models page) to carry them."
            ).format(models=", ".join(sorted(missing)))
            if missing
            else ""
        )
        self.note.setVisible(bool(missing))
        total = sum(_size(e) for e in models)
        self.size_label.setText(
            self.tr("The kit's models: {size}.").format(size=format_bytes(total))
            if models
            else self.tr("The kit carries no model.")
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.chosen_packs() or models))


class KitExport(QObject):
    def __init__(self, window: WindowHost, packs: LessonPacks, menu: QMenu, before: QAction) -> None:
        super().__init__(window)
        self.window, self.packs = window, packs
        self.calls = Background(self, name="tokendice-kit-export", threads=1, sentence=_sentence)
        self.action = QAction(self.tr("Export a classroom kit…"), window)
        self.action.setToolTip(
            self.tr("Lesson packs and models on a folder or USB stick, for a room offline")
        )
        self.action.triggered.connect(self.ask)
        menu.insertAction(before, self.action)
        self._said = -1

    @property
    def busy(self) -> bool:
        return self.calls.busy

    def dialog(self) -> KitExportDialog:
        """The dialog with this home's packs (the built-in lessons among them) and usable models."""
        try:
            installed: list[Pack | PackSource] = [p for p in self.packs.packs() if p.error is None]
        except LessonPackError:
            installed = []
        models = [e for e in self.window.services.library.entries() if e.usable]
        return KitExportDialog(self.window, [*installed, builtin_pack()], models)

    def ask(self) -> None:
        if self.busy:
            self.window.show_status(self.tr("A classroom kit is being exported already."), 8000)
            return
        dialog = self.dialog()
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        folder = QFileDialog.getExistingDirectory(
            self.window, self.tr("The kit's folder (empty, or a USB stick)")
        )
        if folder:
            self.export_to(Path(folder), dialog.chosen_packs(), dialog.chosen_models())

    def export_to(self, folder: Path, packs: list[Pack | PackSource], models: list[ModelEntry]) -> None:
        """Write the kit off the GUI thread; the status bar says how far it is and how it ended."""

        def work(task: Task) -> KitManifest:
            return export_kit(
                folder, packs, models, progress=lambda d, t, w: task.report((d, t, w)), cancel=task.cancelled
            )

        self._said = -1
        self.calls.run(
            work,
            lambda manifest: self._on_done(folder, manifest),
            self._on_failed,
            takes_task=True,
            on_progress=self._on_progress,
        )

    def shutdown(self, timeout: float = 1.0) -> bool:
        return self.calls.shutdown(timeout)

    def _on_progress(self, value: Any) -> None:
        done, total, what = value
        percent = int(100 * done / total) if total else 100
        if percent != self._said:
            self._said = percent
            text = self.tr("Exporting the classroom kit: {percent} % of {size} ({file})…")
            self.window.show_status(text.format(percent=percent, size=format_bytes(total), file=what), 0)

    def _on_done(self, folder: Path, manifest: KitManifest) -> None:
        self.window.show_status(
            self.tr("The classroom kit is in {folder}: {packs} lesson pack(s), {models} model(s).").format(
                folder=folder, packs=len(manifest.packs), models=len(manifest.models)
            ),
            20000,
        )

    def _on_failed(self, sentence: str) -> None:
        self.window.show_status(
            self.tr("The classroom kit was not exported: {error}").format(error=sentence), 30000
        )


def _checked(item: QListWidgetItem | None) -> bool:
    return item is not None and item.checkState() == Qt.CheckState.Checked


def _size(entry: ModelEntry) -> int:
    try:
        return entry.path.stat().st_size
    except OSError:
        return 0


def _sentence(exc: BaseException) -> str:
    if isinstance(exc, KitError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}."
    return str(exc) or type(exc).__name__
