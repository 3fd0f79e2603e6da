"""The window's menu bar: File, View (the docks, the language), Model and Help; the workshop adds its own
items and menus through the window (``add_menu`` puts a menu before Help)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from desktop_app import APP_NAME, __version__
from desktop_app.core.language import SYSTEM
from desktop_app.ui.i18n import LANGUAGE_NAMES
from desktop_app.ui.window_state import save_settings

if TYPE_CHECKING:
    from desktop_app.ui.window_host import WindowHost

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


class WindowMenus(QObject):
    def __init__(self, window: WindowHost) -> None:
        super().__init__(window)
        self.window = window
        bar = window.menuBar()
        file_menu = self.file_menu = bar.addMenu(translate("MainWindow", "&File"))
        keys = QKeySequence.StandardKey
        new = QAction(translate("MainWindow", "&New chat"), window, shortcut=QKeySequence(keys.New))
        new.triggered.connect(window.new_chat)
        file_menu.addAction(new)
        ask_import = QAction(translate("MainWindow", "&Import a model file…"), window)
        ask_import.triggered.connect(window.models.ask_import)
        file_menu.addAction(ask_import)
        self.chat_files_at = file_menu.addSeparator()  # File → Export this chat… / Import a chat… go here
        quit_action = QAction(translate("MainWindow", "&Quit"), window, shortcut=QKeySequence(keys.Quit))
        quit_action.triggered.connect(window.close)
        file_menu.addAction(quit_action)
        view = self.view_menu = bar.addMenu(translate("MainWindow", "&View"))
        for dock in window.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        self._language_menu(view)
        model_menu = self.model_menu = bar.addMenu(translate("MainWindow", "&Model"))
        models = QAction(translate("MainWindow", "&Models…"), window)
        models.triggered.connect(lambda: window.show_dock("models"))
        model_menu.addAction(models)
        unload = QAction(translate("MainWindow", "&Unload"), window)
        unload.triggered.connect(window.unload_model)
        model_menu.addAction(unload)
        self.help_menu = bar.addMenu(translate("MainWindow", "&Help"))
        about = QAction(translate("MainWindow", "&About TokenDice"), window)
        about.triggered.connect(self.about)
        self.help_menu.addAction(about)

    def add_menu(self, title: str) -> QMenu:
        """A menu of the menu bar, before Help."""
        bar = self.window.menuBar()
        menu = QMenu(title, bar)
        bar.insertMenu(self.help_menu.menuAction(), menu)
        return menu

    def _language_menu(self, view: QMenu) -> None:
        """View → Language: English, 繁體中文 (each by its own name) or the system's languages; saved for
        the next start."""
        self.language_menu = view.addMenu(translate("MainWindow", "&Language"))
        group = QActionGroup(self)
        self.language_actions: dict[str, QAction] = {}
        choices = [(code, name) for code, name in LANGUAGE_NAMES.items()]
        choices.append((SYSTEM, translate("MainWindow", "Follow the system")))
        chosen = self.window.services.settings.settings.language
        for code, name in choices:
            action = QAction(name, self.window, checkable=True)
            action.setChecked(code == chosen)
            action.triggered.connect(lambda _on=False, code=code: self.set_language(code))
            group.addAction(action)
            self.language_menu.addAction(action)
            self.language_actions[code] = action

    def set_language(self, choice: str) -> None:
        """Save the language setting ("en", "zh_TW" or "system"); it applies at the next start."""
        self.language_actions[choice].setChecked(True)
        services = self.window.services
        # Said in both languages: the window speaks the one it started in, the user chose the other.
        if services.read_only:
            self.window.show_status(
                "Another TokenDice window holds the data folder: the language cannot be saved here. "
                "另一個 TokenDice 視窗正在使用資料夾：這裡無法儲存語言設定。",
                15000,
            )
            return
        save_settings(services, language=choice)
        self.window.show_status(
            "The language changes the next time TokenDice starts. 下次啟動 TokenDice 時會換成新的語言。",
            15000,
        )

    def about(self) -> None:
        text = translate(
            "MainWindow",
            "See how a language model generates: the probability of every next token, the roll of the die, "
            "and the text the model really reads.",
        )
        QMessageBox.about(
            self.window,
            translate("MainWindow", "About {app}").format(app=APP_NAME),
            f"<b>{APP_NAME} {__version__}</b><p>{text}</p>",
        )
