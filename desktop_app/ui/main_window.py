"""The main window."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from desktop_app import APP_NAME, __version__
from desktop_app.core.models.gguf_meta import format_params
from desktop_app.core.models.library import ModelEntry
from desktop_app.core.services import Services
from desktop_app.ui.widgets.models import ModelList


class MainWindow(QMainWindow):
    def __init__(self, services: Services, current: ModelEntry, parent=None):
        super().__init__(parent)
        self.services = services
        self.current = current
        self.setWindowTitle(f"{APP_NAME} — {current.display_name}")
        self.resize(1100, 700)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        heading = QLabel("<h2>Model library</h2>", central)
        layout.addWidget(heading)
        self.model_list = ModelList(central)
        layout.addWidget(self.model_list)
        self.setCentralWidget(central)
        self.refresh_library()

        m = current.metadata
        facts = (
            f"{m.architecture} · {format_params(m.parameter_count)} parameters · {m.quantization}"
            if m
            else ""
        )
        self.model_label = QLabel(f"Model: {current.display_name}  ({facts})", self)
        self.statusBar().addWidget(self.model_label, 1)
        self.statusBar().addPermanentWidget(QLabel(f"{APP_NAME} {__version__}", self))
        if services.settings.warning:
            self.statusBar().showMessage(services.settings.warning, 15000)
        self._restore_geometry()

    def refresh_library(self) -> None:
        self.model_list.set_entries(self.services.library.entries(), self.current.id)

    def _qsettings(self) -> QSettings:
        path = self.services.paths.config_dir / "window.ini"
        return QSettings(str(path), QSettings.IniFormat)

    def _restore_geometry(self) -> None:
        qs = self._qsettings()
        geometry = qs.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = qs.value("state")
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def closeEvent(self, event) -> None:
        qs = self._qsettings()
        qs.setValue("geometry", self.saveGeometry())
        qs.setValue("state", self.saveState())
        qs.sync()
        super().closeEvent(event)
