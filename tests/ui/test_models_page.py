"""The Models page's “Download from Hugging Face” tab, against the loopback hub (tests/hubserver.py):
curated list, search and paging, a repository's files with the fit estimate, downloads (queue, cancel,
resume, errors), and the real SmolLM2 GGUF downloaded through the window, registered and loaded."""

from __future__ import annotations

import itertools
import re
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QTreeWidget

from desktop_app.core.engine.gpu import probe_backends
from desktop_app.core.models.download import Downloader
from desktop_app.core.models.hub import CURATED, Hub
from desktop_app.core.models.library import ModelEntry
from desktop_app.core.services import Services
from desktop_app.ui.downloads import REDRAW_INTERVAL_MS
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.widgets.hub_text import VERDICT_COLOURS
from desktop_app.ui.widgets.models import HUB_TAB, LOCAL_TAB, ModelsPanel
from tests.helpers import fake_gguf, sha256_file
from tests.hubserver import HubServer, hub  # noqa: F401  (hub is a fixture)

SMOL_REPO, SMOL_FILE = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "smollm2-135m-instruct-q4_1.gguf"
SMOL_GGUF = {
    "total": 134_515_008,
    "architecture": "llama",
    "context_length": 8192,
    "chat_template": "{{ m }}",
}
MIXED = "tokendice/mixed-GGUF"
WAIT_MS = 20_000
DOWNLOAD_MS = 120_000
LOAD_MS = 60_000
MB = 1_000_000


@pytest.fixture(scope="module")
def backends():
    return probe_backends()


def make_panel(qtbot, backends, tmp_path: Path, **kw) -> ModelsPanel:
    kw.setdefault("downloader", Downloader(tmp_path / "models", backoff_s=0.001))
    panel = ModelsPanel(backends, **kw)
    qtbot.addWidget(panel)
    panel.resize(1440, 320)
    panel.show()
    panel.show_hub()
    return panel


@pytest.fixture
def panel(qtbot, backends, tmp_path: Path):
    p = make_panel(qtbot, backends, tmp_path)
    yield p
    assert p.shutdown(), "a download or hub thread did not end"


def wait_memory(qtbot, panel: ModelsPanel) -> None:
    qtbot.waitUntil(lambda: panel.browser.memory is not None, timeout=WAIT_MS)


def open_files(qtbot, panel: ModelsPanel, repo_id: str) -> None:
    b = panel.browser
    b.open_repo(repo_id)
    qtbot.waitUntil(lambda: b.listing is not None and b.listing.repo_id == repo_id, timeout=WAIT_MS)


def start_download(qtbot, panel: ModelsPanel, repo_id: str, name: str) -> int:
    open_files(qtbot, panel, repo_id)
    assert panel.browser.select_file(name)
    assert panel.browser.download_button.isEnabled()
    panel.browser.download_button.click()
    job = panel.browser.downloads.find(repo_id, name)
    assert job is not None
    return job.id


def job_state(panel: ModelsPanel, job_id: int) -> str:
    return panel.browser.downloads.jobs[job_id].state


def mixed_repo(server: HubServer) -> dict[str, bytes]:
    parts = {f"F16/tiny-F16-0000{i}-of-00003.gguf": fake_gguf(f"split{i}", 1000 * i) for i in (1, 2, 3)}
    files = {
        **parts,
        "tiny-Q8_0.gguf": fake_gguf("q8", 3000),
        "mmproj-tiny-f16.gguf": fake_gguf("proj", 500),
        "half-Q4_K_M-00001-of-00002.gguf": fake_gguf("half", 700),
        "README.md": b"# tiny\n",
    }
    server.add_repo(MIXED, files, gguf=SMOL_GGUF, downloads=3, tags=["license:mit"])
    return files


def all_texts(widget) -> str:
    """Every label and table cell the page shows, as one string."""
    texts = [label.text() for label in widget.findChildren(QLabel)]
    for tree in widget.findChildren(QTreeWidget):
        for i in range(tree.topLevelItemCount()):
            item = tree.topLevelItem(i)
            texts += [item.text(c) + item.toolTip(c) for c in range(tree.columnCount())]
    return "\n".join(texts)


