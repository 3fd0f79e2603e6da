"""probs, generate, template, tokens: the --json contract and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli_basics import assert_one_line_error
from tests.helpers import run_cli


def _json(args: list[str]) -> dict:
    proc = run_cli([*args, "--json"])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_probs_json_contract():
    data = _json(["probs", "--top", "7", "The capital of France is"])
    assert data["n_vocab"] == 49152
    assert isinstance(data["prompt_tokens"], list) and all(isinstance(t, int) for t in data["prompt_tokens"])
    assert 0 < data["entropy_bits"] < 16
    assert 0 <= data["eos_probability"] <= 1
    cands = data["candidates"]
    assert len(cands) == 7
    for c in cands:
        assert set(c) >= {"id", "piece", "bytes", "logit", "p_raw", "p_final"}
        assert bytes.fromhex(c["bytes"]).decode("utf-8", errors="replace") == c["piece"]
    p = [c["p_raw"] for c in cands]
    assert p == sorted(p, reverse=True) and sum(p) <= 1 + 1e-6
    assert any("Paris" in c["piece"] for c in cands[:3])


def test_probs_chat_uses_the_template():
    raw = _json(["probs", "Hi"])
    chat = _json(["probs", "--chat", "--system", "Be brief.", "Hi"])
    assert chat["template"] == "gguf" and raw["template"] is None
    assert len(chat["prompt_tokens"]) > len(raw["prompt_tokens"]) + 5


def test_generate_json_contract_and_reproducibility():
    args = ["generate", "--seed", "42", "--max-tokens", "12", "--ban-eos", "Once upon a time"]
    a, b = _json(args), _json(args)
    assert a["text"] == b["text"] and [t["id"] for t in a["tokens"]] == [t["id"] for t in b["tokens"]]
    assert a["stop_reason"] == "max_tokens" and len(a["tokens"]) == 12
    for t in a["tokens"]:
        assert set(t) >= {"id", "piece", "p_raw", "p_final", "u"}
        assert 0 < t["p_raw"] <= 1 and 0 < t["p_final"] <= 1
    # each token's roll, a new one at every step, the same in the same run again
    rolls = [t["u"] for t in a["tokens"]]
    assert all(0 <= u < 1 for u in rolls) and len(set(rolls)) == 12 and rolls == [t["u"] for t in b["tokens"]]
    assert a["seed"] == 42
    assert "".join(t["piece"] for t in a["tokens"]) == a["text"]
    timings = a["timings"]
    assert timings["prompt_ms"] > 0 and timings["decode_ms"] > 0 and timings["decode_tokens_per_s"] > 0
    assert isinstance(a["prompt_tokens"], list)


def test_generate_greedy_chat_ends_with_the_end_token():
    data = _json(["generate", "--chat", "--temperature", "0", "--max-tokens", "100", "Say hi."])
    assert data["stop_reason"] == "eog" and data["tokens"][-1]["end"] is True


def test_generate_wait_marks_inserted_tokens():
    data = _json(
        ["generate", "--chat", "--temperature", "0", "--wait", "1", "--max-tokens", "150", "Say hi."]
    )
    inserted = [t for t in data["tokens"] if t["inserted"]]
    assert inserted and "Wait" in "".join(t["piece"] for t in inserted)


def test_template_json_for_both_models(gemma_path: Path, tmp_path: Path):
    messages = tmp_path / "m.json"
    messages.write_text(json.dumps([{"role": "user", "content": "Hello <|im_start|>"}]))
    data = _json(["template", "--messages", str(messages), "--system", "Be kind."])
    assert data["template_source"] == "gguf"
    assert data["prompt"].startswith("<|im_start|>system\nBe kind.<|im_end|>")
    assert data["prompt"].endswith("<|im_start|>assistant\n")
    kinds = {t["kind"] for t in data["tokens"]}
    assert kinds == {"template", "special", "content"}
    content_ids = [t["id"] for t in data["tokens"] if t["kind"] == "content"]
    im_start = [t["id"] for t in data["tokens"] if t["piece"] == "<|im_start|>"]
    assert im_start and im_start[0] not in content_ids  # typed control text stays plain text
    fallback = _json(["template", "--model", str(gemma_path), "Hello"])
    assert fallback["template_source"] == "fallback" and "User: Hello" in fallback["prompt"]


def test_tokens_json_shows_bytes_of_split_characters():
    data = _json(["tokens", "臺灣"])
    assert data["n_vocab"] == 49152
    labels = [t["label"] for t in data["tokens"]]
    assert labels[0] == "<E8><87>"
    assert b"".join(bytes.fromhex(t["bytes"]) for t in data["tokens"]).decode() == "臺灣"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["probs", "--system", "s", "x"], "--system needs --chat"),
        (["template", "--messages", "/nonexistent/m.json"], "cannot read"),
    ],
)
def test_bad_engine_flags_are_one_line(args: list[str], fragment: str):
    assert_one_line_error(run_cli(args), fragment)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["probs", "--temperature", "-1", "x"], "argument --temperature/--temp: must be a number 0 or more"),
        (["generate", "--top-p", "2", "x"], "argument --top-p: must be a number from 0 to 1"),
        (["generate", "--max-tokens", "0", "x"], "argument --max-tokens: must be a whole number 1 or more"),
        (["probs", "--gpu-layers", "lots", "x"], "argument --gpu-layers: must be 'auto', 'all'"),
    ],
)
def test_numbers_out_of_range_are_a_usage_line(args: list[str], fragment: str):
    proc = run_cli(args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith(f"tokendice {args[0]}: error: ") and fragment in proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr


def test_broken_messages_file_is_one_line(tmp_path: Path):
    bad = tmp_path / "m.json"
    bad.write_text("[{]")
    assert_one_line_error(run_cli(["template", "--messages", str(bad)]), "not valid JSON")
    bad.write_text(json.dumps([{"role": "user"}]))
    assert_one_line_error(run_cli(["template", "--messages", str(bad)]), "'role' and 'content'")


def test_engine_commands_with_a_fake_model_are_one_line(tmp_path: Path):
    fake = tmp_path / "fake.gguf"
    fake.write_text("nope")
    assert_one_line_error(run_cli(["generate", "--model", str(fake), "hi"]), "not a GGUF model file")
