"""Whether llama.cpp loads with its extra buffer types, from llama.cpp's system-info text, the setting and
TOKENDICE_EXTRA_BUFFERS; and that no code loads weights with a plain ``llama_cpp.Llama``."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

from desktop_app.core.engine.cpu_quirks import (
    EXTRA_BUFFERS_ENV,
    SENTENCES,
    ExtraBuffers,
    decide_extra_buffers,
    has_amx,
)
from desktop_app.core.engine.gpu import BackendInfo, Device, LoadReport
from desktop_app.core.engine.llama_log import OffloadReport
from desktop_app.core.store.settings import Settings, SettingsStore

ROOT = Path(__file__).resolve().parents[3]

# llama.cpp's system info as a Sapphire Rapids Xeon and as this kind of AMD EPYC print it.
SAPPHIRE_RAPIDS = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | AVX512 = 1 | "
    "AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 | OPENMP = 1 | "
    "REPACK = 1 | "
)
EPYC = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | AVX512 = 1 | "
    "AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | "
)
AMX_ZERO = EPYC.replace("LLAMAFILE", "AMX_INT8 = 0 | LLAMAFILE")


def env(value: str | None) -> dict[str, str]:
    return {} if value is None else {EXTRA_BUFFERS_ENV: value}


def test_amx_is_read_from_the_system_info():
    assert has_amx(SAPPHIRE_RAPIDS)
    assert has_amx("CUDA : ARCHS = 890 | CPU : AVX512 = 1 | AMX_BF16 = 1 | ")
    assert not has_amx(EPYC) and not has_amx(AMX_ZERO) and not has_amx("")
    assert not has_amx("CPU : NOAMX_INT8 = 1 | ")


def test_auto_turns_extra_buffers_off_exactly_on_amx_cpus():
    amx = decide_extra_buffers(SAPPHIRE_RAPIDS)
    assert (amx.enabled, amx.source, amx.amx, amx.key) == (False, "auto", True, "amx")
    assert amx.reason() == (
        "extra buffer types off: this CPU has Intel AMX, whose weight repacking crashes llama.cpp on "
        "batches of 2 or more tokens (llama.cpp #20824)"
    )
    for info in (EPYC, AMX_ZERO):
        plain = decide_extra_buffers(info, "auto", {})
        assert (plain.enabled, plain.source, plain.key) == (True, "auto", "no_amx")
        assert plain.reason().startswith("extra buffer types on: this CPU has no Intel AMX")


@pytest.mark.parametrize(
    ("info", "setting", "enabled", "key"),
    [
        (EPYC, "off", False, "setting_off"),
        (EPYC, "on", True, "setting_on"),
        (SAPPHIRE_RAPIDS, "off", False, "setting_off"),
        (SAPPHIRE_RAPIDS, "on", True, "setting_on_amx"),
    ],
)
def test_the_setting_forces_a_choice(info, setting, enabled, key):
    d = decide_extra_buffers(info, setting, {})
    assert (d.enabled, d.source, d.key) == (enabled, "setting", key)
    assert f"chosen by the extra-buffers setting ({setting})" in d.reason()
    assert ("although this CPU has Intel AMX" in d.reason()) == key.endswith("_amx")


@pytest.mark.parametrize("setting", ["auto", "on", "off"])
def test_the_environment_variable_overrides_the_setting(setting):
    off = decide_extra_buffers(EPYC, setting, env("off"))
    assert (off.enabled, off.source) == (False, "env")
    assert off.reason() == "extra buffer types off: forced by TOKENDICE_EXTRA_BUFFERS=off"
    on = decide_extra_buffers(SAPPHIRE_RAPIDS, setting, env(" ON "))  # case and spaces do not matter
    assert (on.enabled, on.source, on.key) == (True, "env", "env_on_amx")
    assert on.reason().startswith("extra buffer types on: forced by TOKENDICE_EXTRA_BUFFERS=on, although")
    auto = decide_extra_buffers(SAPPHIRE_RAPIDS, setting, env("auto"))
    assert (auto.enabled, auto.source) == (False, "auto")


def test_an_empty_variable_counts_as_unset():
    d = decide_extra_buffers(SAPPHIRE_RAPIDS, "on", env(""))
    assert (d.enabled, d.source, d.bad_env) == (True, "setting", "")


@pytest.mark.parametrize(("info", "enabled"), [(SAPPHIRE_RAPIDS, False), (EPYC, True)])
def test_a_bad_variable_falls_back_to_auto_and_says_so(info, enabled):
    d = decide_extra_buffers(info, "on", env("maybe"))
    assert (d.enabled, d.source, d.bad_env) == (enabled, "auto", "maybe")
    reason = d.reason()
    assert reason.startswith(
        "TOKENDICE_EXTRA_BUFFERS='maybe' is not auto, on or off, so it is ignored and the CPU decides "
        "(set it to auto, on or off); extra buffer types "
    )
    assert reason.endswith(SENTENCES["amx" if info is SAPPHIRE_RAPIDS else "no_amx"])


def test_a_bad_setting_is_a_sentence():
    with pytest.raises(ValueError, match="extra buffers must be 'auto', 'on' or 'off', not 'yes'"):
        decide_extra_buffers(EPYC, "yes", {})


def test_every_key_has_a_sentence():
    keys = {
        decide_extra_buffers(info, setting, env(value)).key
        for info in (EPYC, SAPPHIRE_RAPIDS)
        for setting in ("auto", "on", "off")
        for value in (None, "on", "off", "auto", "bad")
    }
    assert keys == set(SENTENCES)


def test_the_load_report_carries_the_choice_across_a_process_boundary():
    cpu = Device("CPU", "Xeon", "cpu", "CPU", 0, 0)
    report = LoadReport(
        0,
        OffloadReport(0, 31),
        BackendInfo((cpu,), False, SAPPHIRE_RAPIDS, ("CPU",)),
        decide_extra_buffers(SAPPHIRE_RAPIDS, "auto", env("nope")),
    )
    again = pickle.loads(pickle.dumps(report))
    assert again == report and again.extra_buffers.reason() == report.extra_buffers.reason()
    assert again.extra_buffers == ExtraBuffers(False, "auto", True, bad_env="nope")


def test_the_setting_is_typed_validated_and_kept(tokendice_home):
    assert Settings().extra_buffers == "auto"
    with pytest.raises(ValueError, match="not 'sometimes'"):
        Settings(extra_buffers="sometimes").validate()
    store = SettingsStore(tokendice_home / "settings.json")
    store.save(Settings(extra_buffers="off"))
    assert store.load().settings.extra_buffers == "off"
    (tokendice_home / "settings.json").write_text('{"schema_version": 1, "n_ctx": 2048}', encoding="utf-8")
    assert store.load().settings == Settings(n_ctx=2048)  # a file from before the setting: auto


# --- no plain loads --------------------------------------------------------------------------------------
ALLOWED = {"desktop_app/core/engine/llama_loader.py"}


def _plain_llama_loads(path: Path) -> list[str]:
    """``Llama(...)`` / ``llama_cpp.Llama(...)`` calls that load weights (not ``vocab_only=True``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        if name != "Llama":
            continue
        vocab_only = any(
            k.arg == "vocab_only" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in node.keywords
        )
        if not vocab_only:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_load_of_weights_goes_through_the_amx_safe_loader():
    offenders = []
    for folder in ("desktop_app", "tests", "benchmarks", "packaging"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if str(path.relative_to(ROOT)) not in ALLOWED:
                offenders += _plain_llama_loads(path)
    assert not offenders, f"load with desktop_app.core.engine.llama_loader instead: {offenders}"