# --- curated and search ------------------------------------------------------------------------------
def test_the_curated_list_shows_before_any_search_with_a_fit_for_this_machine(panel, qtbot):
    b = panel.browser
    assert panel.tabs.currentIndex() == HUB_TAB and b.stack.currentWidget() is b.curated
    assert "Recommended for teaching" in b.results_title.text()
    wait_memory(qtbot, panel)
    rows = b.curated_rows()
    assert [r[0] for r in rows] == [c.repo_id for c in CURATED]
    for i, (row, c) in enumerate(zip(rows, CURATED, strict=True)):
        _model, params, size, fit, why = row
        assert params == c.parameters and size.endswith(("MB", "GB"))
        verdict = fit.split(":")[0]
        assert verdict in ("fits", "tight", "won't fit")
        assert re.fullmatch(r"(fits|tight|won't fit): needs [\d.]+ [MG]B", fit), fit
        assert c.licence in why and c.reason in why
        item = b.curated.topLevelItem(i)
        assert item.foreground(3).color().name() == VERDICT_COLOURS[verdict]
        assert item.toolTip(3).startswith(("Fits:", "Tight:", "Won't fit:"))  # the core's sentence
    assert "free memory" in b.memory_label.full_text() and "GB" in b.memory_label.full_text()
    # A longer context needs more memory, re-judged at once (no new measurement, no hub call).
    before = b.curated_rows()[-1][3]
    panel.ctx.setValue(32768)
    assert b.ctx.value() == 32768 and "32,768" in b.curated.headerItem().text(3)
    assert b.curated_rows()[-1][3] != before


def test_search_shows_results_sorted_and_more_results_pages_through(qtbot, backends, tmp_path, hub):  # noqa: F811
    for i in range(7):
        gguf = SMOL_GGUF if i == 6 else None
        hub.add_repo(
            f"alice/model{i}-GGUF",
            {f"m{i}-Q4_K_M.gguf": fake_gguf(str(i))},
            downloads=1000 * i + 5,
            likes=10 - i,
            gated=(i == 4),
            gguf=gguf,
        )
    hub.add_repo("bob/not-gguf", {"model.safetensors": b"x" * 10}, downloads=10**6)
    panel = make_panel(qtbot, backends, tmp_path, hub=Hub(endpoint=hub.url))
    b = panel.browser
    b.page_size = 3
    try:
        b.search_button.click()
        qtbot.waitUntil(lambda: len(b.result_repos()) == 3, timeout=WAIT_MS)
        assert b.result_repos() == ["alice/model6-GGUF", "alice/model5-GGUF", "alice/model4-GGUF"]
        assert b.stack.currentWidget() is b.results
        first = b.results.topLevelItem(0)
        assert [first.text(c) for c in range(1, 6)] == ["6.0k", "4", "2024-06-01", "135M · llama", "open"]
        assert b.results.topLevelItem(2).text(5) == "gated"
        assert "hf auth login" in b.results.topLevelItem(2).toolTip(5)
        assert b.more_button.isVisible()
        b.more_button.click()
        qtbot.waitUntil(lambda: len(b.result_repos()) == 6, timeout=WAIT_MS)
        b.more_button.click()
        qtbot.waitUntil(lambda: len(b.result_repos()) == 7, timeout=WAIT_MS)
        assert b.result_repos() == [f"alice/model{i}-GGUF" for i in range(6, -1, -1)]
        assert not b.more_button.isVisible() and "7 repositories" in b.results_title.text()
        # Another sort searches again, from the first page.
        b.sort.setCurrentIndex(b.sort.findData("likes"))
        qtbot.waitUntil(lambda: b.result_repos()[:1] == ["alice/model0-GGUF"], timeout=WAIT_MS)
        assert len(b.result_repos()) == 3
        # Words narrow the search; no match says so and points at the curated list.
        b.search.setText("model3")
        b.search.returnPressed.emit()
        qtbot.waitUntil(lambda: b.result_repos() == ["alice/model3-GGUF"], timeout=WAIT_MS)
        b.search.setText("no-such-words")
        b.search_now()
        qtbot.waitUntil(lambda: "No GGUF repositories" in b.results_title.text(), timeout=WAIT_MS)
        assert "Recommended" in b.results_title.text() and not b.notice.isVisible()
        b.curated_button.click()
        assert b.stack.currentWidget() is b.curated
    finally:
        assert panel.shutdown()


