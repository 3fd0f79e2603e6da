"""The end-of-reply controls where the end is taught: beside the end lane, not only at the foot of the
Sampling panel (below the fold on a laptop screen, where a teacher had to scroll to them in front of a
room). The Sampling panel keeps the settings; these follow it and change it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from desktop_app.core.sampler_settings import SamplerSettings

if TYPE_CHECKING:
    from desktop_app.ui.widgets.sampling_panel import SamplingPanel


class EndControls(QWidget):
    """Ban the end token; replace it with a text (" Wait") up to N times."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ban = QCheckBox(self.tr("Ban the end token"), self)
        self.ban.setToolTip(self.tr("The model cannot stop by itself: it writes until the length limit."))
        self.replace_label = QLabel(self.tr("Replace the end with"), self)
        self.text = QLineEdit(self)
        self.text.setMaximumWidth(self.fontMetrics().horizontalAdvance("M" * 9))
        self.count = QSpinBox(self)
        self.count.setRange(0, 50)
        self.count.setSpecialValueText(self.tr("off"))
        self.count.setSuffix(" ×")
        self.count.setToolTip(
            self.tr("When the model wants to stop, this text is written instead, up to this many times.")
        )
        line = QHBoxLayout(self)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.ban)
        line.addSpacing(12)
        line.addWidget(self.replace_label)
        line.addWidget(self.text)
        line.addWidget(self.count)
        line.addStretch(1)
        self._panel: SamplingPanel | None = None
        # The lane's width decides, not these controls': a narrow dock cuts them at the right rather than
        # widen the docks it shares its tabs with (and the window is not laid out again when a value's
        # text changes its width).
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def mirror(self, panel: SamplingPanel) -> None:
        """Show ``panel``'s end settings and change them there (where they are kept)."""
        self._panel = panel
        panel.settings_changed.connect(self.show_settings)
        panel.settings_set.connect(self.show_settings)
        self.ban.toggled.connect(panel.ban_eos.setChecked)
        self.count.valueChanged.connect(panel.wait_count.setValue)
        self.text.textChanged.connect(self._text_edited)
        self.show_settings(panel.settings())

    def show_settings(self, s: SamplerSettings) -> None:
        for w in (self.ban, self.count, self.text):
            w.blockSignals(True)
        self.ban.setChecked(s.ban_eos)
        self.count.setValue(s.wait_count)
        if self.text.text() != s.wait_text:
            self.text.setText(s.wait_text)
        self.text.setEnabled(s.wait_count > 0)
        for w in (self.ban, self.count, self.text):
            w.blockSignals(False)

    def _text_edited(self, text: str) -> None:
        if self._panel is not None and self._panel.wait_text.text() != text:
            self._panel.wait_text.setText(text)
