"""The sampling panel: every control reaches the settings; presets save, load, delete; per-model defaults."""

from __future__ import annotations

import pytest

from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.services import Services
from desktop_app.ui.preset_adapter import PresetAdapter
from desktop_app.ui.widgets.sampling_panel import SamplingPanel


@pytest.fixture
def services():
    s = Services.open()
    yield s
    s.close()


@pytest.fixture
def panel(qtbot, services) -> SamplingPanel:
    widget = SamplingPanel(presets=PresetAdapter(services))
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_every_control_changes_the_settings(panel, qtbot):
    seen: list[SamplerSettings] = []
    panel.settings_changed.connect(seen.append)
    panel.temperature.slider.setValue(130)
    panel.top_k.spin.setValue(7)
    panel.top_p.spin.setValue(0.8)
    panel.min_p.spin.setValue(0.1)
    panel.repeat_penalty.spin.setValue(1.3)
    panel.repeat_last_n.setValue(32)
    panel.ban_eos.setChecked(True)
    panel.wait_count.setValue(2)
    panel.wait_text.setText(" Hmm")
    panel.seed_fixed.setChecked(True)
    panel.seed_spin.setValue(1234)
    s = panel.settings()
    assert (s.temperature, s.top_k, s.top_p, s.min_p) == pytest.approx((1.3, 7, 0.8, 0.1))
    assert (s.repeat_penalty, s.repeat_last_n) == pytest.approx((1.3, 32))
    assert s.ban_eos and s.wait_count == 2 and s.wait_text == " Hmm" and s.seed == 1234
    assert seen and seen[-1] == s
    with qtbot.waitSignal(panel.max_tokens_changed) as blocker:
        panel.max_tokens_spin.setValue(99)
    assert blocker.args == [99] and panel.max_tokens() == 99
    panel.seed_random.setChecked(True)
    assert panel.settings().seed is None


def test_temperature_zero_reads_as_greedy(panel):
    panel.temperature.slider.setValue(0)
    assert panel.settings().temperature == 0
    assert "greedy" in panel.temperature.spin.text()


def test_presets_save_load_and_delete(panel, services):
    panel.temperature.slider.setValue(150)
    panel.name_prompt = lambda _parent, _suggestion: "Wild"
    panel.save_preset()
    assert "Wild" in [p.name for p in services.presets.list_presets()]
    panel.temperature.slider.setValue(20)
    panel.load_preset("Wild")
    assert panel.settings().temperature == pytest.approx(1.5)
    assert panel.temperature.value() == pytest.approx(1.5)
    panel.confirm_delete = lambda _parent, _name: True
    panel.preset_combo.setCurrentIndex(panel.preset_combo.findText("Wild"))
    panel.delete_preset()
    assert "Wild" not in [p.name for p in services.presets.list_presets()]


def test_a_builtin_preset_cannot_be_overwritten_or_deleted(panel, services):
    builtin = next(p.name for p in services.presets.list_presets() if p.builtin)
    panel.name_prompt = lambda _parent, _suggestion: builtin
    panel.save_preset()
    assert "built-in" in panel.preset_message.text()
    panel.load_preset(builtin)
    assert not panel.delete_button.isEnabled()


def test_a_preset_can_be_the_default_of_a_model(panel, services, qtbot):
    builtin = next(p.name for p in services.presets.list_presets() if p.builtin)
    panel.set_model_default(None)
    panel.load_preset(builtin)
    assert panel.model_default.isEnabled() and not panel.model_default.isChecked()
    with qtbot.waitSignal(panel.model_default_changed) as blocker:
        panel.model_default.click()
    assert blocker.args == [builtin] and panel.model_default.isChecked()
    other = SamplingPanel(presets=PresetAdapter(services))
    qtbot.addWidget(other)
    other.set_model_default(builtin)  # what the window does when that model loads
    assert other.settings() == services.presets.get(builtin).settings
    assert other.model_default.isChecked()