def test_a_repository_lists_its_files_with_quantization_size_and_fit(hub, panel, qtbot):  # noqa: F811
    files = mixed_repo(hub)
    b = panel.browser
    open_files(qtbot, panel, MIXED)
    rows = {row[0]: row for row in b.file_rows()}
    assert set(rows) == {
        "tiny-F16-00001-of-00003.gguf (3 parts)",
        "tiny-Q8_0.gguf",
        "mmproj-tiny-f16.gguf",
        "half-Q4_K_M-00001-of-00002.gguf (2 parts)",
    }
    split = rows["tiny-F16-00001-of-00003.gguf (3 parts)"]
    assert split[1] == "F16" and split[2] == f"{sum(1000 * i for i in (1, 2, 3)) / 1000:.1f} KB"
    assert split[3].startswith("fits: needs") and "MB" in split[3]
    q8 = rows["tiny-Q8_0.gguf"]
    assert q8[1] == "Q8_0" and q8[2] == f"{len(files['tiny-Q8_0.gguf']) / 1000:.1f} KB"
    item = b.files.topLevelItem([r[0] for r in b.file_rows()].index("tiny-Q8_0.gguf"))
    assert item.foreground(3).color().name() == VERDICT_COLOURS["fits"]
    assert "Fits: needs about" in item.toolTip(3)
    assert rows["mmproj-tiny-f16.gguf"][3] == "projector (not a model)"
    assert rows["half-Q4_K_M-00001-of-00002.gguf (2 parts)"][3] == "incomplete (1 of 2 parts)"
    assert "mit" in b.repo_title.text() and "135M parameters" in b.repo_title.text()
    # A projector is shown, not downloadable, and the page says why (the core's sentence).
    assert b.select_file("mmproj-tiny-f16.gguf")
    assert not b.download_button.isEnabled() and "vision projector" in b.file_note.text()
    assert b.select_file("half-Q4_K_M-00001-of-00002.gguf")
    assert not b.download_button.isEnabled() and "split into 2 parts" in b.file_note.text()
    assert b.select_file("tiny-Q8_0.gguf") and b.download_button.isEnabled()

    # The fit follows the context size.
    def q8_fit() -> str:
        return {r[0]: r[3] for r in b.file_rows()}["tiny-Q8_0.gguf"]

    before = q8_fit()
    panel.ctx.setValue(65536)
    assert "65,536" in b.files.headerItem().text(3) and q8_fit() != before
    # A model already in the library says so, and is not downloaded again.
    here = ModelEntry(
        "tokendice/mixed-GGUF/tiny-Q8_0", Path("x.gguf"), "downloaded", "tiny-Q8_0", "ok", None, None,
        repo_id=MIXED, filename="tiny-Q8_0.gguf",
    )  # fmt: skip
    panel.set_entries([here], None)
    assert {r[0]: r[4] for r in b.file_rows()}["tiny-Q8_0.gguf"] == "in library"
    assert not b.download_button.isEnabled() and b.download_button.text() == "In the library"


def test_a_curated_model_opens_its_repository_with_the_recommended_file(hub, panel, qtbot):  # noqa: F811
    c = CURATED[0]
    hub.add_repo(c.repo_id, {c.filename: fake_gguf("c"), "other-f16.gguf": fake_gguf("f16", 9000)})
    b = panel.browser
    assert b.hub.endpoint == hub.url and not b.notice.isVisible()
    b.curated.setCurrentItem(b.curated.topLevelItem(0))
    qtbot.waitUntil(lambda: b.listing is not None, timeout=WAIT_MS)
    assert b.selected_file().filename == c.filename and b.download_button.isEnabled()
    assert c.reason in b.repo_title.text()


# --- downloads ---------------------------------------------------------------------------------------
@pytest.fixture
def smol_repo(hub: HubServer, smollm2_path: Path) -> Path:  # noqa: F811
    hub.add_repo(
        SMOL_REPO,
        {SMOL_FILE: smollm2_path, "mmproj-SmolLM2-f16.gguf": fake_gguf("p"), "README.md": b"# SmolLM2\n"},
        downloads=50,
        gguf=SMOL_GGUF,
    )
    return smollm2_path


