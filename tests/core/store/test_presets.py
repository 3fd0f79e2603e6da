from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.store.db import Database
from desktop_app.core.store.presets import BUILTIN_PRESETS, ModelSettings, PresetNotFound, PresetStore
from desktop_app.core.store.settings import Settings


@pytest.fixture
def presets(tmp_path: Path):
    with Database(tmp_path / "p.sqlite3") as db:
        yield PresetStore(db)


def test_builtin_presets_are_listed_first_and_read_only(presets: PresetStore):
    names = [p.name for p in presets.list_presets()]
    assert names == [n for n, _ in BUILTIN_PRESETS]
    assert "Greedy (temperature 0)" in names and "llama.cpp defaults" in names and "Creative" in names
    greedy = presets.get("greedy (TEMPERATURE 0)")
    assert greedy.builtin and greedy.settings.greedy
    assert presets.get("llama.cpp defaults").settings == SamplerSettings()
    with pytest.raises(ValueError, match="built-in"):
        presets.save("Creative", SamplerSettings(temperature=2.0))
    with pytest.raises(ValueError, match="cannot be deleted"):
        presets.delete("Creative")
    assert presets.get("Creative").settings.temperature == 1.2


def test_save_load_list_delete_user_presets(presets: PresetStore):
    mine = SamplerSettings(temperature=0.3, top_k=10, seed=7, wait_count=1)
    saved = presets.save("  My   focused ", mine)
    assert (saved.name, saved.settings, saved.builtin) == ("My focused", mine, False)
    assert saved.created_at
    presets.save("another", SamplerSettings(top_p=0.5))
    assert [p.name for p in presets.list_presets()][len(BUILTIN_PRESETS) :] == ["another", "My focused"]
    # Same name ignoring case overwrites.
    presets.save("MY FOCUSED", SamplerSettings(temperature=0.4))
    assert presets.get("my focused").settings.temperature == 0.4
    assert len(presets.list_presets()) == len(BUILTIN_PRESETS) + 2
    presets.delete("another")
    assert not presets.exists("another")
    with pytest.raises(PresetNotFound, match="no preset called"):
        presets.get("another")
    with pytest.raises(PresetNotFound):
        presets.delete("another")
    with pytest.raises(ValueError, match="needs a name"):
        presets.save("   ", mine)


def test_unknown_model_gets_the_defaults(presets: PresetStore):
    s = presets.model_settings("local/unknown")
    assert (s.n_ctx, s.n_gpu_layers, s.template_override, s.sampler_preset, s.stored) == (
        Settings().n_ctx,
        Settings().n_gpu_layers,
        None,
        None,
        False,
    )
    app = Settings(n_ctx=2048, n_gpu_layers="auto")
    assert presets.model_settings("local/unknown", app).n_ctx == 2048
    assert presets.model_settings("local/unknown", app).n_gpu_layers == "auto"


def test_model_settings_round_trip_and_validation(presets: PresetStore):
    saved = presets.set_model_settings(
        ModelSettings("m", 8192, "all", template_override="{{ x }}", sampler_preset="Creative")
    )
    assert (saved.n_ctx, saved.n_gpu_layers, saved.template_override, saved.sampler_preset) == (
        8192,
        "all",
        "{{ x }}",
        "Creative",
    )
    assert saved.stored and saved.updated_at
    assert presets.set_model_settings(ModelSettings("m", 1024, 12)).n_gpu_layers == 12
    assert presets.set_model_settings(ModelSettings("m", 1024, -1)).n_gpu_layers == -1
    with pytest.raises(ValueError, match="context size"):
        presets.set_model_settings(ModelSettings("m", 10, 0))
    with pytest.raises(ValueError, match="GPU layers"):
        presets.set_model_settings(ModelSettings("m", 1024, "lots"))
    with pytest.raises(PresetNotFound):
        presets.set_model_settings(ModelSettings("m", 1024, 0, sampler_preset="nope"))
    assert presets.model_settings("m").n_ctx == 1024  # the refused ones changed nothing
    presets.forget_model_settings("m")
    assert not presets.model_settings("m").stored


def test_deleting_a_preset_clears_it_from_model_settings(presets: PresetStore):
    presets.save("Mine", SamplerSettings(temperature=0.1))
    presets.set_model_settings(ModelSettings("m", 4096, 0, sampler_preset="Mine"))
    presets.delete("mine")
    assert presets.model_settings("m").sampler_preset is None
