"""The Lessons menu: the built-in lessons, then a menu of its own for each lesson pack the teacher opened,
and the teacher's own items: *Open a lesson pack…* (a lesson file or a ``.zip``), *Open a lesson pack
folder…* and *Save this setup as a lesson…* (:mod:`desktop_app.ui.save_lesson`).

A pack is copied into the TokenDice home's lessons folder when it is opened (see
:mod:`desktop_app.core.lesson_packs`), so it is there at the next start even when the USB stick it came
from is not; opening a pack with the same name again replaces it (the teacher's updated version). A pack
dropped on the window opens the same way. A pack that cannot be used is one sentence in the status bar,
with the file, line and field of what is wrong in it; nothing of it is added."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QDialog, QFileDialog, QMenu, QMessageBox

from desktop_app.core.lesson_files import LessonFileError
from desktop_app.core.lesson_packs import MINE, LessonPackError, LessonPacks, Pack
from desktop_app.core.lesson_writer import lesson_toml
from desktop_app.core.lessons import LESSONS, Lesson
from desktop_app.ui.save_lesson import SaveLessonDialog, current_setup

if TYPE_CHECKING:
    from desktop_app.ui.window_host import WindowHost

log = logging.getLogger(__name__)
PACK_SUFFIXES = (".toml", ".zip")  # what a dropped file must end with to be a lesson pack
MY_LESSONS = "My lessons"  # the teacher's own pack's name in its pack.toml (the menu says it translated)


class Lessons(Protocol):
    """What opens a lesson (the workshop)."""

    language: str
    lesson: Lesson | None

    def open_lesson(self, lesson: Lesson) -> None: ...

    def close_lesson(self) -> None: ...


class LessonMenu(QObject):
    def __init__(self, window: WindowHost, workshop: Lessons) -> None:
        super().__init__(window)
        self.window, self.workshop = window, workshop
        self.packs = LessonPacks(window.services.paths.lessons_dir)
        self.menu = window.add_menu(self.tr("&Lessons"))
        self.lesson_actions: list[QAction] = []  # the built-in lessons'
        self.pack_menus: dict[str, QMenu] = {}  # pack id → its menu
        self.pack_lessons: dict[str, tuple[Lesson, ...]] = {}  # pack id → its lessons, as in its menu
        self.rebuild()

    # --- the menu -----------------------------------------------------------------------------------
    def rebuild(self) -> None:
        """The menu again, from the built-in lessons and the packs in the home's lessons folder."""
        menu, language = self.menu, self.workshop.language
        menu.clear()
        self.lesson_actions = []
        for i, lesson in enumerate(LESSONS, start=1):
            action = self._lesson_action(f"{i}. {lesson.text('title', language)}", lesson)
            menu.addAction(action)
            self.lesson_actions.append(action)
        self.pack_menus, self.pack_lessons = {}, {}
        packs = self._read_packs()
        if packs:
            menu.addSeparator()
        for pack in packs:
            self.pack_menus[pack.id] = self._pack_menu(pack)
            self.pack_lessons[pack.id] = pack.lessons
        menu.addSeparator()
        self.open_action = menu.addAction(self.tr("&Open a lesson pack…"))
        self.open_action.setToolTip(self.tr("A lesson file (.toml) or a .zip of lesson files"))
        self.open_action.triggered.connect(self.ask_open)
        self.open_folder_action = menu.addAction(self.tr("Open a lesson pack &folder…"))
        self.open_folder_action.triggered.connect(self.ask_open_folder)
        self.save_action = menu.addAction(self.tr("&Save this setup as a lesson…"))
        self.save_action.setToolTip(
            self.tr("The prompt, the system prompt, the earlier turns, the settings and the view")
        )
        self.save_action.triggered.connect(self.ask_save)

    def _read_packs(self) -> list[Pack]:
        try:
            return self.packs.packs()
        except (LessonPackError, OSError) as exc:  # the lessons folder cannot be read: the built-in remain
            log.warning("the lesson packs cannot be read: %s", exc)
            self.window.show_status(_sentence(exc), 15000)
            return []

    def _lesson_action(self, text: str, lesson: Lesson) -> QAction:
        action = QAction(text, self.window)
        action.triggered.connect(lambda _checked=False, lesson=lesson: self.workshop.open_lesson(lesson))
        return action

    def _pack_menu(self, pack: Pack) -> QMenu:
        language = self.workshop.language
        sub = self.menu.addMenu(self.tr("My lessons") if pack.id == MINE else pack.title(language))
        if pack.error is not None:
            broken = sub.addAction(self.tr("This pack cannot be used: {error}").format(error=pack.error))
            broken.setEnabled(False)
        for i, lesson in enumerate(pack.lessons, start=1):
            sub.addAction(self._lesson_action(f"{i}. {lesson.text('title', language)}", lesson))
        sub.addSeparator()
        folder = sub.addAction(self.tr("Show its folder"))
        folder.setToolTip(self.tr("The pack's lesson files: copy them to share the pack"))
        url = QUrl.fromLocalFile(str(pack.folder))
        folder.triggered.connect(lambda _c=False, url=url: QDesktopServices.openUrl(url))
        remove = sub.addAction(self.tr("Remove this pack"))
        remove.triggered.connect(lambda _c=False, p=pack: self.ask_remove(p))
        return sub

    # --- opening a pack -----------------------------------------------------------------------------
    def ask_open(self) -> None:
        kinds = self.tr("Lesson packs (*.toml *.zip)")
        path, _ = QFileDialog.getOpenFileName(self.window, self.tr("Open a lesson pack"), "", kinds)
        if path:
            self.open_pack(Path(path))

    def ask_open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self.window, self.tr("Open a folder of lesson files"))
        if path:
            self.open_pack(Path(path))

    def open_pack(self, source: Path) -> Pack | None:
        """Add the pack at ``source`` (a lesson file, a folder of them or a .zip) and put it in the menu;
        None, with the sentence in the status bar, when it cannot be used."""
        try:
            pack = self.packs.add(source)
        except (LessonPackError, OSError) as exc:
            self.window.show_status(
                self.tr("The lesson pack was not added: {error}").format(error=_sentence(exc)), 20000
            )
            return None
        self.rebuild()
        count = len(pack.lessons)
        if getattr(pack, "replaced", False):
            text = self.tr("The lesson pack “{name}” is updated: {count} lesson(s), under Lessons → {name}.")
        else:
            text = self.tr("The lesson pack “{name}” is added: {count} lesson(s), under Lessons → {name}.")
        self.window.show_status(text.format(name=pack.title(self.workshop.language), count=count), 12000)
        return pack

    def ask_remove(self, pack: Pack) -> None:
        answer = QMessageBox.question(
            self.window,
            self.tr("Remove the lesson pack"),
            self.tr("Remove “{name}” and its {count} lesson(s)? Its files are deleted from {folder}.").format(
                name=pack.title(self.workshop.language), count=len(pack.lessons), folder=pack.folder
            ),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.remove_pack(pack.id)

    def remove_pack(self, pack_id: str) -> bool:
        try:
            self.packs.remove(pack_id)
        except (LessonPackError, OSError) as exc:
            self.window.show_status(
                self.tr("The lesson pack was not removed: {error}").format(error=_sentence(exc)), 15000
            )
            return False
        shown = self.workshop.lesson
        if shown is not None and any(shown is lesson for lesson in self.pack_lessons.get(pack_id, ())):
            self.workshop.close_lesson()  # its settings go back to the user's, as when it is left
        self.rebuild()
        return True

    # --- saving the setup ---------------------------------------------------------------------------
    def ask_save(self) -> None:
        """The dialog for the window's setup now; the lesson saved when the teacher saves it."""
        setup = current_setup(self.window)
        if setup is None:
            self.window.show_status(
                self.tr("Write the lesson's prompt in the message box first: a lesson needs one."), 10000
            )
            return
        dialog = SaveLessonDialog(self.window, setup)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.save(dialog)

    def save(self, dialog: SaveLessonDialog) -> tuple[Lesson, Path] | None:
        """Write the dialog's lesson into *My lessons* and put it in the menu; None, with a sentence said,
        when it cannot be written."""
        window, language = self.window, self.workshop.language
        taken = {lesson.id for lesson in self.pack_lessons.get(MINE, ())}  # (add_lesson refuses a clash)
        lesson = dialog.lesson(taken, language)
        text = lesson_toml(lesson, comment=f"TokenDice lesson: {lesson.text('title', language)}")
        try:
            _pack, path = self.packs.add_lesson(text, pack_id=MINE, pack_name=MY_LESSONS)
        except (LessonPackError, LessonFileError, OSError) as exc:
            text = self.tr("The lesson was not saved: {error}").format(error=_sentence(exc))
            window.show_status(text, 20000)
            return None
        self.rebuild()
        window.show_status(
            self.tr("The lesson is saved under Lessons → {pack}, as {path}.").format(
                pack=self.tr("My lessons"), path=path
            ),
            15000,
        )
        return lesson, path


def pack_paths(paths: list[str]) -> list[Path]:
    """Of dropped paths, those that may be lesson packs: lesson files, .zip files and folders."""
    out = []
    for p in paths:
        path = Path(p)
        if path.is_dir() or path.suffix.lower() in PACK_SUFFIXES:
            out.append(path)
    return out


def _sentence(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}."
    return str(exc)
