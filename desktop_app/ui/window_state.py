"""What the window keeps from one run to the next: its geometry and docks, the sampler settings, the reply
length, whether tokens are shown and the last chat in its own preferences file (window.ini); and changes
to the app's settings file made from the window."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings

from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.services import Services

if TYPE_CHECKING:
    from desktop_app.ui.window_host import WindowHost


def preferences(config_dir: Path) -> QSettings:
    """The window's preferences file in ``config_dir``."""
    return QSettings(str(config_dir / "window.ini"), QSettings.Format.IniFormat)


def restore(window: WindowHost, qs: QSettings) -> None:
    """The window's geometry and docks, and the user's sampler settings, reply length and tokens shown,
    as ``qs`` kept them; what it does not hold stays as it is."""
    geometry = qs.value("geometry")
    if isinstance(geometry, QByteArray):
        window.restoreGeometry(geometry)
    state = qs.value("state")
    if isinstance(state, QByteArray):
        window.restoreState(state)
    sampler = qs.value("sampler")
    if isinstance(sampler, str):
        try:
            settings = SamplerSettings.from_dict(json.loads(sampler))
        except (ValueError, TypeError):
            settings = None
        if settings is not None:
            window.sampling.set_settings(settings)
    max_tokens = qs.value("max_tokens")
    if isinstance(max_tokens, (int, str)) and str(max_tokens).isdigit():
        window.sampling.set_max_tokens(int(max_tokens))
    window.controller.set_settings(window.sampling.settings())
    window.controller.max_tokens = window.sampling.max_tokens()
    window.chat.show_tokens.setChecked(qs.value("show_tokens", "true") in (True, "true"))


def save(window: WindowHost, qs: QSettings, settings: SamplerSettings, max_tokens: int) -> None:
    """Keep the window's geometry and docks, the user's own ``settings`` and ``max_tokens``, whether
    tokens are shown and the chat open, in ``qs``."""
    qs.setValue("geometry", window.saveGeometry())
    qs.setValue("state", window.saveState())
    qs.setValue("sampler", json.dumps(settings.to_dict()))
    qs.setValue("max_tokens", max_tokens)
    qs.setValue("show_tokens", window.chat.show_tokens.isChecked())
    if window.controller.chat_id is not None:
        qs.setValue("last_chat", window.controller.chat_id)
    else:
        qs.remove("last_chat")
    qs.sync()


def save_settings(services: Services, **changes: object) -> None:
    """Change these settings in the file as it is now (what was saved since the start stays)."""
    store = services.settings_store
    store.save(replace(store.load().settings, **changes))
