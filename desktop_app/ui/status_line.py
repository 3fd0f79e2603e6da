"""The status bar's lasting labels: the model, the backend it runs on, the context used and the speed of
the last reply, then the app's version."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel, QMainWindow

from desktop_app import APP_NAME, __version__
from desktop_app.core.models.gguf_meta import format_params
from desktop_app.core.models.library import ModelEntry
from desktop_app.ui import core_text
from desktop_app.ui.workers import LoadedModel

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


class StatusLine:
    def __init__(self, window: QMainWindow) -> None:
        self.model_label = QLabel(window)
        self.backend_label = QLabel(window)
        self.context_label = QLabel(window)
        self.speed_label = QLabel(window)
        bar = window.statusBar()
        for w in (self.model_label, self.backend_label, self.context_label, self.speed_label):
            bar.addPermanentWidget(w)
        bar.addPermanentWidget(QLabel(f"{APP_NAME} {__version__}", window))

    def loading(self, entry: ModelEntry) -> None:
        self.loading_name(entry.display_name)

    def loading_name(self, name: str) -> None:
        self.model_label.setText(translate("MainWindow", "Loading {name}…").format(name=name))

    def connecting(self, server: str) -> None:
        self.model_label.setText(translate("MainWindow", "Connecting to {server}…").format(server=server))

    def server_model(self, model: LoadedModel) -> None:
        """A model on a server: its name (the server says no more of its file)."""
        name = model.display_name.removesuffix(f" @ {model.server}")
        self.model_label.setText(translate("MainWindow", "Model: {name}").format(name=name))

    def restarting(self, name: str) -> None:
        text = translate("MainWindow", "Restarting the engine with {name}…")
        self.model_label.setText(text.format(name=name))

    def engine_stopped(self) -> None:
        self.backend_label.setText(translate("MainWindow", "engine stopped"))

    def no_model(self) -> None:
        self.model_label.setText(translate("MainWindow", "No model loaded"))

    def unloaded(self) -> None:
        self.no_model()
        self.backend_label.setText("")

    def model_facts(self, entry: ModelEntry | None) -> None:
        """The model's name, with its architecture, size and quantization when its file says them."""
        if entry is None:
            return
        m = entry.metadata
        if m is None:
            self.model_label.setText(translate("MainWindow", "Model: {name}").format(name=entry.display_name))
            return
        text = translate(
            "MainWindow", "Model: {name} ({architecture} · {parameters} parameters · {quantization})"
        )
        self.model_label.setText(
            text.format(
                name=entry.display_name,
                architecture=m.architecture,
                parameters=format_params(m.parameter_count),
                quantization=m.quantization,
            )
        )

    def loaded(self, model: LoadedModel) -> None:
        """Where the model runs, and its context still empty."""
        if model.report is None:
            where = translate("MainWindow", "on the server {address}").format(address=model.server or "?")
            self.backend_label.setText(where)
        else:
            self.backend_label.setText(core_text.load_summary(model.report))
        self.context_label.setText(
            translate("MainWindow", "context {used} / {n_ctx}").format(used=0, n_ctx=f"{model.n_ctx:,}")
        )

    def stats(self, used: int, n_ctx: int, tokens_per_s: float | None) -> None:
        self.context_label.setText(
            translate("MainWindow", "context {used} / {n_ctx}").format(used=f"{used:,}", n_ctx=f"{n_ctx:,}")
        )
        if tokens_per_s is not None:  # a step of step mode keeps the last reply's speed
            text = translate("MainWindow", "{speed} tokens/s")
            self.speed_label.setText(text.format(speed=f"{tokens_per_s:.1f}"))
