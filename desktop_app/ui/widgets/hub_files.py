"""The middle pane of the hub browser: one repository's GGUF files, their fit, and the Download button.

Display only: the listing comes from the hub (on a worker thread, through the browser), the fit from a
callback, what is already here from the library and the download queue.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_app.core.engine.fit import FitEstimate
from desktop_app.core.models.hub import ModelFile, RepoFiles
from desktop_app.core.models.library import ModelEntry
from desktop_app.core.units import size_text
from desktop_app.ui.downloads import DownloadManager
from desktop_app.ui.widgets.hub_tables import (
    FILE_COLUMNS,
    FIT_COLUMN,
    HERE_COLUMN,
    file_item,
    make_tree,
    refusal,
    repo_facts,
    show_fit,
    texts,
    top_items,
)
from desktop_app.ui.widgets.hub_text import NOTE_COLOUR

FitFor = Callable[[int, str | None, int | None], FitEstimate | None]  # size, quantization, parameters


class FilesPane(QWidget):
    """A repository's files: name, quantization, size, fit, whether it is here; Download."""

    download_clicked = Signal()

    def __init__(
        self,
        downloads: DownloadManager,
        in_library: Callable[[str, str], ModelEntry | None],
        gated_sentence: Callable[[str], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.downloads = downloads
        self.in_library = in_library
        self.gated_sentence = gated_sentence
        self.listing: RepoFiles | None = None
        self.title = QLabel(self.tr("Select a repository to see its GGUF files."), self)
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)  # the hub's strings are escaped
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tree = make_tree(FILE_COLUMNS, self, stretch=(0,))
        header = self.tree.headerItem()
        header.setToolTip(
            1, self.tr("Quantization: how many bits each weight keeps (Q4_K_M ≈ 4.9, Q8_0 ≈ 8.5, F16 = 16)")
        )
        header.setToolTip(
            FIT_COLUMN, self.tr("Memory it needs at this context size, against what is free now")
        )
        header.setToolTip(
            HERE_COLUMN, self.tr("On this computer: in the library, downloading, or partly downloaded")
        )
        self.note = QLabel(self)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color:{NOTE_COLOUR}")
        self.button = QPushButton(self.tr("Download"), self)
        self.button.setEnabled(False)
        bottom = QHBoxLayout()
        bottom.addWidget(self.note, 1)
        bottom.addWidget(self.button, 0, Qt.AlignmentFlag.AlignTop)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.title)
        column.addWidget(self.tree, 1)
        column.addLayout(bottom)
        self.tree.currentItemChanged.connect(lambda *_: self.update_button())
        self.tree.itemActivated.connect(lambda *_: self.download_clicked.emit())
        self.button.clicked.connect(self.download_clicked)

    # --- what is shown ----------------------------------------------------------------------------
    def show_reading(self, repo_id: str) -> None:
        self.listing = None
        self.tree.clear()
        self.note.clear()
        self.title.setText(self.tr("Reading the files of {repo}…").format(repo=html.escape(repo_id)))
        self.update_button()

    def show_failed(self, repo_id: str) -> None:
        self.title.setText(
            self.tr("The files of {repo} could not be read.").format(repo=html.escape(repo_id))
        )

    def show_listing(
        self, listing: RepoFiles, *, why: str | None, preselect: str | None, fit_for: FitFor
    ) -> None:
        self.listing = listing
        recommended = "<br>" + self.tr("Recommended: {why}").format(why=html.escape(why)) if why else ""
        self.title.setText(repo_facts(listing, self.gated_sentence(listing.repo_id)) + recommended)
        self.tree.clear()
        select = None
        for i, f in enumerate(listing.files):
            item = file_item(i, listing.repo_id, f)
            self.tree.addTopLevelItem(item)
            if preselect and f.loadable and preselect in (f.name, f.filename):
                select = item
        empty = self.tr("{repo} has no GGUF files.").format(repo=listing.repo_id)
        self.note.setText(empty if not listing.files else "")
        self.refit(fit_for, None)
        self.mark()
        if select is not None:
            self.tree.setCurrentItem(select)
        self.update_button()

    def refit(self, fit_for: FitFor, n_ctx: int | None) -> None:
        """Judge every loadable file again (``n_ctx`` also renames the column)."""
        if n_ctx is not None:
            self.tree.headerItem().setText(FIT_COLUMN, self.tr("Fit ({n} tokens)").format(n=f"{n_ctx:,}"))
        if self.listing is None:
            return
        params = self.listing.gguf.parameters if self.listing.gguf else None
        for item in top_items(self.tree):
            f = self.listing.files[item.data(0, Qt.ItemDataRole.UserRole)]
            if f.loadable and f.size is not None:
                show_fit(item, FIT_COLUMN, fit_for(f.size, f.quantization, params))

    def mark(self) -> None:
        """The “Here” column: in the library, queued or downloading, or partly downloaded."""
        if self.listing is None:
            return
        for item in top_items(self.tree):
            f = self.listing.files[item.data(0, Qt.ItemDataRole.UserRole)]
            item.setText(HERE_COLUMN, self._here(f) if f.loadable else "")

    def _here(self, f: ModelFile) -> str:
        repo_id = self.listing.repo_id if self.listing else ""
        if self.in_library(repo_id, f.name) is not None:
            return self.tr("in library")
        job = self.downloads.find(repo_id, f.name)
        if job is not None and job.active:
            if job.state == "queued":
                return self.tr("queued")
            return self.tr("cancelling") if job.state == "cancelling" else self.tr("downloading")
        if self.downloads.part_files(repo_id, f):
            return self.tr("{size} kept").format(size=size_text(self.downloads.kept_bytes(repo_id, f)))
        return ""

    def update_button(self) -> None:
        """Download, Resume download, or why not (a projector, already here, downloading)."""
        f, b = self.selected(), self.button
        b.setText(self.tr("Download"))
        if f is None or self.listing is None:
            b.setEnabled(False)
            if self.listing is not None and self.listing.files:
                self.note.setText(self.tr("Select a file to download it."))
            return
        repo_id = self.listing.repo_id
        reason = refusal(repo_id, f)
        job = self.downloads.find(repo_id, f.name)
        note = ""
        if reason is not None:
            b.setEnabled(False)
            note = reason
        elif self.in_library(repo_id, f.name) is not None:
            b.setEnabled(False)
            b.setText(self.tr("In the library"))
            note = self.tr("Already downloaded: select it on “On this computer” and press Load.")
        elif job is not None and job.active:
            b.setEnabled(False)
            b.setText(self.tr("Downloading…"))
        else:
            b.setEnabled(True)
            if self.downloads.part_files(repo_id, f):
                b.setText(self.tr("Resume download"))
                note = self.tr("Part of it is already here: the download continues from there.")
            if self.listing.gated:
                note = self.gated_sentence(repo_id)
        self.note.setText(note)

    # --- reading it -------------------------------------------------------------------------------
    def rows(self) -> list[tuple[str, ...]]:
        return texts(self.tree)

    def selected(self) -> ModelFile | None:
        item = self.tree.currentItem()
        if item is None or self.listing is None:
            return None
        return self.listing.files[item.data(0, Qt.ItemDataRole.UserRole)]

    def select(self, name: str) -> bool:
        """Select the row of the file ``name`` (its path in the repository or its file name)."""
        if self.listing is None:
            return False
        for item in top_items(self.tree):
            f = self.listing.files[item.data(0, Qt.ItemDataRole.UserRole)]
            if name in (f.name, f.filename):
                self.tree.setCurrentItem(item)
                return True
        return False
