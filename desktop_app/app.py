"""Build the QApplication, the core services and the main window: the one place the layers are wired."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from desktop_app import APP_NAME, __version__


def run_gui(model: str | None = None, argv: Sequence[str] | None = None, *, smoke_test: bool = False) -> int:
    """Open the desktop app; ``model`` is a .gguf path, a library id, 'default', or None (the settings').

    ``smoke_test`` opens the window, waits until it is on screen, prints one line and quits: a check that
    an installation (or a frozen bundle) really starts.
    """
    from PySide6.QtWidgets import QApplication

    from desktop_app.core.services import Services
    from desktop_app.ui.main_window import MainWindow

    services = Services.open()
    try:
        # Resolve before any window exists: a bad --model is a one-line error, not a broken window.
        entry = services.library.resolve(model or services.settings.settings.default_model)
        if not entry.usable:
            from desktop_app.core.models.library import ModelNotFound

            raise ModelNotFound(entry.error or f"the model {entry.id} cannot be used")
        app = QApplication.instance() or QApplication(list(argv) if argv is not None else sys.argv[:1])
        app.setApplicationName(APP_NAME)
        app.setApplicationVersion(__version__)
        app.setOrganizationName(APP_NAME)
        window = MainWindow(services, current=entry)
        window.show()
        if smoke_test:
            from PySide6.QtCore import QTimer

            def report() -> None:
                print(f"smoke test: window shown with {entry.display_name}", flush=True)
                window.close()
                app.quit()

            QTimer.singleShot(0, report)
        return app.exec()
    finally:
        services.close()


def main() -> None:
    """The ``tokendice-gui`` launcher."""
    from desktop_app.cli import main as cli_main

    sys.exit(cli_main(["gui", *sys.argv[1:]]))