def test_cancel_keeps_the_part_and_resume_fetches_only_the_rest(hub, smol_repo, panel, qtbot, tmp_path):  # noqa: F811
    size = smol_repo.stat().st_size
    target = (tmp_path / "models").resolve() / SMOL_REPO / SMOL_FILE
    part = target.with_name(target.name + ".part")
    b = panel.browser
    hub.throttle(8 * MB)
    job_id = start_download(qtbot, panel, SMOL_REPO, SMOL_FILE)
    job = b.downloads.jobs[job_id]
    row = b.download_list.rows[job_id]
    qtbot.waitUntil(lambda: job.progress is not None and job.progress.done_bytes > 3 * MB, timeout=WAIT_MS)
    assert " of 98.4 MB" in row.detail.text() and "MB/s" in row.detail.text() and "left" in row.detail.text()
    assert 0 < row.bar.value() < 1000 and {r[0]: r[4] for r in b.file_rows()}[SMOL_FILE] == "downloading"
    row.cancel_button.click()
    qtbot.waitUntil(lambda: job.state == "cancelled", timeout=WAIT_MS)
    kept = part.stat().st_size
    assert 3 * MB < kept < size and not target.exists() and job.kept_bytes == kept
    assert "kept. Resume continues from there." in row.detail.text()
    assert row.resume_button.isVisible() and row.resume_button.text() == "Resume"
    assert not row.cancel_button.isVisible() and "kept" in {r[0]: r[4] for r in b.file_rows()}[SMOL_FILE]
    assert b.download_button.text() == "Resume download"

    hub.throttle(None)
    hub.clear_requests()
    with qtbot.waitSignal(b.download_finished, timeout=DOWNLOAD_MS) as done:
        row.resume_button.click()
    assert done.args[0].path == target and sha256_file(target) == sha256_file(smol_repo)
    assert not part.exists()
    [get] = [r for r in hub.requests if r.method == "GET" and r.server == "cdn"]
    assert (get.range, get.status, get.body_bytes) == (f"bytes={kept}-", 206, size - kept)
    assert row.bar.value() == 1000 and row.detail.text().startswith("Done")


def test_downloads_queue_and_run_one_at_a_time(hub, panel, qtbot):  # noqa: F811
    files = {"a-Q8_0.gguf": fake_gguf("a", 600_000), "b-Q8_0.gguf": fake_gguf("b", 600_000)}
    hub.add_repo("tokendice/two-GGUF", files)
    hub.throttle(2 * MB)
    b = panel.browser
    seen: list[tuple[int, str]] = []
    b.downloads.job_changed.connect(lambda job_id: seen.append((job_id, job_state(panel, job_id))))
    first = start_download(qtbot, panel, "tokendice/two-GGUF", "a-Q8_0.gguf")
    assert b.select_file("b-Q8_0.gguf")
    second = b.download_selected()
    assert job_state(panel, second) == "queued"
    assert "one at a time" in b.download_list.rows[second].detail.text()
    finished = []
    b.download_finished.connect(finished.append)
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=DOWNLOAD_MS)
    assert [f.filename for f in finished] == ["a-Q8_0.gguf", "b-Q8_0.gguf"]
    states = {first: "queued", second: "queued"}
    for job_id, state in seen:
        states[job_id] = state
        assert list(states.values()).count("running") <= 1, seen
    assert (first, "running") in seen and (second, "running") in seen


def test_progress_is_shown_at_display_rate(hub, smol_repo, panel, qtbot):  # noqa: F811
    hub.throttle(40 * MB)
    b = panel.browser
    redraws = []
    b.downloads.job_changed.connect(lambda _id: redraws.append(time.monotonic()))
    start = time.monotonic()
    with qtbot.waitSignal(b.download_finished, timeout=DOWNLOAD_MS):
        start_download(qtbot, panel, SMOL_REPO, SMOL_FILE)
    elapsed = time.monotonic() - start
    assert elapsed > 1.5  # throttled: long enough for the count to mean something
    assert 5 <= len(redraws) <= elapsed * 1000 / REDRAW_INTERVAL_MS + 6, (len(redraws), elapsed)


