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

    from desktop_app.qt_platform import paint_on_one_thread, xcb_problem

    paint_on_one_thread()
    # Qt aborts the process when its xcb plugin misses a system library: say which, and stop cleanly.
    if QApplication.instance() is None and (problem := xcb_problem()):
        print(f"tokendice: error: {problem}", file=sys.stderr)
        return 1

    from desktop_app.ui.database_prompt import open_services
    from desktop_app.ui.i18n import install_translators, language_font, resolved_language
    from desktop_app.ui.main_window import MainWindow

    services = open_services(argv)  # a damaged database gets an offer to repair it; declined: quit
    if services is None:
        return 1
    if services.settings.warning and sys.stderr is not None:  # the window says it too
        print(f"tokendice: warning: {services.settings.warning}", file=sys.stderr)
    try:
        from desktop_app.core.models.library import ModelNotFound

        # Resolve before any window exists: a bad --model is a one-line error, not a broken window.
        # Without --model, a missing default (no bundled model installed) opens the window on the
        # Models page instead.
        try:
            entry = services.library.resolve(model or services.settings.settings.default_model)
        except ModelNotFound:
            if model is not None:
                raise
            entry = None
        if entry is not None and not entry.usable:
            if model is not None:
                raise ModelNotFound(entry.error or f"the model {entry.id} cannot be used")
            entry = None
        app = QApplication.instance() or QApplication(list(argv) if argv is not None else sys.argv[:1])
        # instance() is typed as the QCoreApplication base; the window needs the widget application.
        assert isinstance(app, QApplication), "the window needs a QApplication, not a bare QCoreApplication"
        app.setApplicationName(APP_NAME)
        app.setApplicationVersion(__version__)
        app.setOrganizationName(APP_NAME)
        app.setDesktopFileName("tokendice")  # Wayland links the windows to tokendice.desktop
        app.setWindowIcon(_app_icon())
        # The interface language, before any widget exists: the setting, or the system's languages.
        language = resolved_language(services.settings.settings.language)
        install_translators(app, language)
        app.setFont(language_font(app.font(), language))
        window = MainWindow(services, current=entry, language=language)
        store_errors_to(window)
        window.show()
        if smoke_test:
            if entry is None:
                raise ModelNotFound("the smoke test needs a model: install the bundled one (tokendice[demo])")
            _arm_smoke_test(app, window, entry.display_name)
        return app.exec()
    finally:
        services.close()


def store_errors_to(window) -> None:
    """A store error that reaches the event loop from a slot (a full disk while renaming a chat, a damaged
    page while opening one) is shown as its sentence in the window's status bar, not printed as a
    traceback the user never sees; anything else goes on to Python's hook."""
    from desktop_app.core.store.db_errors import DatabaseError

    previous = sys.excepthook

    def hook(kind, exc, tb) -> None:
        if isinstance(exc, DatabaseError):
            try:
                window.statusBar().showMessage(str(exc), 60000)
                return
            except RuntimeError:  # the window has gone
                pass
        previous(kind, exc, tb)

    sys.excepthook = hook


def _app_icon():
    from PySide6.QtGui import QIcon

    from desktop_app.resources_path import app_icon_files

    icon = QIcon()
    for path in app_icon_files():
        icon.addFile(str(path))
    return icon


def _arm_smoke_test(app, window, name: str) -> None:
    """Wait for the model, generate a few tokens through the real engine, print a line, quit (exit 1 on
    failure or after 120 s)."""
    from PySide6.QtCore import QTimer

    def done(ok: bool, text: str) -> None:
        print(text, flush=True)
        window.close()
        app.exit(0 if ok else 1)

    def loaded(_model) -> None:
        print(f"smoke test: window shown with {name}", flush=True)
        window.controller.max_tokens = 8
        window.controller.send("Say hello.")

    def finished(event) -> None:
        n = event.result.generated
        done(n > 0, f"smoke test: generated {n} tokens ({event.result.stop_reason})")

    # The window's own signals: emitted on the GUI thread (a plain function connected to the worker's
    # signals would run on the engine thread).
    window.model_loaded.connect(loaded)
    window.model_failed.connect(lambda message: done(False, f"smoke test: load failed: {message}"))
    window.controller.finished.connect(finished)
    QTimer.singleShot(120_000, lambda: done(False, "smoke test: timed out"))
