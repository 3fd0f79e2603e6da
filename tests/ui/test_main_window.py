from __future__ import annotations

from PySide6.QtCore import Qt

from desktop_app.core.models.bundled import BUNDLED_ID
from desktop_app.core.services import Services
from desktop_app.ui.main_window import MainWindow


def _window(qtbot) -> tuple[MainWindow, Services]:
    services = Services.open()
    window = MainWindow(services, current=services.library.resolve("default"))
    qtbot.addWidget(window)
    return window, services


def test_window_lists_the_bundled_model_with_its_metadata(qtbot):
    window, services = _window(qtbot)
    try:
        window.show()
        qtbot.waitExposed(window)
        assert window.model_list.topLevelItemCount() == 1
        item = window.model_list.topLevelItem(0)
        assert item.data(0, Qt.UserRole) == BUNDLED_ID
        assert item.text(1) == "llama" and item.text(2) == "135M" and item.text(3) == "Q4_1"
        assert item.text(5) == "8,192" and item.text(6) == "yes"
        assert "SmolLM2" in window.windowTitle()
        assert "135M parameters" in window.model_label.text()
    finally:
        window.close()
        services.close()


def test_geometry_is_restored_after_restart(qtbot):
    window, services = _window(qtbot)
    window.show()
    window.resize(640, 455)
    qtbot.waitUntil(lambda: window.size().height() == 455)
    window.close()
    services.close()

    again, services = _window(qtbot)
    try:
        assert (again.size().width(), again.size().height()) == (640, 455)
    finally:
        again.close()
        services.close()


def test_a_settings_warning_reaches_the_status_bar(qtbot, tokendice_home):
    settings = tokendice_home / "config" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text("{broken")
    window, services = _window(qtbot)
    try:
        assert "could not be read" in window.statusBar().currentMessage()
    finally:
        window.close()
        services.close()
