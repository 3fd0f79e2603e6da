"""The model a lesson is made for: whether the loaded model thinks, and, when the lesson recommends a
curated model the library does not have, a line in the lesson's box offering to download it (with its
size and whether it fits here), or to load it once it is in the library. Nothing here waits or asks in a
dialog: the lesson runs on the loaded model meanwhile.

Whether the loaded model thinks is read from its chat template in use (``lessons.template_thinks``: it
mentions ``<think>`` or ``</think>``): the one it was loaded with, an override set since, or the one the
last rendered prompt used.

The download goes the Models page's own way: the curated model's row opens its repository with the
recommended file selected, and once the files are listed that file is queued as the Download button
does; the fit is the curated list's own estimate (``HubBrowser.fit_for``)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from desktop_app.core.engine.fit import FitEstimate, MemoryState, format_bytes, probe_memory
from desktop_app.core.lessons import Lesson, template_thinks
from desktop_app.core.models.hub import CURATED, CuratedModel, parse_quantization
from desktop_app.core.models.library import ModelEntry
from desktop_app.core.units import parse_parameters
from desktop_app.ui import core_text
from desktop_app.ui.widgets.hub_tables import top_items
from desktop_app.ui.widgets.hub_text import fit_text
from desktop_app.ui.widgets.models import LOCAL_TAB

if TYPE_CHECKING:
    from PySide6.QtWidgets import QTreeWidgetItem

    from desktop_app.core.engine.messages import PromptEvent
    from desktop_app.ui.widgets.hub_browser import HubBrowser
    from desktop_app.ui.window_host import WindowHost
    from desktop_app.ui.workers import LoadedModel

DOWNLOAD, LOAD = "download", "load"  # the links of the offer


class LessonModel(QObject):
    changed = Signal()  # what the lesson's box says about the model may have changed

    def __init__(self, window: WindowHost) -> None:
        super().__init__(window)
        self.window = window
        self._template = ""  # the loaded model's chat template in use
        self._pending: CuratedModel | None = None  # to queue once its repository's files are listed
        # The lessons' models whose file on the hub is not the one the lesson names (its SHA-256).
        self._changed_on_hub: set[tuple[str, str]] = set()
        self._states: dict[int, str] = {}  # the download jobs' states, to redraw on a change only
        window.model_loaded.connect(self._on_loaded)
        window.engine.request_template_override.connect(self._on_override)
        window.engine.worker.rendered.connect(self._on_prompt)
        window.controller.prompt_shown.connect(self._on_prompt)
        window.models.download_finished.connect(self._on_downloaded)
        browser = self.browser
        if browser is not None:
            browser.files_pane.tree.currentItemChanged.connect(self._on_file)
            browser.downloads.job_added.connect(self._on_job)
            browser.downloads.job_changed.connect(self._on_job)

    @property
    def browser(self) -> HubBrowser | None:
        return self.window.models.browser

    # --- the model loaded -------------------------------------------------------------------------
    def thinks(self) -> bool:
        """Whether the loaded model is a thinking one (its chat template in use names the thinking)."""
        return self.window.loaded is not None and template_thinks(self._template)

    def _on_loaded(self, model: LoadedModel) -> None:
        self._template = model.template_source

    def _on_override(self, override: object) -> None:
        # None (back to the model's own template): the prompt rendered next says which one that is.
        if isinstance(override, str):
            self._template = override

    def _on_prompt(self, event: PromptEvent) -> None:
        self._template = event.prompt.template.source_text

    # --- what the lesson's box says ---------------------------------------------------------------
    def note(self, lesson: Lesson, language: str) -> str:
        """The lines (HTML) about the model for ``lesson``: "" when any model does, or the loaded one is
        what it recommends (for a lesson made for a thinking model: the loaded one thinks); else what the
        lesson does on the loaded model meanwhile, and the offer of the model it recommends."""
        pick, loaded = lesson.recommended(language), self.window.loaded
        if pick is None:
            return ""
        thinking = lesson.thinking is not None
        if self.thinks() if thinking else self.is_loaded(pick):
            return ""
        if thinking:
            lines = [html.escape(lesson.fallback(language, loaded.display_name))] if loaded else []
        elif loaded is not None:
            text = self.tr("Made for {model}: it runs on {loaded} meanwhile, and answers differently.")
            lines = [html.escape(text.format(model=model_name(pick), loaded=loaded.display_name))]
        else:
            lines = []
        return "<br>".join([*lines, self._offer(pick, thinking)])

    def is_loaded(self, pick: CuratedModel) -> bool:
        """Whether the loaded model is ``pick`` (its file, downloaded or imported)."""
        entry = self.window.current if self.window.loaded is not None else None
        return entry is not None and _same_file(entry, pick)

    def _offer(self, pick: CuratedModel, thinking: bool) -> str:
        name = html.escape(model_name(pick))
        made = self.tr("Made for a thinking model") if thinking else self.tr("The lesson's model")
        entry = self.entry(pick)
        if entry is not None:
            text = self.tr("{made}: {model} is in the library.").format(made=made, model=name)
            link = html.escape(self.tr("Load it"))
            return f'{text} <a href="{LOAD}">{link}</a>'
        browser = self.browser
        job = browser.downloads.find(pick.repo_id, pick.filename) if browser is not None else None
        if job is not None and job.active:
            text = self.tr("{made}: {model} is downloading (Models page).")
            return text.format(made=made, model=name)
        if _key(pick) in self._changed_on_hub:
            return html.escape(self._changed_text(pick))
        fit = self.fit(pick)
        size = format_bytes(pick.size_bytes)
        if fit is not None:
            text = self.tr("{made}: {model}, {size} ({fit}).")
            text = text.format(made=made, model=name, size=size, fit=html.escape(fit_text(fit)))
        else:
            text = self.tr("{made}: {model}, {size}.").format(made=made, model=name, size=size)
        if browser is None:
            return text
        link = html.escape(self.tr("Download it"))
        return f'{text} <a href="{DOWNLOAD}">{link}</a>'

    def entry(self, pick: CuratedModel) -> ModelEntry | None:
        """The library's entry of ``pick``: downloaded from its repository, or its file imported."""
        for e in self.window.services.library.entries():
            if _same_file(e, pick):
                return e
        return None

    def fit(self, pick: CuratedModel) -> FitEstimate | None:
        """The curated list's fit estimate for ``pick`` (None while the free memory is measured)."""
        browser = self.browser
        if browser is None:
            return None
        quantization = parse_quantization(pick.filename)
        parameters = parse_parameters(pick.parameters) if pick.parameters else None
        fit = browser.fit_for(pick.size_bytes, quantization, parameters)
        if fit is None and not browser.calls.closed:
            backends = browser.backends
            browser.calls.run(
                "lesson-memory",
                lambda: probe_memory(backends, probe_gpu=False),
                self._on_memory,
                lambda _sentence: None,  # no fit then: the size alone is offered
            )
        return fit

    def _on_memory(self, memory: MemoryState) -> None:
        browser = self.browser
        if browser is not None and browser.memory is None:
            browser.memory = memory  # the page's estimates too, measured now
            browser.refit()
        self.changed.emit()

    # --- the offer's links ------------------------------------------------------------------------
    def download(self, pick: CuratedModel) -> None:
        """Download ``pick`` as the Models page does: its curated row opens its repository with the file
        selected, and the file is queued once listed (see ``_on_file``)."""
        w, browser = self.window, self.browser
        if browser is None:
            return
        w.show_dock("models")
        w.models.show_hub()
        browser.show_curated()
        if browser.hub.offline:  # the page says so, and how to bring the file in instead
            return
        self._pending = pick
        rows = top_items(browser.curated)
        key = (pick.repo_id, pick.filename)
        row = next((i for i in rows if _key(CURATED[i.data(0, Qt.ItemDataRole.UserRole)]) == key), None)
        if row is None:  # a model a lesson pack names, not a curated one: its repository opened directly
            browser.open_repo(pick.repo_id, preselect=pick.filename)
        elif browser.curated.currentItem() is row:  # already chosen: no change to start the listing
            why = core_text.curated_reason(pick.reason)
            browser.open_repo(pick.repo_id, preselect=pick.filename, why=why)
        else:
            browser.curated.setCurrentItem(row)

    def load(self, pick: CuratedModel) -> None:
        """Load ``pick`` from the library as the Models page's Load button does."""
        entry, models = self.entry(pick), self.window.models
        if entry is None:
            return
        self.window.show_dock("models")
        models.tabs.setCurrentIndex(LOCAL_TAB)
        if models.list.select(entry.id) and models.load_button.isEnabled():
            models.load_button.click()

    def _on_file(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        """A file of a listed repository was selected: the one a download was asked for is queued."""
        pick, browser = self._pending, self.browser
        if pick is None or browser is None or current is None or browser.listing is None:
            return  # (a listing being cleared for the next)
        self._pending = None
        selected = browser.selected_file()
        if browser.listing.repo_id != pick.repo_id or selected is None or selected.filename != pick.filename:
            return
        if pick.sha256 is not None and selected.sha256 is not None and selected.sha256 != pick.sha256:
            self._changed_on_hub.add(_key(pick))  # not the lesson's file: the user decides, not the link
            self.changed.emit()  # the lesson's box says so
            return
        if browser.download_selected() is not None:
            text = self.tr("{file} ({size}) is downloading: the Models page shows how far it is.")
            size = format_bytes(pick.size_bytes)
            self.window.show_status(text.format(file=pick.filename, size=size), 10000)

    def _changed_text(self, pick: CuratedModel) -> str:
        text = self.tr(
            "The hub's {file} is not the file this lesson was made with (its SHA-256 differs), so it was "
            "not downloaded. To use it anyway, download it on the Models page, where it is selected."
        )
        return text.format(file=pick.filename)

    def _on_job(self, job_id: int) -> None:
        browser = self.browser
        job = browser.downloads.jobs.get(job_id) if browser is not None else None
        if job is None or self._states.get(job_id) == job.state:
            return  # not on every progress redraw
        self._states[job_id] = job.state
        self.changed.emit()  # (it may be the lesson's model: the box says where it is)

    def _on_downloaded(self, _fetched: object) -> None:
        # After the window has taken the download into the library (its slot runs after this one).
        QTimer.singleShot(0, self.changed.emit)


def _key(model: CuratedModel) -> tuple[str, str]:
    return model.repo_id, model.filename


def _same_file(entry: ModelEntry, pick: CuratedModel) -> bool:
    """Whether the library's ``entry`` is ``pick``: downloaded from its repository, or its file imported."""
    return (entry.repo_id, entry.filename) == _key(pick) or entry.path.name == pick.filename


def model_name(pick: CuratedModel) -> str:
    """``Qwen3-0.6B`` for ``Qwen/Qwen3-0.6B-GGUF``."""
    return pick.repo_id.split("/")[-1].removesuffix("-GGUF")
