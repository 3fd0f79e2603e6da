"""The sampling settings: sliders a class can follow, presets, and a signal on every change.

The panel holds a :class:`SamplerSettings` and replaces one field per control change, so settings the
controls cannot show exactly (a preset's temperature of 0.123) survive a round trip untouched. Every
range is a valid one: the panel cannot produce settings that fail validation.

The preset row is :class:`~desktop_app.ui.widgets.sampling_presets.PresetControls`; each number's slider
and spin box a :class:`~desktop_app.ui.widgets.slider_spin.SliderSpin`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QButtonGroup,
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.ui.core_text import preset_name
from desktop_app.ui.widgets.sampling_presets import PresetControls, PresetSource, ask_delete, ask_preset_name
from desktop_app.ui.widgets.slider_spin import SliderSpin
from desktop_app.ui.widgets.text_line import DIE

SEED_MAX = 2**31 - 1
MAX_TOKENS_LIMIT = 32768


class SamplingPanel(PresetControls, QWidget):
    """Sampler controls. ``settings_changed`` fires on every change (slider drags included)."""

    # SamplerSettings: the user changed one
    settings_changed: Signal = Signal(object)
    # SamplerSettings: shown by set_settings (a lesson, a chat, a preset)
    settings_set: Signal = Signal(object)
    max_tokens_changed: Signal = Signal(int)
    # the preset name to use whenever this model loads, or None
    model_default_changed: Signal = Signal(object)

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
        self._end_unavailable: str | None = None  # why the end controls are greyed out (set_end_unavailable)
        self._think_unavailable: str | None = None  # … the thinking's (set_thinking_unavailable)
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
        self._build_thinking(controls)
        self._build_repetition(controls)
        column.addWidget(controls)
        column.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
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
        hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
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
        self.repeat_last_n.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
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
        self.seed_spin.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
        self.seed_spin.setMinimumWidth(self.seed_spin.fontMetrics().horizontalAdvance("0000000000") + 10)
        self.seed_spin.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
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
        self.max_tokens_spin.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
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

    def _build_thinking(self, parent: QWidget) -> None:
        box = self._section(parent, self.tr("The end of the thinking"))
        self.think_wait = QSpinBox(box)
        self.think_wait.setRange(0, 50)
        self.think_wait.setSpecialValueText(self.tr("off"))
        self.think_wait.setSuffix(" ×")
        self.think_wait_hint = self._row(
            self.tr("Replace close"),
            self.think_wait,
            self.tr(
                "A thinking model (its reply opens with <think>): when it is about to close its thinking "
                "with </think>, take the close back and write the text of “Replace end” (' Wait') instead, "
                "up to this many times. It thinks longer: test-time scaling as the s1 paper does it."
            ),
        )
        self.think_budget = QSpinBox(box)
        self.think_budget.setRange(0, 32768)
        self.think_budget.setSingleStep(16)
        self.think_budget.setSpecialValueText(self.tr("no budget"))
        self.think_budget.setSuffix(self.tr(" tokens"))
        self.think_budget_hint = self._row(
            self.tr("Budget"),
            self.think_budget,
            self.tr(
                "After this many thinking tokens, </think> is written for the model and its answer begins: "
                "it thinks less. No budget = it closes its thinking itself."
            ),
        )
        self.think_wait.valueChanged.connect(lambda v: self._change(think_wait=v))
        self.think_budget.valueChanged.connect(lambda v: self._change(think_budget=v))

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
        parent = self.parentWidget()
        font = QFont(parent.font() if parent else QFont())
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

    def set_end_unavailable(self, reason: str | None) -> None:
        """Grey out banning and replacing the end token, with ``reason`` as their tooltip (a model on a
        server that samples every token itself); None: available again. They are turned off first."""
        self._end_unavailable = reason
        if reason is not None and (self._settings.ban_eos or self._settings.wait_count):
            self.set_settings(self._settings.replace(ban_eos=False, wait_count=0))
            self.settings_changed.emit(self._settings)
        self._grey((self.ban_eos, self.wait_count, self.wait_text), reason)
        self._update_hints()

    def set_thinking_unavailable(self, reason: str | None) -> None:
        """Grey out the end of the thinking's controls, with ``reason`` as their tooltip (a model on a
        server); None: available again. They are turned off first."""
        self._think_unavailable = reason
        s = self._settings
        if reason is not None and (s.think_wait or s.think_budget):
            self.set_settings(s.replace(think_wait=0, think_budget=0))
            self.settings_changed.emit(self._settings)
        self._grey((self.think_wait, self.think_budget), reason)
        self._update_hints()

    def _grey(self, widgets: tuple[QWidget, ...], reason: str | None) -> None:
        for w in widgets:
            if w.property("usual_tip") is None:
                w.setProperty("usual_tip", w.toolTip())
            w.setToolTip(reason if reason is not None else w.property("usual_tip"))

    def _show(self, s: SamplerSettings) -> None:
        widgets = (
            self.repeat_last_n, self.seed_random, self.seed_fixed, self.seed_spin,
            self.ban_eos, self.wait_count, self.wait_text, self.think_wait, self.think_budget,
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
        self.think_wait.setValue(s.think_wait)
        self.think_budget.setValue(s.think_budget)
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
        end_ok = self._end_unavailable is None
        self.ban_eos.setEnabled(end_ok)
        self.wait_count.setEnabled(end_ok and not s.ban_eos)
        think_ok = self._think_unavailable is None
        self.wait_text.setEnabled(
            end_ok and ((not s.ban_eos and s.wait_count > 0) or (think_ok and s.think_wait > 0))
        )
        self.think_wait.setEnabled(think_ok)
        self.think_budget.setEnabled(think_ok)
        self.think_wait_hint.setText("" if s.think_wait == 0 else f"{s.think_wait} ×")
        self.think_budget_hint.setText("")
        modified = self._preset_name is not None and s != self._preset_settings
        name = self._preset_name
        if name is not None and not self.preset_message.property("error"):
            changed = self.tr("Changed since loading “{name}”.").format(name=preset_name(name))
            self._say(changed if modified else "")
