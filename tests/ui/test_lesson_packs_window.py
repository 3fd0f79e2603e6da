"""Lesson packs in the window: opened from a folder, a .zip or a drop, each under its own menu in Lessons
and there again at the next start; a broken pack adds nothing and says what is wrong (file, line,
field); *Save this setup as a lesson…* written into *My lessons* and opened again to the same setup; a
pack lesson's recommended model offered with its size and downloaded from the tests' loopback hub."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop_app.core.kit import export_kit, verify_kit
from desktop_app.core.lesson_files import parse_lesson
from desktop_app.core.lesson_packs import MINE, LessonPacks
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.services import Services
from desktop_app.paths import AppPaths
from desktop_app.ui.save_lesson import SaveLessonDialog, current_setup
from tests.helpers import sha256_file
from tests.hubserver import HubServer, hub  # noqa: F401  (hub is a fixture)
from tests.ui.test_main_window import Opened, workshop_on_hub

REPLY_MS = 120_000
LOAD_MS = 60_000
DOWNLOAD_MS = 120_000

LESSON = """\
id = "{id}"
view = "{view}"
mode = "chat"
max_tokens = 6

[title]
en = "{title}"

[explanation]
en = "What {title} shows."

[prompt]
en = "{prompt}"

[settings]
temperature = 0.5
seed = 11
"""


def _pack(folder: Path, name: str, lessons: list[dict[str, str]]) -> Path:
    folder.mkdir(parents=True)
    (folder / "pack.toml").write_text(f'name = "{name}"\n', encoding="utf-8")
    for fields in lessons:
        (folder / f"{fields['id']}.toml").write_text(LESSON.format(**fields), encoding="utf-8")
    return folder


def _menu_titles(menu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_a_pack_gets_its_own_menu_runs_its_lessons_is_there_at_the_next_start_and_a_broken_one_adds_nothing(
    qtbot, tmp_path: Path
):
    folder = _pack(
        tmp_path / "physics",
        "Physics 101",
        [
            {"id": "gravity", "view": "die", "title": "Gravity", "prompt": "What goes up"},
            {"id": "light", "view": "chart", "title": "Light", "prompt": "Light travels"},
        ],
    )
    zipped = tmp_path / "poems.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("poems/rhyme.toml", LESSON.format(id="rhyme", view="chart", title="Rhyme", prompt="Roses"))
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    (broken / "pack.toml").write_text('name = "Broken"\n', encoding="utf-8")
    light = broken / "light.toml"
    light.write_text(light.read_text(encoding="utf-8").replace("= 0.5", "= 'hot'"), encoding="utf-8")

    w = Opened(qtbot)
    try:
        window, workshop = w.window, w.window.workshop
        menu = workshop.lesson_menu
        built_in = len(menu.lesson_actions)
        assert menu.open_pack(folder) is not None
        sub = menu.pack_menus["physics-101"]
        assert sub.title() == "Physics 101"
        assert _menu_titles(sub)[:2] == ["1. Gravity", "2. Light"]
        assert "Physics 101" in window.statusBar().currentMessage()
        with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS):
            sub.actions()[0].trigger()
        assert workshop.lesson is not None and workshop.lesson.id == "gravity"
        assert window.controller.messages[0].content == "What goes up"
        assert window.sampling.settings().temperature == 0.5 and window.sampling.settings().seed == 11
        qtbot.waitUntil(lambda: not workshop.die.visibleRegion().isEmpty(), timeout=3000)  # its view

        # A .zip dropped on the window (a folder inside it), and a broken pack that adds nothing.
        window.open_dropped([str(zipped)])
        assert _menu_titles(menu.pack_menus["poems"])[0] == "1. Rhyme"
        assert menu.open_pack(broken) is None
        said = window.statusBar().currentMessage()
        assert "light.toml" in said and "line 16" in said and "temperature" in said, said
        assert "broken" not in menu.pack_menus and len(menu.lesson_actions) == built_in
    finally:
        w.close()

    again = Opened(qtbot)  # the next start: the packs are in the home, not in the folders they came from
    try:
        shutil.rmtree(folder)
        menu = again.window.workshop.lesson_menu
        assert set(menu.pack_menus) == {"physics-101", "poems"}
        assert _menu_titles(menu.pack_menus["physics-101"])[:2] == ["1. Gravity", "2. Light"]
        assert menu.remove_pack("poems") and set(menu.pack_menus) == {"physics-101"}
    finally:
        again.close()


def test_save_this_setup_as_a_lesson_then_open_it_gives_the_same_setup(qtbot):
    w = Opened(qtbot)
    try:
        window, workshop, controller = w.window, w.window.workshop, w.window.controller
        workshop.language = "en"
        window.chat.set_system_prompt("Answer in one word.")
        mine = SamplerSettings(temperature=0.4, top_k=7, top_p=0.9, seed=3, ban_eos=True)
        window.sampling.set_settings(mine)
        controller.set_settings(mine)
        window.sampling.set_max_tokens(9)
        controller.max_tokens = 9
        w.send("Hello there", max_tokens=9)
        qtbot.waitUntil(lambda: not controller.busy, timeout=REPLY_MS)
        window.show_dock("die")
        qtbot.waitUntil(lambda: not workshop.die.visibleRegion().isEmpty(), timeout=3000)
        window.chat.input.setPlainText("Name a colour.")

        setup = current_setup(window)
        assert setup is not None and setup.prompt == "Name a colour."
        assert [role for role, _text in setup.history] == ["user", "assistant"]
        dialog = SaveLessonDialog(window, setup)
        save_button = dialog.buttons.buttons()[0]
        assert not save_button.isEnabled()  # no title yet
        dialog.title.setText("Colours, briefly")
        dialog.explanation.setPlainText("One word, after a greeting.")
        assert dialog.view.currentData() == "die"  # the view in front
        assert not dialog.recommend.isEnabled()  # the bundled model is not a hub download
        saved = workshop.lesson_menu.save(dialog)
        assert saved is not None
        lesson, path = saved
        assert path.parent.name == MINE and path.name == "colours-briefly.toml"
        assert parse_lesson(path.read_text(encoding="utf-8"), path.name) == lesson
        assert "My lessons" in window.statusBar().currentMessage()
        sub = workshop.lesson_menu.pack_menus[MINE]
        assert sub.title() == "My lessons" and _menu_titles(sub)[0] == "1. Colours, briefly"

        # Something else meanwhile: other settings, another chat, the chart in front.
        other = SamplerSettings(temperature=1.3, top_k=0)
        window.sampling.set_settings(other)
        controller.set_settings(other)
        window.new_chat()
        window.chat.set_system_prompt("")
        window.show_dock("chart")
        with qtbot.waitSignal(controller.finished, timeout=REPLY_MS):
            sub.actions()[0].trigger()
        assert window.sampling.settings() == mine and controller.settings == mine
        assert controller.max_tokens == 9 and window.sampling.max_tokens() == 9
        assert window.chat.system_prompt() == "Answer in one word."
        turns = [(m.role, m.content) for m in controller.messages]
        assert turns[:2] == list(setup.history) and turns[2] == ("user", "Name a colour.")
        assert turns[3][0] == "assistant"
        qtbot.waitUntil(lambda: not workshop.die.visibleRegion().isEmpty(), timeout=3000)
        shown = workshop.lesson_label.text()
        assert "Colours, briefly" in shown and "One word, after a greeting." in shown
        workshop.close_lesson()
        assert window.sampling.settings() == other  # the user's own settings back
    finally:
        w.close()


def test_with_no_prompt_there_is_nothing_to_save(qtbot):
    w = Opened(qtbot)
    try:
        menu = w.window.workshop.lesson_menu
        menu.ask_save()  # no prompt typed, no question asked: no dialog, a sentence
        assert QApplication.activeModalWidget() is None
        assert "prompt" in w.window.statusBar().currentMessage()
    finally:
        w.close()


def test_a_pack_lesson_offers_its_model_downloads_it_from_the_hub_and_runs_again_on_it(
    qtbot,
    tmp_path: Path,
    hub: HubServer,  # noqa: F811
    smollm2_path: Path,
):
    repo, filename = "teacher/Tiny-Teacher-GGUF", "tiny-teacher-q4_1.gguf"
    size = smollm2_path.stat().st_size
    hub.add_repo(repo, {filename: smollm2_path, "README.md": b"# Tiny teacher\n"})  # SmolLM2's bytes
    one = {"id": "one", "view": "chart", "title": "One", "prompt": "Hi"}
    folder = _pack(tmp_path / "course", "Course", [one])
    with (folder / "one.toml").open("a", encoding="utf-8") as f:
        f.write(f'\n[model]\nrepo_id = "{repo}"\nfilename = "{filename}"\nsize_bytes = {size}\n')
    with workshop_on_hub(qtbot, hub) as w:
        window, workshop, browser = w.window, w.window.workshop, w.window.models.browser
        pack = workshop.lesson_menu.open_pack(folder)
        assert pack is not None
        with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS):
            workshop.lesson_menu.pack_menus[pack.id].actions()[0].trigger()
        label = workshop.lesson_label
        shown = label.text()
        assert "Made for Tiny-Teacher" in shown and "runs on" in shown and "meanwhile" in shown
        assert "98 MB" in shown or "97 MB" in shown or "99 MB" in shown, shown
        assert 'href="download"' in shown
        label.linkActivated.emit("download")
        qtbot.waitUntil(lambda: browser.downloads.find(repo, filename) is not None, timeout=20_000)
        qtbot.waitUntil(lambda: 'href="load"' in label.text(), timeout=DOWNLOAD_MS)
        entry = next(e for e in w.services.library.entries() if e.repo_id == repo)
        assert entry.filename == filename and entry.usable
        with qtbot.waitSignal(window.controller.finished, timeout=LOAD_MS + REPLY_MS):
            label.linkActivated.emit("load")
        assert window.loaded.model_id == entry.id and workshop.lesson is not None
        assert workshop.lesson.id == "one" and "Made for" not in label.text()  # on its model now


def test_a_classroom_kit_is_checked_then_installed_and_a_damaged_one_adds_nothing(
    qtbot, tmp_path: Path, smollm2_path: Path
):
    """A kit a teacher exported on another TokenDice home (a lesson pack and the model), imported through
    File → Import a classroom kit…: first with one byte of its model changed, refused with a sentence and
    nothing installed; then as exported, its model in the library (the very bytes) and its lessons in the
    menu. The window answers while the kit is checked."""
    teacher = Services.open(AppPaths.from_env({"TOKENDICE_HOME": str(tmp_path / "teacher")}))
    try:
        packs = LessonPacks(teacher.paths.lessons_dir)
        wk = {"id": "waves", "view": "chart", "title": "Waves", "prompt": "The sea"}
        pack = packs.add(_pack(tmp_path / "week", "Week 4", [wk]))
        export_kit(tmp_path / "kit", [pack], [teacher.library.resolve("default")])
    finally:
        teacher.close()
    model_file = next((tmp_path / "kit" / "models").rglob("*.gguf"))
    original = model_file.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0x01
    model_file.write_bytes(bytes(damaged))

    w = Opened(qtbot)
    try:
        window, menu = w.window, w.window.workshop.lesson_menu
        before = {e.id for e in w.services.library.entries()}
        assert window.kit.action in window.file_menu.actions()
        assert window.kit.import_from(tmp_path / "kit")
        qtbot.waitUntil(lambda: not window.kit.busy, timeout=60_000)
        said = window.statusBar().currentMessage()
        assert "damaged" in said and model_file.name in said and "nothing was installed" in said.lower(), said
        box = window.kit.failed_box
        assert (
            box is not None and box.isVisible() and not box.isModal() and "damaged" in box.informativeText()
        )
        box.close()
        assert {e.id for e in w.services.library.entries()} == before and "week-4" not in menu.pack_menus
        assert not list(w.services.paths.models_dir.rglob("*.gguf"))

        model_file.write_bytes(original)  # copied again
        with qtbot.waitSignal(window.kit.installed, timeout=120_000) as blocker:
            window.open_dropped([str(tmp_path / "kit")])  # a kit's folder dropped on the window
            qtbot.wait(50)
            assert window.kit.busy  # checked off the GUI thread: the window answers meanwhile
        (entry,) = blocker.args[0]
        assert entry.id not in before and entry.usable
        assert sha256_file(entry.path) == sha256_file(smollm2_path)
        assert entry.id in {e.id for e in w.services.library.entries()}
        assert _menu_titles(menu.pack_menus["week-4"])[0] == "1. Waves"
        assert "installed" in window.statusBar().currentMessage()
    finally:
        w.close()


def test_a_classroom_kit_exported_from_the_window_carries_the_packs_and_the_models_they_recommend(
    qtbot, tmp_path: Path, smollm2_path: Path
):
    repo, filename = "teacher/Tiny-Teacher-GGUF", "tiny-teacher-q4_1.gguf"
    one = {"id": "one", "view": "chart", "title": "One", "prompt": "Hi"}
    folder = _pack(tmp_path / "course", "Course", [one])
    size = smollm2_path.stat().st_size
    with (folder / "one.toml").open("a", encoding="utf-8") as f:
        f.write(f'\n[model]\nrepo_id = "{repo}"\nfilename = "{filename}"\nsize_bytes = {size}\n')
    w = Opened(qtbot)
    try:
        window = w.window
        downloaded = w.services.paths.models_dir / repo / filename  # as a download would have put it
        downloaded.parent.mkdir(parents=True)
        shutil.copyfile(smollm2_path, downloaded)
        w.services.library.register_download(downloaded, repo_id=repo, filename=filename)
        assert window.workshop.lesson_menu.open_pack(folder) is not None
        assert window.kit_export.action in window.file_menu.actions()

        dialog = window.kit_export.dialog()
        names = [p.id for p in dialog.packs]
        assert names == ["course", "builtin"]
        assert [p.id for p in dialog.chosen_packs()] == ["course"]  # every seat has the built-in ones
        assert [e.repo_id for e in dialog.chosen_models()] == [repo]  # what the course recommends
        assert dialog.note.isHidden()
        dialog.pack_list.item(1).setCheckState(Qt.CheckState.Checked)  # the built-in lessons too
        assert "Qwen2.5-0.5B-Instruct" in dialog.note.text() and "Qwen3-0.6B" in dialog.note.text()

        kit = tmp_path / "stick"
        window.kit_export.export_to(kit, dialog.chosen_packs(), dialog.chosen_models())
        qtbot.waitUntil(lambda: not window.kit_export.busy, timeout=60_000)
        assert "The classroom kit is in" in window.statusBar().currentMessage()
        checked = verify_kit(kit)
        assert [p.id for p in checked.packs] == ["course", "builtin"]
        assert [(m.repo_id, m.filename) for m in checked.manifest.models] == [(repo, filename)]
        dialog.close()
    finally:
        w.close()
