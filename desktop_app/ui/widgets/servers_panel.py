"""The Models page's third tab, “On a server”: the saved model servers (llama-server, or any
OpenAI-compatible one), each checked for what it serves and can give, and the model chosen there used
like a local one (:attr:`ServersPanel.use_requested`).

A server is checked off the GUI thread (an HTTP request may take its whole timeout): its models fill the
model list, and what it cannot give TokenDice (step mode on a server that names tokens only by their text,
its template, its tokenizer) is listed with the reason. API keys are kept by :class:`SavedServers` in the
system keyring or a file only the user can read, never in settings.json; the list shows only whether a
server has one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.remote.address import ServerAddress
from desktop_app.core.remote.saved import SavedServer, SavedServers
from desktop_app.ui import core_text
from desktop_app.ui.background import Background

if TYPE_CHECKING:
    from desktop_app.core.remote.server_info import ServerInfo

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls

#: What a server cannot give, in the words the list of missing things uses (context "ServersPanel").
MISSING_WHAT = cast(
    dict[str, str],
    {
        "step": QT_TRANSLATE_NOOP("ServersPanel", "step mode, the die and picking a token"),
        "branch": QT_TRANSLATE_NOOP("ServersPanel", "branching at a token"),
        "template": QT_TRANSLATE_NOOP("ServersPanel", "the template inspector"),
        "tokens": QT_TRANSLATE_NOOP("ServersPanel", "the tokens view"),
    },
)


def shown_model(name: str) -> str:
    """A model's name as the list shows it: a file path (llama-server names a model by the file it was
    started with) by its file name; any other name (``org/model`` on vLLM) as it is."""
    if name.startswith("/") or "\\" in name or name.lower().endswith(".gguf"):
        return name.replace("\\", "/").rsplit("/", 1)[-1]
    return name


def check_server(address: ServerAddress, model: str | None) -> ServerInfo:
    """What the server at ``address`` serves and can give (off the GUI thread)."""
    # Imported with the first check: the HTTP client is not needed to start the window.
    from desktop_app.core.remote.connection import Connection
    from desktop_app.core.remote.server_info import probe

    with Connection(address) as conn:
        return probe(conn, model)


class ServerDialog(QDialog):
    """Add or edit a server: its address, a name, its API key and whether to check its certificate."""

    def __init__(self, parent: QWidget | None, *, where_keys: str, server: SavedServer | None = None,
                 api_key: str | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setWindowTitle(self.tr("Edit a server") if server else self.tr("Add a server"))
        self.url = QLineEdit(server.url if server else "", self)
        self.url.setPlaceholderText("http://127.0.0.1:8080")
        self.name = QLineEdit(server.name if server else "", self)
        self.name.setPlaceholderText(self.tr("optional, e.g. Classroom GPU"))
        self.key = QLineEdit(api_key or "", self)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText(self.tr("none"))
        self.verify = QCheckBox(self.tr("Check the server's TLS certificate (https)"), self)
        self.verify.setChecked(server.verify if server else True)
        self.verify.setToolTip(
            self.tr("Turn this off only for a server with a self-signed certificate that you trust.")
        )
        note = QLabel(
            self.tr("The API key is kept in {where}, never in TokenDice's settings file.").format(
                where=where_keys
            ),
            self,
        )
        note.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setStyleSheet("color:#c5221f")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow(self.tr("Address:"), self.url)
        form.addRow(self.tr("Name:"), self.name)
        form.addRow(self.tr("API key:"), self.key)
        form.addRow("", self.verify)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())

    def server(self) -> SavedServer:
        return SavedServer(self.url.text().strip(), self.name.text().strip(), self.verify.isChecked())

    def api_key(self) -> str | None:
        return self.key.text().strip() or None

    def accept(self) -> None:
        try:
            ServerAddress(self.url.text().strip())
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        super().accept()


class ServersPanel(QWidget):
    """The saved servers, checked, and Use (see the module's docstring)."""

    use_requested = Signal(object, object)  # SavedServer, the model's name (None: the server's first)

    def __init__(self, servers: SavedServers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.servers = servers
        self.checks = Background(self, name="tokendice-servers", threads=2)
        self._infos: dict[str, ServerInfo] = {}  # what each server said when it was last checked
        self.list = QTreeWidget(self)
        self.list.setRootIsDecorated(False)
        self.list.setHeaderLabels([self.tr("Server"), self.tr("Address"), self.tr("Key"), self.tr("Serves")])
        self.list.currentItemChanged.connect(lambda *_: self._selected())
        self.list.itemDoubleClicked.connect(lambda *_: self._use())
        self.add_button = QPushButton(self.tr("Add a server…"), self)
        self.add_button.clicked.connect(self.ask_add)
        self.edit_button = QPushButton(self.tr("Edit…"), self)
        self.edit_button.clicked.connect(self._edit)
        self.remove_button = QPushButton(self.tr("Remove"), self)
        self.remove_button.clicked.connect(self._remove)
        self.check_button = QPushButton(self.tr("Check"), self)
        self.check_button.setToolTip(self.tr("Ask the server which models it serves and what it can give"))
        self.check_button.clicked.connect(lambda: self.check())
        self.model = QComboBox(self)
        self.model.setMinimumContentsLength(24)
        self.model.setToolTip(self.tr("The model to use on this server"))
        self.use_button = QPushButton(self.tr("Use this model"), self)
        self.use_button.setToolTip(self.tr("Run the chat, the chart and the die on this server's model"))
        self.use_button.clicked.connect(self._use)
        self.info = QLabel(self)
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint = QLabel(
            self.tr(
                "Run a bigger model on another machine with llama.cpp's llama-server (or vLLM, SGLang, "
                "Ollama) and add it here. On llama-server every TokenDice view works; an OpenAI-compatible "
                "server chats with the probabilities it reports."
            ),
            self,
        )
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color:palette(mid)")

        row = QHBoxLayout()
        for b in (self.add_button, self.edit_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        use = QHBoxLayout()
        use.addWidget(self.check_button)
        use.addWidget(QLabel(self.tr("Model:"), self))
        use.addWidget(self.model, 1)
        use.addWidget(self.use_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.hint)
        column.addWidget(self.list, 1)
        column.addLayout(row)
        column.addLayout(use)
        column.addWidget(self.info)
        self.reload()

    # --- the list ----------------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        """Show the saved servers (``select``: the one to select, by address)."""
        current = select or self.current_base()
        saved = self.servers.load()
        self.list.clear()
        for server in saved:
            info = self._infos.get(server.base)
            item = QTreeWidgetItem(
                [
                    server.label,
                    server.base,
                    self.tr("yes") if self.servers.api_key(server.url) else self.tr("no"),
                    self._serves(info),
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, server)
            self.list.addTopLevelItem(item)
            if server.base == current:
                self.list.setCurrentItem(item)
        first = self.list.topLevelItem(0)
        if self.list.currentItem() is None and first is not None:
            self.list.setCurrentItem(first)
        for column in range(self.list.columnCount()):
            self.list.resizeColumnToContents(column)
        self._selected()
        warning = self.servers.warning or self.servers.keys.warning  # a broken servers or keys file
        if warning:
            self._say(warning, error=True)

    def _serves(self, info: ServerInfo | None) -> str:
        if info is None:
            return self.tr("not checked yet")
        kind = "llama-server" if info.native else self.tr("OpenAI-compatible")
        names = [shown_model(m) for m in info.models] or [shown_model(info.model_name)]
        return f"{kind}: {', '.join(names)}"

    def current(self) -> SavedServer | None:
        item = self.list.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def current_base(self) -> str | None:
        server = self.current()
        return server.base if server is not None else None

    def _selected(self) -> None:
        server = self.current()
        has = server is not None
        for b in (self.edit_button, self.remove_button, self.check_button):
            b.setEnabled(has)
        self.model.clear()
        info = self._infos.get(server.base) if server is not None else None
        names = (list(info.models) or [info.model_name]) if info is not None else []
        if not names and server is not None and server.model:
            names = [server.model]
        for name in names:
            self.model.addItem(shown_model(name), name)
        if server is not None and server.model in names:
            self.model.setCurrentIndex(names.index(server.model))
        self.model.setEnabled(self.model.count() > 1)
        self.use_button.setEnabled(has)
        if info is not None:
            self._describe(info)
        elif has:
            self.info.setText(self.tr("Press Check to see what this server serves, or Use to connect now."))
            self.info.setStyleSheet("")
        else:
            self.info.setText(self.tr("No server yet: add one."))
            self.info.setStyleSheet("")

    def _where_keys(self) -> str:
        keys = self.servers.keys
        return core_text.keys_place(keys.keyring_name, keys.shown_path)

    # --- editing -----------------------------------------------------------------------------------
    def ask_add(self) -> None:
        dialog = ServerDialog(self, where_keys=self._where_keys())
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._save(dialog.server(), dialog.api_key())

    def _edit(self) -> None:
        server = self.current()
        if server is None:
            return
        dialog = ServerDialog(
            self, where_keys=self._where_keys(), server=server, api_key=self.servers.api_key(server.url)
        )
        if dialog.exec() == QDialog.DialogCode.Accepted:
            edited = dialog.server()
            if edited.base != server.base:
                self.servers.remove(server.url)
            self._save(SavedServer(edited.url, edited.name, edited.verify, server.model), dialog.api_key())

    def _save(self, server: SavedServer, api_key: str | None) -> SavedServer | None:
        """Save ``server`` with ``api_key`` and check it; a sentence when it cannot be saved."""
        try:
            saved = self.servers.add(server, api_key)
        except (ValueError, OSError) as exc:
            self._say(
                translate("ServersPanel", "The server could not be saved: {error}").format(error=exc), True
            )
            return None
        self._infos.pop(saved.base, None)
        self.reload(select=saved.base)
        self.check()
        return saved

    def _remove(self) -> None:
        server = self.current()
        if server is None:
            return
        answer = QMessageBox.question(
            self,
            self.tr("Remove a server"),
            self.tr("Remove {server} from the list, and its API key with it?").format(server=server.label),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.servers.remove(server.url)
        except OSError as exc:
            self._say(
                translate("ServersPanel", "The server could not be removed: {error}").format(error=exc), True
            )
            return
        self._infos.pop(server.base, None)
        self.reload()

    # --- checking and using ------------------------------------------------------------------------
    def check(self, server: SavedServer | None = None) -> None:
        """Ask ``server`` (the selected one) what it serves, off the GUI thread."""
        server = server or self.current()
        if server is None:
            return
        address = self.servers.address(server)
        self._say(self.tr("Asking {server}…").format(server=server.base), False)
        self.checks.run(
            lambda: check_server(address, None),
            lambda info: self._checked(server, info),
            lambda sentence: self._check_failed(server, sentence),
            kind=f"check {server.base}",
        )

    def _checked(self, server: SavedServer, info: ServerInfo) -> None:
        self._infos[server.base] = info
        self.reload(select=self.current_base())

    def _check_failed(self, server: SavedServer, sentence: str) -> None:
        self._infos.pop(server.base, None)
        if self.current_base() == server.base:
            self._say(sentence, True)

    def _describe(self, info: ServerInfo) -> None:
        lines = [info.describe() + "."]
        for what, why in info.missing.items():
            shown = translate("ServersPanel", MISSING_WHAT[what]) if what in MISSING_WHAT else what
            reason = core_text.server_limit(why)
            lines.append(self.tr("Not available here: {what} ({why}).").format(what=shown, why=reason))
        self._say("\n".join(lines), False)

    def _use(self) -> None:
        server = self.current()
        if server is None:
            return
        model = self.model.currentData()
        self.use_requested.emit(server, model if isinstance(model, str) else None)

    def remember_model(self, base: str, model: str) -> None:
        """The model the window now uses on the server at ``base``: chosen first the next time."""
        for server in self.servers.load():
            if server.base == base and server.model != model:
                try:
                    self.servers.set_model(server.url, model)
                except OSError:
                    return  # a list that cannot be written only forgets the choice
                self.reload(select=self.current_base())

    def _say(self, text: str, error: bool) -> None:
        self.info.setText(text)
        self.info.setStyleSheet("color:#c5221f" if error else "")

    def shutdown(self) -> None:
        self.checks.shutdown(timeout=0.2)
