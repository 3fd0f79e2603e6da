"""A lesson that names its model's SHA-256: the offer's link downloads the hub's file only when it is that
file. A file changed on the hub since the lesson was written (another quantization, a fix) is not
downloaded behind the teacher's back: the window says why, and the Models page, where it is selected,
can still download it."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from desktop_app.core.lessons import BY_ID
from desktop_app.core.models.hub import CuratedModel
from desktop_app.ui.widgets.models import HUB_TAB
from tests.hubserver import HubServer, hub  # noqa: F401  (hub is a fixture)
from tests.ui.test_main_window import workshop_on_hub

REPO, FILE = "teacher/Lesson-Model-GGUF", "lesson-model-q4_1.gguf"


@pytest.mark.parametrize("same", [True, False], ids=["the-lessons-file", "changed-on-the-hub"])
def test_the_offer_downloads_the_file_the_lesson_names_and_no_other(
    qtbot,
    hub: HubServer,  # noqa: F811
    smollm2_path: Path,
    same: bool,
):
    hub.add_repo(REPO, {FILE: smollm2_path, "README.md": b"# A lesson's model\n"})
    real = hashlib.sha256(smollm2_path.read_bytes()).hexdigest()
    pinned = real if same else "0" * 64
    pick = CuratedModel(REPO, FILE, smollm2_path.stat().st_size, "135M", "", "", sha256=pinned)
    lesson = replace(next(iter(BY_ID.values())), thinking=None, model=pick, model_languages=(), send=False)
    with workshop_on_hub(qtbot, hub) as w:
        window, workshop, browser = w.window, w.window.workshop, w.window.models.browser
        workshop.open_lesson(lesson)
        label = workshop.lesson_label
        qtbot.waitUntil(lambda: 'href="download"' in label.text(), timeout=20_000)

        label.linkActivated.emit("download")  # the offer's link
        assert window.models.tabs.currentIndex() == HUB_TAB
        qtbot.waitUntil(
            lambda: browser.listing is not None and browser.selected_file() is not None, timeout=20_000
        )
        assert browser.listing.repo_id == REPO and browser.selected_file().filename == FILE
        assert browser.selected_file().sha256 == real  # what the hub says of its file
        if same:
            qtbot.waitUntil(lambda: browser.downloads.find(REPO, FILE) is not None, timeout=20_000)
            return
        qtbot.waitUntil(lambda: "SHA-256 differs" in label.text(), timeout=20_000)
        assert browser.downloads.find(REPO, FILE) is None  # nothing was queued
        assert 'href="download"' not in label.text()
        assert browser.download_button.isEnabled()  # the Models page can still download it