@pytest.mark.parametrize("fault", ["disk_full", "hash_mismatch"])
def test_a_failed_download_is_a_sentence_with_a_retry(qtbot, backends, tmp_path, hub, fault):  # noqa: F811
    hub.add_repo("tokendice/tiny-GGUF", {"tiny-Q8_0.gguf": fake_gguf("t", 300_000)})
    kw = {"free_space": (lambda _folder: 1000)} if fault == "disk_full" else {}
    if fault == "hash_mismatch":
        hub.corrupt("tiny-Q8_0.gguf", offset=1000)
    panel = make_panel(qtbot, backends, tmp_path, downloader=Downloader(tmp_path / "models", **kw))
    try:
        b = panel.browser
        job_id = start_download(qtbot, panel, "tokendice/tiny-GGUF", "tiny-Q8_0.gguf")
        qtbot.waitUntil(lambda: job_state(panel, job_id) == "failed", timeout=WAIT_MS)
        row = b.download_list.rows[job_id]
        words = {"disk_full": "Not enough disk space", "hash_mismatch": "was corrupted"}[fault]
        assert words in row.error.text() and row.error.isVisible() and "Traceback" not in row.error.text()
        assert row.resume_button.isVisible() and row.resume_button.text() == "Retry"  # nothing kept
        assert "Retry starts from the beginning" in row.detail.text()
        if fault == "hash_mismatch":  # the second try gets good bytes
            with qtbot.waitSignal(b.download_finished, timeout=WAIT_MS):
                row.resume_button.click()
    finally:
        assert panel.shutdown()


# --- refusals ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "hf_not_the_right_secret"])
def test_a_gated_repository_says_how_to_log_in_and_never_shows_the_token(
    hub,  # noqa: F811
    panel,
    qtbot,
    monkeypatch: pytest.MonkeyPatch,
    token: str | None,
):
    if token is not None:
        monkeypatch.setenv("HF_TOKEN", token)
    hub.add_repo("meta/locked-GGUF", {"l-Q4_K_M.gguf": fake_gguf("locked", 5000)}, gated="manual")
    b = panel.browser
    open_files(qtbot, panel, "meta/locked-GGUF")
    assert "gated model" in b.repo_title.text() and "hf auth login" in b.repo_title.text()
    assert b.select_file("l-Q4_K_M.gguf") and "HF_TOKEN" in b.file_note.text()
    b.download_button.click()
    job_id = b.downloads.find("meta/locked-GGUF", "l-Q4_K_M.gguf").id
    qtbot.waitUntil(lambda: job_state(panel, job_id) == "failed", timeout=WAIT_MS)
    row = b.download_list.rows[job_id]
    assert row.error.isVisible() and "gated model" in row.error.text()
    assert f"{hub.url}/meta/locked-GGUF" in row.error.text()
    if token is None:  # not logged in: how to
        assert "`hf auth login`" in row.error.text() and "HF_TOKEN" in row.error.text()
    else:  # logged in, no access yet: accept the licence with that account; the token is never shown
        assert "Accept its licence" in row.error.text()
        assert token not in all_texts(panel)
    assert row.resume_button.isVisible() and row.resume_button.text() == "Retry"


def test_a_missing_repository_and_a_network_failure_are_sentences(qtbot, backends, tmp_path, hub):  # noqa: F811
    panel = make_panel(qtbot, backends, tmp_path, hub=Hub(endpoint=hub.url))
    b = panel.browser
    try:
        b.open_repo("nobody/nothing-GGUF")
        qtbot.waitUntil(b.notice.isVisible, timeout=WAIT_MS)
        assert (
            "does not exist or is private" in b.notice.text() and "could not be read" in b.repo_title.text()
        )
        b.hub = Hub(endpoint="http://127.0.0.1:9", timeout=5)  # nothing listens there
        b.search_now()
        qtbot.waitUntil(lambda: "Could not connect" in b.notice.text(), timeout=WAIT_MS)
        assert (
            "check your internet connection" in b.notice.text() and "did not work" in b.results_title.text()
        )
    finally:
        assert panel.shutdown()


def test_offline_mode_says_so_and_asks_nothing_of_the_hub(qtbot, backends, tmp_path, hub, monkeypatch):  # noqa: F811
    mixed_repo(hub)
    hub.clear_requests()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    panel = make_panel(qtbot, backends, tmp_path, hub=Hub(endpoint=hub.url))
    b = panel.browser
    try:
        assert b.notice.isVisible() and "HF_HUB_OFFLINE" in b.notice.text()
        b.notice.hide()
        b.search_now()
        qtbot.waitUntil(b.notice.isVisible, timeout=WAIT_MS)
        assert "offline" in b.notice.text() and "Unset HF_HUB_OFFLINE" in b.notice.text()
        b.open_repo(MIXED)
        qtbot.waitUntil(lambda: "could not be read" in b.repo_title.text(), timeout=WAIT_MS)
        wait_memory(qtbot, panel)
        assert all(row[3].startswith(("fits", "tight", "won't fit")) for row in b.curated_rows())
        assert hub.requests == []
    finally:
        assert panel.shutdown()


