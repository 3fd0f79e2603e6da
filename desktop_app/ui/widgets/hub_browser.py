"""“Download from Hugging Face”: search GGUF repositories, see a repository's files with a fit estimate
for this machine, and download them (queued, resumable) — the Models page's second tab.

Every hub call runs on a worker thread (:class:`~desktop_app.ui.hub_calls.HubCalls`), every download on
the download queue's (:class:`~desktop_app.ui.downloads.DownloadManager`); this widget only shows what
comes back. The fit arithmetic is the core's (``requirements_rough`` and ``judge``), against the free
memory measured off the GUI thread; changing the context size re-judges without a new measurement.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import cast

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.fit import FitEstimate, MemoryState, judge, probe_memory, requirements_rough
from desktop_app.core.engine.gpu import BackendInfo
from desktop_app.core.models.download import Downloader
from desktop_app.core.models.hub import (
    CURATED,
    Hub,
    ModelFile,
    RepoFiles,
    SearchPage,
    parse_quantization,
)
from desktop_app.core.models.library import ModelEntry
from desktop_app.core.units import parse_parameters
from desktop_app.ui import core_text
from desktop_app.ui.downloads import DownloadManager
from desktop_app.ui.hub_calls import HubCalls
from desktop_app.ui.widgets.download_list import DownloadList, ElidedLabel
from desktop_app.ui.widgets.hub_files import FilesPane
from desktop_app.ui.widgets.hub_tables import (
    CURATED_COLUMNS,
    CURATED_FIT,
    RESULT_COLUMNS,
    fill_curated,
    make_tree,
    memory_text,
    result_item,
    show_fit,
    texts,
    top_items,
)
from desktop_app.ui.widgets.hub_text import ERROR_COLOUR, NOTE_COLOUR

# English labels, translated when shown (context "HubBrowser").
# QT_TRANSLATE_NOOP returns its message; the cast says so where PySide6's stub says ``object``.
SORTS = cast(
    tuple[tuple[str, str], ...],
    (
        (QT_TRANSLATE_NOOP("HubBrowser", "Most downloaded"), "downloads"),
        (QT_TRANSLATE_NOOP("HubBrowser", "Most liked"), "likes"),
        (QT_TRANSLATE_NOOP("HubBrowser", "Recently updated"), "modified"),
        (QT_TRANSLATE_NOOP("HubBrowser", "Trending"), "trending"),
    ),
)


class HubBrowser(QWidget):
    """Search, curated list, a repository's files, and the downloads list."""

    download_finished = Signal(object)  # FetchedModel, on the GUI thread: register it in the library
    show_requested = Signal(object)  # FetchedModel: show it in the library

    def __init__(
        self,
        downloader: Downloader,
        *,
        hub: Hub | None = None,
        backends: BackendInfo | None = None,
        page_size: int = 30,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.hub = hub or Hub()
        self.backends = backends
        self.page_size = page_size
        self.calls = HubCalls(self)
        self.downloads = DownloadManager(downloader, self)
        self.memory: MemoryState | None = None
        self.next_cursor: str | None = None
        self._searched = False
        self._library: dict[tuple[str, str], ModelEntry] = {}
        self._job_states: dict[int, str] = {}
        self._build()
        self._wire()
        self._fill_curated()
        if self.hub.offline:
            self.show_notice(core_text.offline_sentence(), error=False)

    # --- construction -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.notice = QLabel(self)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)  # the core's sentences, shown as they are
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.hide()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(self.tr("Search GGUF models on Hugging Face, e.g. qwen 0.5b instruct"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(120)
        self.sort = QComboBox(self)
        for label, key in SORTS:
            self.sort.addItem(QCoreApplication.translate("HubBrowser", label), key)
        self.search_button = QPushButton(self.tr("Search"), self)
        self.curated_button = QPushButton(self.tr("Recommended"), self)
        self.curated_button.setToolTip(self.tr("Small instruct models picked for teaching"))
        self.ctx = QSpinBox(self)
        self.ctx.setRange(256, 1_048_576)
        self.ctx.setSingleStep(1024)
        self.ctx.setValue(4096)
        self.ctx.setSuffix(self.tr(" tokens"))
        self.ctx.setToolTip(self.tr("The context size the fit estimates are for (the same as for Load)"))
        top = QHBoxLayout()
        top.addWidget(self.search, 4)
        top.addWidget(self.sort)
        top.addWidget(self.search_button)
        top.addWidget(self.curated_button)
        top.addSpacing(12)
        top.addWidget(QLabel(self.tr("Fit for"), self))
        top.addWidget(self.ctx)
        self.memory_label = ElidedLabel(self)
        self.memory_label.setMinimumWidth(60)
        top.addWidget(self.memory_label, 1)

        left = QWidget(self)
        self.results_title = QLabel(self.tr("<b>Recommended for teaching</b>"), left)
        self.results_title.setTextFormat(Qt.TextFormat.RichText)  # with the query escaped
        self.results_title.setWordWrap(True)
        self.stack = QStackedWidget(left)
        self.curated = make_tree(CURATED_COLUMNS, self.stack, stretch=(0,))
        self.curated.setUniformRowHeights(False)
        self.curated.setItemsExpandable(False)
        self.curated.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.results = make_tree(RESULT_COLUMNS, self.stack, stretch=(0,))
        self.stack.addWidget(self.curated)
        self.stack.addWidget(self.results)
        self.more_button = QPushButton(self.tr("More results"), left)
        self.more_button.hide()
        lc = QVBoxLayout(left)
        lc.setContentsMargins(0, 0, 0, 0)
        lc.addWidget(self.results_title)
        lc.addWidget(self.stack, 1)
        lc.addWidget(self.more_button)

        self.files_pane = FilesPane(self.downloads, self.in_library, self.gated_sentence, self)
        # The pane's widgets, by the names the page (and its tests) read them.
        self.files, self.repo_title = self.files_pane.tree, self.files_pane.title
        self.file_note, self.download_button = self.files_pane.note, self.files_pane.button

        right = QWidget(self)
        self.download_list = DownloadList(right)
        rc = QVBoxLayout(right)
        rc.setContentsMargins(0, 0, 0, 0)
        rc.addWidget(QLabel(self.tr("<b>Downloads</b>"), right))
        rc.addWidget(self.download_list, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        for pane in (left, self.files_pane, right):
            self.splitter.addWidget(pane)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setStretchFactor(2, 3)
        self.splitter.setSizes([580, 560, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.notice)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)

    def _wire(self) -> None:
        self.search.returnPressed.connect(self.search_now)
        self.search_button.clicked.connect(self.search_now)
        self.sort.currentIndexChanged.connect(lambda _i: self._searched and self.search_now())
        self.curated_button.clicked.connect(self.show_curated)
        self.more_button.clicked.connect(self.more)
        self.results.currentItemChanged.connect(lambda item, _old: item and self.open_repo(item.text(0)))
        self.curated.currentItemChanged.connect(self._on_curated)
        self.files_pane.download_clicked.connect(self.download_selected)
        self.ctx.valueChanged.connect(lambda _v: self.refit())
        d = self.downloads
        d.job_added.connect(self._on_job)
        d.job_changed.connect(self._on_job)
        d.job_removed.connect(self._on_job_removed)
        d.download_finished.connect(lambda _id, fetched: self.download_finished.emit(fetched))
        lst = self.download_list
        lst.cancel_requested.connect(d.cancel)
        lst.resume_requested.connect(d.resume)
        lst.remove_requested.connect(d.remove)
        lst.show_requested.connect(self._on_show)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.memory is None and not self.calls.closed:
            self.measure_memory()

    # --- state from outside -----------------------------------------------------------------------
    def set_library(self, entries: Sequence[ModelEntry]) -> None:
        """The models in the library, to mark files and curated models that are already here."""
        self._library = {}
        for e in entries:
            if e.repo_id and e.filename:
                self._library[(e.repo_id, e.filename)] = e
        self.files_pane.mark()
        self._fill_curated_marks()
        self.files_pane.update_button()

    def gated_sentence(self, repo_id: str) -> str:
        """What to do about a gated repository, in the interface's language."""
        return core_text.gated_sentence(self.hub, repo_id)

    def in_library(self, repo_id: str, name: str) -> ModelEntry | None:
        return self._library.get((repo_id, name)) or self._library.get((repo_id, name.rsplit("/", 1)[-1]))

    def show_notice(self, text: str, *, error: bool = True) -> None:
        self.notice.setStyleSheet(f"color:{ERROR_COLOUR if error else NOTE_COLOUR}")
        self.notice.setText(text)
        self.notice.show()

    def clear_notice(self) -> None:
        self.notice.hide()
        self.notice.clear()

    # --- memory and fit ---------------------------------------------------------------------------
    def measure_memory(self) -> None:
        backends = self.backends
        self.calls.run(
            "memory",
            lambda: probe_memory(backends, probe_gpu=False),
            self._on_memory,
            lambda sentence: self.show_notice(
                self.tr("The free memory could not be measured: {error}").format(error=sentence)
            ),
        )

    def _on_memory(self, memory: MemoryState) -> None:
        self.memory = memory
        self.refit()

    def fit_for(self, size: int, quantization: str | None, parameters: int | None) -> FitEstimate | None:
        if self.memory is None:
            return None
        req = requirements_rough(size, self.ctx.value(), parameters=parameters, quantization=quantization)
        return judge(req, self.memory)

    def refit(self) -> None:
        """Re-judge every shown file and curated model for the context size and the measured memory."""
        n_ctx = self.ctx.value()
        self.curated.headerItem().setText(
            CURATED_FIT, self.tr("Fit here ({n} tokens)").format(n=f"{n_ctx:,}")
        )
        memory = memory_text(self.memory) if self.memory else self.tr("measuring free memory…")
        self.memory_label.set_full_text(memory)
        tip = self.tr("What the fit estimates are judged against, measured now: {memory}")
        self.memory_label.setToolTip(tip.format(memory=memory))
        for item in top_items(self.curated):
            c = CURATED[item.data(0, Qt.ItemDataRole.UserRole)]
            fit = self.fit_for(c.size_bytes, parse_quantization(c.filename), parse_parameters(c.parameters))
            show_fit(item, CURATED_FIT, fit)
        self.files_pane.refit(self.fit_for, n_ctx)

    # --- curated ----------------------------------------------------------------------------------
    def _fill_curated(self) -> None:
        fill_curated(self.curated)
        self.refit()

    def _fill_curated_marks(self) -> None:
        for item in top_items(self.curated):
            c = CURATED[item.data(0, Qt.ItemDataRole.UserRole)]
            here = self.in_library(c.repo_id, c.filename) is not None
            item.setText(0, ("✓ " if here else "") + c.repo_id)
            tip = self.tr("{repo}\nrecommended file: {file}").format(repo=c.repo_id, file=c.filename)
            item.setToolTip(0, tip + ("\n" + self.tr("in the library") if here else ""))

    def show_curated(self) -> None:
        self.stack.setCurrentWidget(self.curated)
        self.results_title.setText(
            self.tr("<b>Recommended for teaching</b> — small instruct models, smallest first")
        )
        self.more_button.hide()
        self._searched = False

    def curated_rows(self) -> list[tuple[str, ...]]:
        """Each curated model's cells, and last the line with its licence and why it is recommended."""
        rows = texts(self.curated)
        reasons = []
        for item in top_items(self.curated):
            why = item.child(0)
            assert why is not None, "every curated row holds the line about it"
            reasons.append(why.text(0))
        return [(*row, why) for row, why in zip(rows, reasons, strict=True)]

    def _on_curated(self, item: QTreeWidgetItem | None, _old: object) -> None:
        if item is not None:
            c = CURATED[item.data(0, Qt.ItemDataRole.UserRole)]
            self.open_repo(c.repo_id, preselect=c.filename, why=core_text.curated_reason(c.reason))

    # --- search -----------------------------------------------------------------------------------
    def search_now(self) -> None:
        query, sort = self.search.text().strip(), self.sort.currentData()
        self._searched = True
        self.stack.setCurrentWidget(self.results)
        self.results.clear()
        self.more_button.hide()
        if query:
            self.results_title.setText(self.tr("Searching for “{query}”…").format(query=html.escape(query)))
        else:
            self.results_title.setText(self.tr("Searching…"))
        hub, limit = self.hub, self.page_size
        self.calls.run(
            "search",
            lambda: hub.search(query, sort=sort, limit=limit),
            lambda page: self._show_page(page, query, append=False),
            self._search_failed,
        )

    def more(self) -> None:
        cursor, hub = self.next_cursor, self.hub
        if cursor is None:
            return
        query = self.search.text().strip()
        self.more_button.setEnabled(False)
        self.more_button.setText(self.tr("Loading more…"))
        self.calls.run(
            "search",
            lambda: hub.search(cursor=cursor),
            lambda page: self._show_page(page, query, append=True),
            self._search_failed,
        )

    def _show_page(self, page: SearchPage, query: str, *, append: bool) -> None:
        self.clear_notice()
        if not append:
            self.results.clear()
        for r in page.results:
            item = result_item(r, self.gated_sentence(r.repo_id) if r.gated else "")
            self.results.addTopLevelItem(item)
        n = self.results.topLevelItemCount()
        q, sort = html.escape(query), html.escape(self.sort.currentText().lower())
        if n == 0 and query:
            text = self.tr(
                "No GGUF repositories for “{query}”. Try other words, or press Recommended for models picked "
                "for teaching."
            )
        elif n == 0:
            text = self.tr(
                "No GGUF repositories. Try other words, or press Recommended for models picked for teaching."
            )
        elif query and page.next is not None:
            text = self.tr("<b>{n} repositories</b> for “{query}” ({sort}, more available)")
        elif query:
            text = self.tr("<b>{n} repositories</b> for “{query}” ({sort})")
        elif page.next is not None:
            text = self.tr("<b>{n} repositories</b> ({sort}, more available)")
        else:
            text = self.tr("<b>{n} repositories</b> ({sort})")
        self.results_title.setText(text.format(n=n, query=q, sort=sort))
        self.next_cursor = page.next
        self.more_button.setVisible(page.next is not None)
        self.more_button.setEnabled(True)
        self.more_button.setText(self.tr("More results"))

    def _search_failed(self, sentence: str) -> None:
        self.show_notice(sentence)
        self.results_title.setText(self.tr("The search did not work (see above)."))
        self.more_button.setEnabled(True)
        self.more_button.setText(self.tr("More results"))

    def result_repos(self) -> list[str]:
        return [row[0] for row in texts(self.results)]

    # --- a repository's files ---------------------------------------------------------------------
    @property
    def listing(self) -> RepoFiles | None:
        return self.files_pane.listing

    def open_repo(self, repo_id: str, preselect: str | None = None, why: str | None = None) -> None:
        """List the GGUF files of ``repo_id`` (off the GUI thread); ``preselect`` a file, say ``why`` it
        is recommended."""
        self.files_pane.show_reading(repo_id)
        hub, backends = self.hub, self.backends
        self.calls.run(
            "files",
            lambda: (hub.repo(repo_id), probe_memory(backends, probe_gpu=False)),
            lambda answer: self._show_files(answer, why, preselect),
            lambda sentence: self._files_failed(repo_id, sentence),
        )

    def _files_failed(self, repo_id: str, sentence: str) -> None:
        self.files_pane.show_failed(repo_id)
        self.show_notice(sentence)

    def _show_files(
        self, answer: tuple[RepoFiles, MemoryState], why: str | None, preselect: str | None
    ) -> None:
        listing, self.memory = answer
        self.clear_notice()
        self.files_pane.show_listing(listing, why=why, preselect=preselect, fit_for=self.fit_for)
        self.refit()

    def file_rows(self) -> list[tuple[str, ...]]:
        return self.files_pane.rows()

    def selected_file(self) -> ModelFile | None:
        return self.files_pane.selected()

    def select_file(self, name: str) -> bool:
        return self.files_pane.select(name)

    # --- downloads --------------------------------------------------------------------------------
    def download_selected(self) -> int | None:
        """Queue the selected file; returns the job id (None when nothing downloadable is selected)."""
        f = self.selected_file()
        if f is None or self.listing is None or not self.download_button.isEnabled():
            return None
        listing = self.listing
        job_id = self.downloads.submit(listing.repo_id, f, listing.commit or listing.revision)
        self.files_pane.update_button()
        return job_id

    def _on_job(self, job_id: int) -> None:
        job = self.downloads.jobs.get(job_id)
        if job is None:
            return
        self.download_list.show_job(job)
        changed = self._job_states.get(job_id) != job.state
        self._job_states[job_id] = job.state
        if changed and self.listing is not None and job.repo_id == self.listing.repo_id:
            self.files_pane.mark()  # on a change of state, not on every progress redraw
            self.files_pane.update_button()

    def _on_job_removed(self, job_id: int) -> None:
        self.download_list.remove_job(job_id)

    def _on_show(self, job_id: int) -> None:
        job = self.downloads.jobs.get(job_id)
        if job is not None and job.result is not None:
            self.show_requested.emit(job.result)

    # --- the end ----------------------------------------------------------------------------------
    def shutdown(self, timeout: float = 1.5) -> bool:
        """Cancel the downloads (their ``.part`` files are kept) and stop the hub calls; True if every
        thread ended in time."""
        downloads = self.downloads.shutdown(timeout)
        calls = self.calls.shutdown(0.3)
        return downloads and calls
