"""A slider and a spin box showing one number, the sampling panel's control for each setting."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QSlider, QSpinBox, QWidget

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


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
        self.spin: QSpinBox | QDoubleSpinBox
        if self._integer:
            self.spin = QSpinBox(self)
            self.spin.setRange(round(minimum), round(maximum))
            self.spin.setSingleStep(round(step))
        else:
            self.spin = QDoubleSpinBox(self)
            self.spin.setDecimals(decimals)
            self.spin.setRange(minimum, maximum)
            self.spin.setSingleStep(step)
        self.spin.setSpecialValueText(special)
        self.spin.setAccelerated(True)
        widest = translate("SamplingPanel", "0 greedy")  # the longest special text: every row aligned
        self.spin.setMinimumWidth(self.spin.fontMetrics().horizontalAdvance(widest) + 36)
        self._scale = 1 if self._integer else 10**decimals
        lo, hi = slider_range or (minimum, maximum)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
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
        if isinstance(self.spin, QSpinBox):
            self.spin.setValue(round(value))
        else:
            self.spin.setValue(value)
        self.slider.setValue(round(self.spin.value() * self._scale))
        for w in (self.spin, self.slider):
            w.blockSignals(False)

    def setToolTip(self, text: str) -> None:
        super().setToolTip(text)
        self.slider.setToolTip(text)
        self.spin.setToolTip(text)

    def _from_slider(self, position: int) -> None:
        self.spin.blockSignals(True)
        if isinstance(self.spin, QSpinBox):
            self.spin.setValue(position)
        else:
            self.spin.setValue(position / self._scale)
        self.spin.blockSignals(False)
        self.changed.emit(float(self.spin.value()))

    def _from_spin(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(value * self._scale))
        self.slider.blockSignals(False)
        self.changed.emit(float(value))
