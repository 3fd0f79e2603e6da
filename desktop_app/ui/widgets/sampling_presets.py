"""The sampling panel's presets: saved groups of settings, chosen from a list, saved under a name, deleted,
and the preset a model uses whenever it loads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

from PySide6.QtCore import QCoreApplication, SignalInstance
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.ui.core_text import preset_name

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


class PresetSource(Protocol):
    """What the panel needs from a preset store (the app passes the database-backed one)."""

    def list_presets(self) -> list[str]: ...
    def load_preset(self, name: str) -> SamplerSettings: ...
    def save_preset(self, name: str, settings: SamplerSettings) -> Any: ...
    def delete_preset(self, name: str) -> Any: ...
    def is_builtin(self, name: str) -> bool: ...


def ask_preset_name(parent: QWidget, suggestion: str) -> str | None:
    """Ask for a preset name; None when cancelled."""
    name, ok = QInputDialog.getText(
        parent,
        translate("SamplingPanel", "Save preset"),
        translate("SamplingPanel", "Name of the preset:"),
        text=suggestion,
    )
    return name.strip() if ok and name.strip() else None


def ask_delete(parent: QWidget, name: str) -> bool:
    answer = QMessageBox.question(
        parent,
        translate("SamplingPanel", "Delete preset"),
        translate("SamplingPanel", "Delete the preset “{name}”?").format(name=name),
    )
    return answer == QMessageBox.StandardButton.Yes


class PresetControls:
    """The preset row of :class:`~desktop_app.ui.widgets.sampling_panel.SamplingPanel` (a part of it, whose
    state it reads and keeps)."""

    if TYPE_CHECKING:  # what the panel provides
        _grid: QGridLayout
        _settings: SamplerSettings
        settings_changed: SignalInstance
        model_default_changed: SignalInstance
        name_prompt: Callable[[QWidget, str], str | None]
        confirm_delete: Callable[[QWidget, str], bool]

        def _section(self, parent: QWidget, title: str) -> QWidget: ...
        def set_settings(self, settings: SamplerSettings) -> None: ...

    def _build_presets(self, parent: QWidget) -> None:
        box = self._section(parent, translate("SamplingPanel", "Preset"))
        self.preset_combo = QComboBox(box)
        self.preset_combo.setPlaceholderText(translate("SamplingPanel", "Choose a preset…"))
        self.preset_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.preset_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.preset_combo.setMinimumContentsLength(8)
        self.preset_combo.setToolTip(
            translate("SamplingPanel", "Saved groups of settings. Pick one to use all its settings at once.")
        )
        self.preset_combo.activated.connect(lambda i: self.load_preset(self._name_at(i)))
        self.save_button = QPushButton(translate("SamplingPanel", "Save…"), box)
        self.save_button.setToolTip(
            translate("SamplingPanel", "Save the current settings as a preset under a name you choose.")
        )
        self.save_button.clicked.connect(self.save_preset)
        self.delete_button = QPushButton(translate("SamplingPanel", "Delete"), box)
        self.delete_button.setToolTip(
            translate("SamplingPanel", "Delete the chosen preset (built-in presets cannot be deleted).")
        )
        self.delete_button.clicked.connect(self.delete_preset)
        self.preset_message = QLabel("", box)
        self.preset_message.setWordWrap(True)
        self.preset_message.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.preset_message.setVisible(False)
        line_widget = QWidget(box)
        line = QHBoxLayout(line_widget)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.preset_combo, 1)
        line.addWidget(self.save_button)
        line.addWidget(self.delete_button)
        self.model_default = QCheckBox(
            translate("SamplingPanel", "Use this preset whenever this model loads"), box
        )
        self.model_default.setToolTip(
            translate("SamplingPanel", "Each model can have its own preset, chosen again when it loads.")
        )
        self.model_default.setEnabled(False)
        self.model_default.clicked.connect(self._on_model_default)
        row = self._grid.rowCount()
        self._grid.addWidget(line_widget, row, 0, 1, 3)
        self._grid.addWidget(self.model_default, row + 1, 0, 1, 3)
        self._grid.addWidget(self.preset_message, row + 2, 0, 1, 3)
        self._model_preset: str | None = None
        self._model_known = False

    def set_preset_source(self, presets: PresetSource | None) -> None:
        self._presets = presets
        self.refresh_presets()

    def preset_name(self) -> str | None:
        """The preset last loaded or saved (None when none)."""
        return self._preset_name

    def refresh_presets(self, select: str | None = None) -> None:
        names = [str(getattr(p, "name", p)) for p in self._presets.list_presets()] if self._presets else []
        self.preset_combo.blockSignals(True)
        self.preset_combo.clear()
        for name in names:  # a built-in preset shows its translated name; the item's data is its name
            self.preset_combo.addItem(preset_name(name), name)
        self.preset_combo.setCurrentIndex(names.index(select) if select in names else -1)
        self.preset_combo.blockSignals(False)
        if select not in names:
            self._preset_name = self._preset_settings = None
        for w in (self.preset_combo, self.save_button):
            w.setEnabled(self._presets is not None)
        self._update_delete()

    def load_preset(self, name: str) -> None:
        """Use the preset ``name`` (emits ``settings_changed``)."""
        if self._presets is None:
            return
        try:
            settings = self._presets.load_preset(name)
        except (LookupError, ValueError) as e:
            self._say(
                translate("SamplingPanel", "Could not load “{name}”: {error}").format(name=name, error=e),
                error=True,
            )
            self.refresh_presets()
            return
        self._preset_name, self._preset_settings = name, settings
        self.preset_combo.setCurrentIndex(self.preset_combo.findData(name))
        self._say("")
        self.set_settings(settings)
        self._update_delete()
        self.settings_changed.emit(settings)

    def save_preset(self) -> None:
        """Ask for a name and save the current settings under it."""
        if self._presets is None:
            return
        current = self._preset_name
        suggestion = current if current and not self._is_builtin(current) else ""
        name = self.name_prompt(cast(QWidget, self), suggestion)
        name = name.strip() if name else ""
        if not name:
            return
        if self._is_builtin(name):
            text = translate("SamplingPanel", "“{name}” is a built-in preset; save under another name.")
            self._say(text.format(name=preset_name(name)), error=True)
            return
        try:
            self._presets.save_preset(name, self._settings)
        except (LookupError, ValueError) as e:
            self._say(
                translate("SamplingPanel", "Could not save “{name}”: {error}").format(name=name, error=e),
                error=True,
            )
            return
        self.refresh_presets(select=name)
        self._preset_name, self._preset_settings = name, self._settings
        self._say(translate("SamplingPanel", "Saved as “{name}”.").format(name=name))
        self._update_delete()

    def delete_preset(self) -> None:
        """Delete the chosen user preset, after asking."""
        name = self._name_at(self.preset_combo.currentIndex())
        if self._presets is None or not name or self._is_builtin(name):
            return
        if not self.confirm_delete(cast(QWidget, self), name):
            return
        try:
            self._presets.delete_preset(name)
        except (LookupError, ValueError) as e:
            self._say(
                translate("SamplingPanel", "Could not delete “{name}”: {error}").format(name=name, error=e),
                error=True,
            )
            return
        self.refresh_presets()
        self._say(translate("SamplingPanel", "Deleted “{name}”.").format(name=name))

    def set_model_default(self, preset: str | None, *, model_known: bool = True) -> None:
        """The preset the loaded model uses by default (None: none); loads it when there is one."""
        self._model_preset, self._model_known = preset, model_known
        if preset is not None and self._presets is not None:
            self.load_preset(preset)
        self._update_model_default()

    def _on_model_default(self, on: bool) -> None:
        name = self._name_at(self.preset_combo.currentIndex()) or None
        self._model_preset = name if on and name else None
        self._update_model_default()
        self.model_default_changed.emit(self._model_preset)

    def _update_model_default(self) -> None:
        name = self._name_at(self.preset_combo.currentIndex())
        self.model_default.setEnabled(self._model_known and bool(name))
        self.model_default.setChecked(bool(name) and name == self._model_preset)

    def _name_at(self, index: int) -> str:
        """The preset name of the combo's item ``index`` ("" for none): its data, not its shown text."""
        if index < 0:
            return ""
        data = self.preset_combo.itemData(index)
        return str(data) if data is not None else self.preset_combo.itemText(index)

    def _is_builtin(self, name: str) -> bool:
        return bool(self._presets and self._presets.is_builtin(name))

    def _update_delete(self) -> None:
        name = self._name_at(self.preset_combo.currentIndex())
        self.delete_button.setEnabled(bool(self._presets and name and not self._is_builtin(name)))
        if hasattr(self, "model_default"):
            self._update_model_default()

    def _say(self, text: str, *, error: bool = False) -> None:
        self.preset_message.setProperty("error", error)
        self.preset_message.setForegroundRole(
            QPalette.ColorRole.Text if error else QPalette.ColorRole.PlaceholderText
        )
        self.preset_message.setText(text)
        self.preset_message.setVisible(bool(text))
