"""``tokendice info`` says whether models load with llama.cpp's extra buffer types and why; the model
commands take ``--extra-buffers`` and the load follows it (and TOKENDICE_EXTRA_BUFFERS, which wins)."""

from __future__ import annotations

import json

import pytest

from desktop_app.core.engine.cpu_quirks import EXTRA_BUFFERS_ENV
from desktop_app.core.engine.llama_loader import decide_here
from desktop_app.core.store.settings import Settings, SettingsStore
from desktop_app.paths import AppPaths
from tests.helpers import run_cli


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv(EXTRA_BUFFERS_ENV, raising=False)


def test_info_names_the_choice_on_this_machine_and_why():
    expected = decide_here("auto", {})
    proc = run_cli(["info"])
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.strip().startswith("model loading"))
    assert line.split(None, 2)[2] == expected.reason()
    assert f"extra buffer types {expected.choice}: this CPU has" in line
    data = json.loads(run_cli(["info", "--json"]).stdout)["extra_buffers"]
    assert data == {**expected.as_dict(), "setting": "auto"}


def test_info_follows_the_setting_and_the_environment_variable(monkeypatch):
    SettingsStore(AppPaths.from_env().settings_path).save(Settings(extra_buffers="off"))
    data = json.loads(run_cli(["info", "--json"]).stdout)["extra_buffers"]
    assert (data["use_extra_bufts"], data["source"], data["setting"]) == (False, "setting", "off")
    assert data["reason"] == "extra buffer types off: chosen by the extra-buffers setting (off)"
    monkeypatch.setenv(EXTRA_BUFFERS_ENV, "on")
    proc = run_cli(["info"])
    assert "forced by TOKENDICE_EXTRA_BUFFERS=on" in proc.stdout


def test_info_explains_a_bad_environment_variable_and_still_works(monkeypatch):
    monkeypatch.setenv(EXTRA_BUFFERS_ENV, "turbo")
    proc = run_cli(["info"])
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert "TOKENDICE_EXTRA_BUFFERS='turbo' is not auto, on or off, so it is ignored" in proc.stdout


@pytest.mark.slow
def test_the_extra_buffers_flag_reaches_the_load(monkeypatch):
    args = ["generate", "The capital of France is", "--temperature", "0", "--max-tokens", "4", "--json"]
    off = run_cli([*args, "--extra-buffers", "off"])
    assert off.returncode == 0, off.stderr
    data = json.loads(off.stdout)
    assert data["load"]["use_extra_bufts"] is False and data["load"]["source"] == "setting"
    assert len(data["tokens"]) == 4 and len(data["prompt_tokens"]) >= 2
    monkeypatch.setenv(EXTRA_BUFFERS_ENV, "off")  # the variable wins over the flag
    forced = json.loads(run_cli([*args, "--extra-buffers", "on"]).stdout)["load"]
    assert (forced["use_extra_bufts"], forced["source"]) == (False, "env")
    assert forced["reason"] == "extra buffer types off: forced by TOKENDICE_EXTRA_BUFFERS=off"


def test_a_bad_flag_value_is_a_usage_error():
    proc = run_cli(["tokens", "hello", "--extra-buffers", "maybe"])
    assert proc.returncode == 2
    assert "--extra-buffers: invalid choice: 'maybe'" in proc.stderr
