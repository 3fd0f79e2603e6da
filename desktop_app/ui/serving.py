"""Model → Serve this model…: the loaded model served to other programs (a notebook, another app, the
students' TokenDice windows) from the window's own engine process, through the same OpenAI-compatible
API as ``tokendice serve``. The window's chat and the served requests take turns at the engine, first come
first served; the status bar shows the address, what runs and how many wait, and Stop serving ends it.
A new model, an unloaded one or a crashed engine ends serving too."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.serve.options import ServeOptions

if TYPE_CHECKING:
    from desktop_app.ui.projector import Projector
    from desktop_app.ui.window_host import WindowHost

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


class ServeDialog(QDialog):
    """Where to serve: this computer only, or the network with an API key; the port."""

    def __init__(self, parent: QWidget | None, model: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Serve this model"))
        self.port = QSpinBox(self)
        self.port.setRange(1024, 65535)
        self.port.setValue(8080)
        self.network = QCheckBox(self.tr("Let other computers connect (they need the API key)"), self)
        self.key = QLineEdit(self)
        self.key.setPlaceholderText(self.tr("none: this computer only"))
        self.show_incoming = QCheckBox(self.tr("Show the requests in this window as they run"), self)
        self.show_incoming.setToolTip(
            self.tr(
                "Each request another program sends is drawn in the chat and the chart "
                "(Model → Show incoming requests)"
            )
        )
        self.network.toggled.connect(self._network)
        note = QLabel(
            self.tr(
                "Programs that speak OpenAI's API (the openai package, a notebook, another TokenDice's "
                "“On a server” tab) can then use {model}, with its probabilities. Your own chat and theirs "
                "take turns at the model."
            ).format(model=model),
            self,
        )
        note.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setStyleSheet("color:#c5221f")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow(self.tr("Port:"), self.port)
        form.addRow("", self.network)
        form.addRow(self.tr("API key:"), self.key)
        form.addRow("", self.show_incoming)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Serve"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _network(self, on: bool) -> None:
        if on and not self.key.text().strip():
            self.key.setText(secrets.token_urlsafe(18))  # a key of its own, to copy to the students

    def host(self) -> str:
        return "0.0.0.0" if self.network.isChecked() else "127.0.0.1"

    def accept(self) -> None:
        if self.network.isChecked() and not self.key.text().strip():
            self.error.setText(self.tr("Other computers may connect only with an API key."))
            self.error.show()
            return
        super().accept()


class ServingControl(QObject):
    """The menu action, the dialog and the status bar's label of serving the model."""

    def __init__(self, window: WindowHost, menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.address: str | None = None
        self.projector: Projector | None = None  # Model → Show incoming requests, set by the window
        self.action = QAction(translate("MainWindow", "&Serve this model…"), window)
        self.action.triggered.connect(self._toggle)
        menu.addSeparator()
        menu.addAction(self.action)
        self.label = QLabel(window)
        self.label.hide()
        window.statusBar().insertPermanentWidget(0, self.label)  # beside the model, never under a message
        engine = window.engine.worker
        engine.serving.connect(self._serving)
        engine.serve_failed.connect(self._failed)
        engine.serve_queue.connect(self._queue)
        for ended in (engine.unloaded, engine.died, engine.loaded):
            ended.connect(lambda *_: self._serving(None))  # a new engine serves nothing yet

    def _toggle(self) -> None:
        if self.address is not None:
            self.window.engine.request_stop_serving.emit()
            return
        loaded = self.window.loaded
        if loaded is None:
            self.window.show_status(translate("MainWindow", "Load a model first, then serve it."), 8000)
            return
        dialog = ServeDialog(self.window, loaded.display_name)
        if self.projector is not None:
            dialog.show_incoming.setChecked(self.projector.showing)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        if self.projector is not None:
            self.projector.set_showing(dialog.show_incoming.isChecked())
        ms = self.window.services.presets.model_settings(
            loaded.model_id, self.window.services.settings.settings
        )
        self.serve(
            ServeOptions(
                loaded.model_id,
                host=dialog.host(),
                port=dialog.port.value(),
                api_key=dialog.key.text().strip() or None,
                template_override=ms.template_override,
            )
        )

    def serve(self, options: ServeOptions) -> None:
        self.window.engine.request_serve.emit(options)

    def _serving(self, address: object) -> None:
        self.address = address if isinstance(address, str) else None
        if self.address is None:
            self.action.setText(translate("MainWindow", "&Serve this model…"))
            self.label.hide()
            return
        self.action.setText(translate("MainWindow", "&Stop serving"))
        self.label.setText(translate("MainWindow", "Serving at {address}").format(address=self.address))
        self.label.show()
        self.window.show_status(
            translate("MainWindow", "The model is served at {address}.").format(address=self.address), 15000
        )

    def _failed(self, sentence: str) -> None:
        text = translate("MainWindow", "The model could not be served: {error}").format(error=sentence)
        self.window.show_status(text, 15000)

    def _queue(self, status: object) -> None:
        """The label: the address, and whether a served request runs and how many wait (the tooltip says
        which request runs)."""
        if self.address is None:
            return
        running = getattr(status, "running", None)
        waiting = int(getattr(status, "waiting", 0))
        text = translate("MainWindow", "Serving at {address}").format(address=self.address)
        if running or waiting:
            more = translate("MainWindow", " · {running} running, {waiting} waiting")
            text += more.format(running=1 if running else 0, waiting=waiting)
        self.label.setText(text)
        self.label.setToolTip(str(running) if running else "")
