"""The sampling panel's view of the preset store."""

from __future__ import annotations

from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.services import Services


class PresetAdapter:
    def __init__(self, services: Services):
        self.store = services.presets

    def list_presets(self) -> list[str]:
        return [p.name for p in self.store.list_presets()]

    def load_preset(self, name: str) -> SamplerSettings:
        return self.store.get(name).settings

    def save_preset(self, name: str, settings: SamplerSettings) -> None:
        self.store.save(name, settings)

    def delete_preset(self, name: str) -> None:
        self.store.delete(name)

    def is_builtin(self, name: str) -> bool:
        return self.store.exists(name) and self.store.get(name).builtin
