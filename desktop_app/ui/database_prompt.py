"""Opening the core services for the window: a damaged database gets an offer, not a traceback.

:func:`open_services` opens them with every page of the database read once (``Services.open(check=True)``).
When the database is damaged it asks whether to move it aside (the damaged file is kept as it is) and
start a new one with everything that can still be read, the same repair as ``tokendice db repair``; the
window then says what was carried over in its status bar. Declined, the app quits and changes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_app.core.services import Services
from desktop_app.core.store.db import DatabaseDamaged

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


def ask_to_repair(sentence: str) -> bool:
    """The dialog: move the damaged database aside and start a new one (True), or quit (False)."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, translate("DatabasePrompt", "TokenDice's database is damaged"), ""
    )
    box.setText(
        translate(
            "DatabasePrompt", "TokenDice's database is damaged, so TokenDice cannot start with it as it is."
        )
    )
    box.setInformativeText(
        translate(
            "DatabasePrompt",
            "Move it aside and start a new database? The damaged file is kept as it is, and everything "
            "that can still be read (chats, models, presets) is carried over to the new one.",
        )
    )
    box.setDetailedText(sentence)
    repair = box.addButton(
        translate("DatabasePrompt", "Move Aside and Start Fresh"), QMessageBox.ButtonRole.AcceptRole
    )
    box.addButton(translate("DatabasePrompt", "Quit"), QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(repair)
    box.setObjectName("database_repair_prompt")
    box.exec()
    return box.clickedButton() is repair


def open_services(
    argv: Sequence[str] | None = None, *, ask: Callable[[str], bool] | None = None
) -> Services | None:
    """The services for the window, or None when the user chose to quit instead of repairing.

    Errors other than a damaged database propagate as the store's sentences (the command line prints
    them). ``ask`` replaces the dialog (tests); it gets the store's sentence.
    """
    try:
        return Services.open(check=True)
    except DatabaseDamaged as exc:
        if QApplication.instance() is None:
            QApplication(list(argv) if argv is not None else sys.argv[:1])
        if not (ask or ask_to_repair)(str(exc)):
            return None
    report = Services.repair()
    services = Services.open(check=True)
    services.notices.append(report.sentence())
    return services


__all__ = ["ask_to_repair", "open_services"]
