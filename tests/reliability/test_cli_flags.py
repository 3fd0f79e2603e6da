"""Every numeric flag of the command line: a value out of range is one argparse-style line and exit 2.

The ranges are the sampler's (SamplerSettings) and the engine's; the line names the flag, says what it
must be and what was given, and comes before anything is loaded or written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.core.store.settings import Settings, SettingsStore
from desktop_app.paths import AppPaths
from tests.reliability.cli_bytes import assert_clean, run

CTX = "argument --ctx: must be a whole number from 16 to 1,048,576, not"
THREADS = "argument --threads: must be a whole number from 1 to 1,024, not"

REFUSED = [
    (["generate", "--ctx", "0"], f"{CTX} 0"),
    (["generate", "--ctx", "1"], f"{CTX} 1"),
    (["tokens", "--ctx", "4096.5"], f"{CTX} '4096.5'"),
    (["probs", "--ctx", "2000000"], f"{CTX} 2000000"),
    (["generate", "--top-k", "-5"], "argument --top-k: must be a whole number 0 or more (0 is off), not -5"),
    (["generate", "--top-p", "1.5"], "argument --top-p: must be a number from 0 to 1 (1 is off), not 1.5"),
    (["probs", "--min-p", "-0.1"], "argument --min-p: must be a number from 0 to 1 (0 is off), not -0.1"),
    (["probs", "--temperature", "nan"], "argument --temperature/--temp: must be a number 0 or more"),
    (["probs", "--temp", "-0.5"], "argument --temperature/--temp: must be a number 0 or more (0 is greedy)"),
    (["generate", "--repeat-penalty", "0"], "argument --repeat-penalty: must be a number above 0 (1 is off)"),
    (["generate", "--repeat-last-n", "-2"], "argument --repeat-last-n: must be a whole number -1 or more"),
    (["generate", "--frequency-penalty", "inf"], "argument --frequency-penalty: must be a number, not inf"),
    (["generate", "--presence-penalty", "lots"], "argument --presence-penalty: must be a number, not 'lots'"),
    (["generate", "--seed", "-1"], "argument --seed: must be a whole number 0 or more, not -1"),
    (["generate", "--wait", "-3"], "argument --wait: must be a whole number 0 or more, not -3"),
    (["generate", "--max-tokens", "0"], "argument --max-tokens: must be a whole number 1 or more, not 0"),
    (["probs", "--top", "1001"], "argument --top: must be a whole number from 1 to 1,000, not 1001"),
    (["tokens", "--threads", "0"], f"{THREADS} 0"),
    (["tokens", "--threads", "many"], f"{THREADS} 'many'"),
    (["tokens", "--gpu-layers", "-2"], "argument --gpu-layers: must be 'auto', 'all' or a whole number"),
    (["models", "curated", "--ctx", "0"], f"{CTX} 0"),
    (["models", "search", "--limit", "101"], "argument --limit: the hub sends at most 100 results at a time"),
]


@pytest.mark.parametrize(("args", "said"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_a_number_out_of_range_is_one_line_and_exit_2(args: list[str], said: str, tokendice_home: Path):
    store = SettingsStore(AppPaths.from_env().settings_path)
    store.save(Settings(n_ctx=2048, top_n=12))
    before = store.path.read_bytes()
    full = [*args, "hi"] if args[0] in ("generate", "probs", "tokens") else args
    ran = run(full)
    assert_clean(ran)
    assert ran.returncode == 2 and ran.stdout == b""
    command = " ".join(a for a in args[:2] if not a.startswith("-"))
    assert len(ran.err_lines) == 1, ran.err_lines
    assert ran.err_lines[0].startswith(f"tokendice {command}: error: {said}")
    assert ran.err_lines[0].endswith(f"(see tokendice {command} --help)")
    assert store.path.read_bytes() == before  # nothing recorded before is touched
    assert not (tokendice_home / "data").exists()  # refused before anything was opened


@pytest.mark.parametrize(
    "flags",
    [
        ["--ctx", "16", "--top-k", "0", "--top-p", "1", "--min-p", "0", "--temperature", "0"],
        ["--repeat-last-n", "-1", "--repeat-penalty", "1.1", "--seed", "0", "--gpu-layers", "-1"],
    ],
)
def test_the_edges_of_the_ranges_are_accepted(flags: list[str]):
    ran = run(["generate", *flags, "--max-tokens", "2", "--json", "Hi"])
    assert_clean(ran)
    assert ran.returncode == 0, ran.stderr
    assert len(json.loads(ran.out)["tokens"]) >= 1