# --- the whole window --------------------------------------------------------------------------------
class Window:
    def __init__(self, qtbot):
        self.services = Services.open()
        self.window = MainWindow(self.services, current=self.services.library.resolve("default"))
        qtbot.addWidget(self.window)
        with qtbot.waitSignal(self.window.model_loaded, timeout=LOAD_MS):
            self.window.show()

    def close(self) -> None:
        self.window.close()
        self.services.close()


def test_a_download_through_the_window_lands_in_the_library_and_loads(
    qtbot,
    hub,  # noqa: F811
    smol_repo,
    tokendice_home,
    monkeypatch: pytest.MonkeyPatch,
):
    w = Window(qtbot)
    registered_on = []
    register = w.services.library.register_download

    def spy(*args, **kw):
        registered_on.append(threading.current_thread())
        return register(*args, **kw)

    monkeypatch.setattr(w.services.library, "register_download", spy)
    try:
        models, b = w.window.models, w.window.models.browser
        w.window.show_models()
        models.show_hub()
        b.search.setText("SmolLM2")
        b.search_now()
        qtbot.waitUntil(lambda: b.result_repos() == [SMOL_REPO], timeout=WAIT_MS)
        b.results.setCurrentItem(b.results.topLevelItem(0))
        qtbot.waitUntil(lambda: b.listing is not None, timeout=WAIT_MS)
        assert b.select_file(SMOL_FILE)
        with qtbot.waitSignal(b.download_finished, timeout=DOWNLOAD_MS):
            b.download_button.click()
        entry = next(e for e in w.services.library.entries() if e.repo_id == SMOL_REPO)
        path = tokendice_home.resolve() / "models" / SMOL_REPO / SMOL_FILE
        assert entry.path == path and entry.source == "downloaded" and entry.usable
        assert registered_on == [threading.main_thread()]  # the library's SQLite thread
        assert sha256_file(path) == sha256_file(smol_repo)
        # Shown, selected, and the user told to press Load.
        assert models.tabs.currentIndex() == LOCAL_TAB and models.list.selected_id() == entry.id
        assert "press Load" in models.message.text() and models.message.isVisible()
        assert {r[0]: r[4] for r in b.file_rows()}[SMOL_FILE] == "in library"
        assert models.load_button.isEnabled()
        with qtbot.waitSignal(w.window.model_loaded, timeout=LOAD_MS) as loaded:
            models.load_button.click()
        assert loaded.args[0].model_id == entry.id and loaded.args[0].path == path
    finally:
        w.close()


def test_closing_the_window_mid_download_ends_quickly_and_keeps_the_part(
    qtbot,
    hub,  # noqa: F811
    smol_repo,
    tokendice_home,
):
    w = Window(qtbot)
    models = w.window.models
    part = tokendice_home.resolve() / "models" / SMOL_REPO / (SMOL_FILE + ".part")
    hub.throttle(5 * MB)
    try:
        start_download(qtbot, models, SMOL_REPO, SMOL_FILE)
        qtbot.waitUntil(lambda: part.exists() and part.stat().st_size > 2 * MB, timeout=WAIT_MS)
    finally:
        started = time.perf_counter()
        w.close()
        elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"closing took {elapsed:.2f} s"
    assert not any(t.name.startswith("tokendice-") for t in threading.enumerate())
    assert part.exists() and part.with_name(part.name + ".json").exists()
    assert not part.with_name(SMOL_FILE).exists()
    job = next(iter(models.browser.downloads.jobs.values()))
    assert job.state == "cancelled" and job.kept_bytes == part.stat().st_size


def test_the_hub_tab_never_blocks_the_gui_thread(hub, panel, qtbot, monkeypatch):  # noqa: F811
    """A slow hub answer (2 s) leaves the event loop running: timers keep firing meanwhile."""
    mixed_repo(hub)
    b = panel.browser
    real = b.hub.repo

    def slow(*args, **kw):
        time.sleep(2.0)
        return real(*args, **kw)

    monkeypatch.setattr(b.hub, "repo", slow)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(50)
    b.open_repo(MIXED)
    assert "Reading the files" in b.repo_title.text()
    qtbot.waitUntil(lambda: b.listing is not None, timeout=WAIT_MS)
    timer.stop()
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    assert len(ticks) >= 20 and max(gaps) < 0.5, f"the event loop stalled {max(gaps):.2f} s"
    assert b.files.topLevelItemCount() == 4
