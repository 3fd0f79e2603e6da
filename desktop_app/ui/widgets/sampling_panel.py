"""The sampling settings: sliders a class can follow, presets, and a signal on every change.

The panel holds a :class:`SamplerSettings` and replaces one field per control change, so settings the
controls cannot show exactly (a preset's temperature of 0.123) survive a round trip untouched. Every
range is a valid one: the panel cannot produce settings that fail validation.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.sampler import SamplerSettings
from desktop_app.ui.core_text import preset_name
from desktop_app.ui.widgets.text_line import DIE

SEED_MAX = 2**31 - 1
MAX_TOKENS_LIMIT = 32768
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
    return answer == QMessageBox.Yes


class SliderSpin(QWidget):
    """A slider and a spin box showing one number; the slider may cover less than the spin box."""

    changed = Signal(float)

    def __init__(
        self,
        parent: QWidget,
        *,
        minimum: float,
        maximum: float,
        step: float,
        decimals: int = 2,
        slider_range: tuple[float, float] | None = None,
        special: str = "",
    ):
        super().__init__(parent)
        self._integer = decimals == 0
        self.spin = QSpinBox(self) if self._integer else QDoubleSpinBox(self)
        if not self._integer:
            self.spin.setDecimals(decimals)
        self.spin.setRange(minimum, maximum)
        self.spin.setSingleStep(step)
        self.spin.setSpecialValueText(special)
        self.spin.setAccelerated(True)
        widest = translate("SamplingPanel", "0 greedy")  # the longest special text: every row aligned
        self.spin.setMinimumWidth(self.spin.fontMetrics().horizontalAdvance(widest) + 36)
        self._scale = 1 if self._integer else 10**decimals
        lo, hi = slider_range or (minimum, maximum)
        self.slider = QSlider(Qt.Horizontal, self)
        self.slider.setRange(round(lo * self._scale), round(hi * self._scale))
        self.slider.setSingleStep(max(1, round(step * self._scale)))
        self.slider.setPageStep(max(1, round(step * self._scale * 5)))
        self.slider.setMinimumWidth(60)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.slider.valueChanged.connect(self._from_slider)
        self.spin.valueChanged.connect(self._from_spin)

    def value(self) -> float:
        return self.spin.value()

    def set_value(self, value: float) -> None:
        """Show ``value`` without emitting ``changed``."""
        for w in (self.spin, self.slider):
            w.blockSignals(True)
        self.spin.setValue(round(value) if self._integer else value)
        self.slider.setValue(round(self.spin.value() * self._scale))
        for w in (self.spin, self.slider):
            w.blockSignals(False)

    def setToolTip(self, text: str) -> None:
        super().setToolTip(text)
        self.slider.setToolTip(text)
        self.spin.setToolTip(text)

    def _from_slider(self, position: int) -> None:
        self.spin.blockSignals(True)
        self.spin.setValue(position if self._integer else position / self._scale)
        self.spin.blockSignals(False)
        self.changed.emit(float(self.spin.value()))

    def _from_spin(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(value * self._scale))
        self.slider.blockSignals(False)
        self.changed.emit(float(value))


class SamplingPanel(QWidget):
    """Sampler controls. ``settings_changed`` fires on every change (slider drags included)."""

    settings_changed = Signal(object)  # SamplerSettings: the user changed one
    settings_set = Signal(object)  # SamplerSettings: shown by set_settings (a lesson, a chat, a preset)
    max_tokens_changed = Signal(int)
    model_default_changed = Signal(object)  # the preset name to use whenever this model loads, or None

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        presets: PresetSource | None = None,
        settings: SamplerSettings | None = None,
        max_tokens: int = 256,
    ):
        super().__init__(parent)
        self._settings = settings or SamplerSettings()
        self._presets: PresetSource | None = None
        self._preset_name: str | None = None
        self._preset_settings: SamplerSettings | None = None
        # Injectable for tests and for the app: the name dialog, the delete confirmation, the dice.
        self.name_prompt: Callable[[QWidget, str], str | None] = ask_preset_name
        self.confirm_delete: Callable[[QWidget, str], bool] = ask_delete
        self.rng = random.Random()

        content = QWidget(self)
        column = QVBoxLayout(content)
        # One grid for every control, so labels, sliders and numbers line up across the sections.
        controls = QWidget(content)
        self._grid = QGridLayout(controls)
        self._grid.setContentsMargins(4, 0, 4, 0)
        self._grid.setColumnStretch(1, 1)
        self._grid.setHorizontalSpacing(10)
        # What a lesson in front of a room touches first (the stages, the die and the length, the end of
        # the reply: ban it or replace it with "Wait"), then the penalties, which it rarely does.
        self._build_presets(controls)
        self._build_randomness(controls)
        self._build_die(controls, max_tokens)
        self._build_end(controls)
        self._build_repetition(controls)
        column.addWidget(controls)
        column.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        # never narrower than the controls: a cut-off button or hint reads as broken
        bar = scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(content.minimumSizeHint().width() + bar)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self._show(self._settings)
        self.set_preset_source(presets)

    # --- building ------------------------------------------------------------------------------
    def _row(self, label: str, control: QWidget, tip: str, *, wide: bool = False) -> QLabel:
        """Add ``label | control | hint`` to the grid; returns the hint label. ``wide``: the control
        takes the hint's column too (its hint label is not shown)."""
        grid = self._grid
        row = grid.rowCount()
        name = QLabel(label, grid.parentWidget())
        hint = QLabel("", grid.parentWidget())
        hint.setForegroundRole(QPalette.PlaceholderText)
        # wide enough for the longest hint ("greedy: top token"), so none is cut in half
        hint.setMinimumWidth(hint.fontMetrics().horizontalAdvance(self.tr("greedy: top token")) + 4)
        for w in (name, control, hint):
            w.setToolTip(tip)
        name.setBuddy(control if not isinstance(control, SliderSpin) else control.spin)
        grid.addWidget(name, row, 0)
        if wide:
            grid.addWidget(control, row, 1, 1, 2)
            hint.hide()
        else:
            grid.addWidget(control, row, 1)
            grid.addWidget(hint, row, 2)
        return hint

    def _section(self, parent: QWidget, title: str) -> QWidget:
        """A bold heading row in the grid; returns the parent for the section's controls."""
        heading = QLabel(title, parent)
        font = QFont(heading.font())
        font.setBold(True)
        heading.setFont(font)
        row = self._grid.rowCount()
        if row:
            self._grid.setRowMinimumHeight(row, 10)  # a gap before every section but the first
            row += 1
        self._grid.addWidget(heading, row, 0, 1, 3)
        return parent

    def _build_presets(self, parent: QWidget) -> None:
        box = self._section(parent, self.tr("Preset"))
        self.preset_combo = QComboBox(box)
        self.preset_combo.setPlaceholderText(self.tr("Choose a preset…"))
        self.preset_combo.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.preset_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(8)
        self.preset_combo.setToolTip(
            self.tr("Saved groups of settings. Pick one to use all its settings at once.")
        )
        self.preset_combo.activated.connect(lambda i: self.load_preset(self._name_at(i)))
        self.save_button = QPushButton(self.tr("Save…"), box)
        self.save_button.setToolTip(self.tr("Save the current settings as a preset under a name you choose."))
        self.save_button.clicked.connect(self.save_preset)
        self.delete_button = QPushButton(self.tr("Delete"), box)
        self.delete_button.setToolTip(
            self.tr("Delete the chosen preset (built-in presets cannot be deleted).")
        )
        self.delete_button.clicked.connect(self.delete_preset)
        self.preset_message = QLabel("", box)
        self.preset_message.setWordWrap(True)
        self.preset_message.setForegroundRole(QPalette.PlaceholderText)
        self.preset_message.setVisible(False)
        line_widget = QWidget(box)
        line = QHBoxLayout(line_widget)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.preset_combo, 1)
        line.addWidget(self.save_button)
        line.addWidget(self.delete_button)
        self.model_default = QCheckBox(self.tr("Use this preset whenever this model loads"), box)
        self.model_default.setToolTip(
            self.tr("Each model can have its own preset, chosen again when it loads.")
        )
        self.model_default.setEnabled(False)
        self.model_default.clicked.connect(self._on_model_default)
        row = self._grid.rowCount()
        self._grid.addWidget(line_widget, row, 0, 1, 3)
        self._grid.addWidget(self.model_default, row + 1, 0, 1, 3)
        self._grid.addWidget(self.preset_message, row + 2, 0, 1, 3)
        self._model_preset: str | None = None
        self._model_known = False

    def _build_randomness(self, parent: QWidget) -> None:
        box = self._section(parent, self.tr("How the next token is picked"))
        self.temperature = SliderSpin(box, minimum=0, maximum=2, step=0.05, special=self.tr("0 greedy"))
        self.temperature_hint = self._row(
            self.tr("Temperature"),
            self.temperature,
            self.tr(
                "How adventurous the pick is. Low: the likely tokens get even likelier. High: the odds are "
                "flattened and surprising tokens get a chance. 0 always takes the most likely token."
            ),
        )
        self.top_k = SliderSpin(
            box, minimum=0, maximum=100000, step=1, decimals=0, slider_range=(0, 100), special=self.tr("off")
        )
        self.top_k_hint = self._row(
            self.tr("Top-k"),
            self.top_k,
            self.tr("Keep only the k most likely tokens and throw the rest away before rolling. 0 = off."),
        )
        self.top_p = SliderSpin(box, minimum=0, maximum=1, step=0.01)
        self.top_p_hint = self._row(
            self.tr("Top-p"),
            self.top_p,
            self.tr(
                "Keep the most likely tokens until together they reach this share of the probability "
                "(0.9 = 90 %), drop the long tail. 1 = off."
            ),
        )
        self.min_p = SliderSpin(box, minimum=0, maximum=1, step=0.01, special=self.tr("off"))
        self.min_p_hint = self._row(
            self.tr("Min-p"),
            self.min_p,
            self.tr(
                "Drop every token less likely than this fraction of the best one (0.05 = 5 % of the top "
                "token's chance). 0 = off."
            ),
        )
        self.temperature.changed.connect(lambda v: self._change(temperature=v))
        self.top_k.changed.connect(lambda v: self._change(top_k=int(v)))
        self.top_p.changed.connect(lambda v: self._change(top_p=v))
        self.min_p.changed.connect(lambda v: self._change(min_p=v))

    def _build_repetition(self, parent: QWidget) -> None:
        box = self._section(parent, self.tr("Repetition"))
        self.repeat_penalty = SliderSpin(box, minimum=0.05, maximum=3, step=0.05, slider_range=(0.5, 2))
        self.repeat_hint = self._row(
            self.tr("Penalty"),
            self.repeat_penalty,
            self.tr(
                "Make tokens that were already used less likely, so the model repeats itself less. "
                "1 = off; above 1 punishes repeats, below 1 encourages them."
            ),
        )
        self.repeat_last_n = QSpinBox(box)
        self.repeat_last_n.setRange(-1, 8192)
        self.repeat_last_n.setSpecialValueText(self.tr("whole text"))
        self.repeat_last_n.setSuffix(self.tr(" tokens"))
        self.repeat_last_n.setSizePolicy(QSizePolicy.Maximum, QSizePolicy.Fixed)
        self.repeat_window_hint = self._row(
            self.tr("Look back"),
            self.repeat_last_n,
            self.tr(
                "How many of the latest tokens count as 'already used' for the penalty. 0 = off; the "
                "lowest value looks back over the whole text."
            ),
        )
        self.repeat_penalty.changed.connect(lambda v: self._change(repeat_penalty=v))
        self.repeat_last_n.valueChanged.connect(lambda v: self._change(repeat_last_n=v))

    def _build_die(self, parent: QWidget, max_tokens: int) -> None:
        box = self._section(parent, self.tr("The die and the length"))
        seed_row = QWidget(box)
        line = QHBoxLayout(seed_row)
        line.setContentsMargins(0, 0, 0, 0)
        self.seed_random = QRadioButton(self.tr("random"), seed_row)
        self.seed_fixed = QRadioButton(self.tr("fixed:"), seed_row)
        self._seed_group = QButtonGroup(self)
        self._seed_group.addButton(self.seed_random)
        self._seed_group.addButton(self.seed_fixed)
        self.seed_spin = QSpinBox(seed_row)
        self.seed_spin.setRange(0, SEED_MAX)
        self.seed_spin.setButtonSymbols(QAbstractSpinBox.NoButtons)
        self.seed_spin.setMinimumWidth(self.seed_spin.fontMetrics().horizontalAdvance("0000000000") + 10)
        self.seed_spin.setSizePolicy(QSizePolicy.Maximum, QSizePolicy.Fixed)
        self.dice_button = QToolButton(seed_row)
        self.dice_button.setText(DIE)
        self.dice_button.setToolTip(self.tr("Pick a new seed number at random and keep it fixed."))
        for w in (self.seed_random, self.seed_fixed, self.seed_spin, self.dice_button):
            line.addWidget(w)
        line.addStretch(1)
        self.seed_hint = self._row(
            self.tr("Seed"),
            seed_row,
            self.tr(
                "The starting number of the die. Random: every run rolls differently. Fixed: the same "
                "number gives the same rolls again, so a run can be repeated exactly."
            ),
            wide=True,
        )
        self.dice_button.setToolTip(self.tr("Pick a new seed number at random and keep it fixed."))
        self.max_tokens_spin = QSpinBox(box)
        self.max_tokens_spin.setRange(1, MAX_TOKENS_LIMIT)
        self.max_tokens_spin.setValue(max_tokens)
        self.max_tokens_spin.valueChanged.connect(self._max_tokens_suffix)
        self._max_tokens_suffix(max_tokens)
        self.max_tokens_spin.setSizePolicy(QSizePolicy.Maximum, QSizePolicy.Fixed)
        self._row(
            self.tr("Max length"), self.max_tokens_spin, self.tr("Stop the reply after this many tokens.")
        )
        self.seed_random.toggled.connect(self._on_seed_mode)
        self.seed_spin.valueChanged.connect(self._on_seed_value)
        self.dice_button.clicked.connect(self.roll_seed)
        self.max_tokens_spin.valueChanged.connect(self.max_tokens_changed)

    def _build_end(self, parent: QWidget) -> None:
        box = self._section(parent, self.tr("The end of the reply"))
        self.ban_eos = QCheckBox(self.tr("Ban the end token (never stop by itself)"), box)
        self.ban_eos.setToolTip(
            self.tr(
                "The model says 'I am done' with a special end token. Banning it removes that token, so "
                "the model has to keep writing until the length limit."
            )
        )
        self._grid.addWidget(self.ban_eos, self._grid.rowCount(), 0, 1, 3)
        wait_row = QWidget(box)
        line = QHBoxLayout(wait_row)
        line.setContentsMargins(0, 0, 0, 0)
        self.wait_count = QSpinBox(wait_row)
        self.wait_count.setRange(0, 50)
        self.wait_count.setSpecialValueText(self.tr("off"))
        self.wait_count.setSuffix(" ×")
        self.wait_text = QLineEdit(wait_row)
        self.wait_text.setPlaceholderText(self.tr("text put in its place"))
        line.addWidget(self.wait_count)
        line.addWidget(self.wait_text, 1)
        self.wait_hint = self._row(
            self.tr("Replace end"),
            wait_row,
            self.tr(
                "When the model wants to stop, write this text instead (e.g. ' Wait'), up to this many "
                "times: it makes the model think further. Off = stop normally."
            ),
        )
        self.ban_eos.toggled.connect(lambda on: self._change(ban_eos=on))
        self.wait_count.valueChanged.connect(lambda v: self._change(wait_count=v))
        self.wait_text.textChanged.connect(lambda t: self._change(wait_text=t))

    # --- settings ------------------------------------------------------------------------------
    def settings(self) -> SamplerSettings:
        return self._settings

    def set_settings(self, settings: SamplerSettings) -> None:
        """Show ``settings`` (no ``settings_changed``: the caller knows what it set)."""
        self._settings = settings
        self._show(settings)
        self.settings_set.emit(settings)

    def max_tokens(self) -> int:
        return self.max_tokens_spin.value()

    def _max_tokens_suffix(self, n: int) -> None:
        """The length in words: "1 token", "48 tokens"."""
        self.max_tokens_spin.setSuffix(self.tr(" token") if n == 1 else self.tr(" tokens"))

    def set_max_tokens(self, n: int) -> None:
        self.max_tokens_spin.blockSignals(True)
        self.max_tokens_spin.setValue(n)
        self.max_tokens_spin.blockSignals(False)

    def roll_seed(self) -> int:
        """Pick a new random seed, fix it and return it."""
        seed = self.rng.randrange(SEED_MAX + 1)
        self._change(seed=seed)
        self._show(self._settings)
        return seed

    def set_font_scale(self, scale: float) -> None:
        """Scale every text of the panel (1.0 = the application font)."""
        font = QFont(self.parentWidget().font() if self.parentWidget() else QFont())
        size = font.pointSizeF() if font.pointSizeF() > 0 else 10.0
        font.setPointSizeF(size * min(max(scale, 0.5), 4.0))
        self.setFont(font)

    def _change(self, **field: Any) -> None:
        self._settings = self._settings.replace(**field)
        self._update_hints()
        self.settings_changed.emit(self._settings)

    def _on_seed_value(self, seed: int) -> None:
        if self.seed_fixed.isChecked():
            self._change(seed=seed)

    def _on_seed_mode(self, random_seed: bool) -> None:
        self.seed_spin.setEnabled(not random_seed)
        self._change(seed=None if random_seed else self.seed_spin.value())

    def _show(self, s: SamplerSettings) -> None:
        widgets = (
            self.repeat_last_n, self.seed_random, self.seed_fixed, self.seed_spin,
            self.ban_eos, self.wait_count, self.wait_text,
        )  # fmt: skip
        for w in widgets:
            w.blockSignals(True)
        self.temperature.set_value(s.temperature)
        self.top_k.set_value(max(s.top_k, 0))
        self.top_p.set_value(s.top_p)
        self.min_p.set_value(s.min_p)
        self.repeat_penalty.set_value(s.repeat_penalty)
        self.repeat_last_n.setValue(s.repeat_last_n)
        (self.seed_random if s.seed is None else self.seed_fixed).setChecked(True)
        if s.seed is not None:
            self.seed_spin.setValue(min(s.seed, SEED_MAX))
        self.seed_spin.setEnabled(s.seed is not None)
        self.ban_eos.setChecked(s.ban_eos)
        self.wait_count.setValue(s.wait_count)
        if self.wait_text.text() != s.wait_text:
            self.wait_text.setText(s.wait_text)
        for w in widgets:
            w.blockSignals(False)
        self._update_hints()

    def _update_hints(self) -> None:
        s = self._settings
        t = s.temperature
        if t <= 0:
            hint = self.tr("greedy: top token")
        else:
            hint = self.tr("sharper") if t < 0.95 else self.tr("flatter") if t > 1.05 else self.tr("as is")
        self.temperature_hint.setText(hint)
        off = self.tr("off")
        self.top_k_hint.setText(off if s.top_k <= 0 else self.tr("keep {k}").format(k=s.top_k))
        self.top_p_hint.setText(off if s.top_p >= 1 else self.tr("keep {p}").format(p=f"{s.top_p:.0%}"))
        self.min_p_hint.setText(off if s.min_p <= 0 else self.tr("≥ {p} of top").format(p=f"{s.min_p:.0%}"))
        rp = s.repeat_penalty
        self.repeat_hint.setText(
            off if rp == 1 else self.tr("fewer repeats") if rp > 1 else self.tr("more repeats")
        )
        self.repeat_window_hint.setText(self.tr("penalty off") if s.repeat_last_n == 0 else "")
        self.seed_hint.setText("")
        self.wait_hint.setText("" if s.wait_count == 0 else f"{s.wait_count} ×")
        self.wait_count.setEnabled(not s.ban_eos)
        self.wait_text.setEnabled(not s.ban_eos and s.wait_count > 0)
        modified = self._preset_name is not None and s != self._preset_settings
        name = self._preset_name
        if name is not None and not self.preset_message.property("error"):
            changed = self.tr("Changed since loading “{name}”.").format(name=preset_name(name))
            self._say(changed if modified else "")

    # --- presets -------------------------------------------------------------------------------
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
            self._say(self.tr("Could not load “{name}”: {error}").format(name=name, error=e), error=True)
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
        name = self.name_prompt(self, suggestion)
        name = name.strip() if name else ""
        if not name:
            return
        if self._is_builtin(name):
            text = self.tr("“{name}” is a built-in preset; save under another name.")
            self._say(text.format(name=preset_name(name)), error=True)
            return
        try:
            self._presets.save_preset(name, self._settings)
        except (LookupError, ValueError) as e:
            self._say(self.tr("Could not save “{name}”: {error}").format(name=name, error=e), error=True)
            return
        self.refresh_presets(select=name)
        self._preset_name, self._preset_settings = name, self._settings
        self._say(self.tr("Saved as “{name}”.").format(name=name))
        self._update_delete()

    def delete_preset(self) -> None:
        """Delete the chosen user preset, after asking."""
        name = self._name_at(self.preset_combo.currentIndex())
        if self._presets is None or not name or self._is_builtin(name):
            return
        if not self.confirm_delete(self, name):
            return
        try:
            self._presets.delete_preset(name)
        except (LookupError, ValueError) as e:
            self._say(self.tr("Could not delete “{name}”: {error}").format(name=name, error=e), error=True)
            return
        self.refresh_presets()
        self._say(self.tr("Deleted “{name}”.").format(name=name))

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
        self.preset_message.setForegroundRole(QPalette.Text if error else QPalette.PlaceholderText)
        self.preset_message.setText(text)
        self.preset_message.setVisible(bool(text))
