"""Serving speed: one client streaming a reply through ``tokendice serve`` vs ``tokendice generate``.

Same model, prompt, seed and sampler settings, the end token banned so every reply is ``--tokens`` long.
The served rate is what the client sees: the official OpenAI client streaming ``/v1/completions``, tokens
after the first per second of wall time between their chunks. The reference is ``tokendice generate
--json``'s own decode rate (``timings.decode_tokens_per_s``), run in the same run, alternating with the
served rounds; the medians are compared. Also prints the served rate with five candidates a token
(``logprobs: 5`` and TokenDice's numbers in every chunk). Run by hand:

    .venv/bin/python benchmarks/bench_serve.py                          # SmolLM2, the bundled model
    .venv/bin/python benchmarks/bench_serve.py --model PATH.gguf --tokens 256 --rounds 9
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.serve.serving import server_env, start, stop  # noqa: E402

PROMPT = "The history of the tallest mountains on every continent is a long story. It begins"
SEED = 1234
#: llama.cpp's default chain, as ``tokendice generate``'s defaults.
SAMPLING = {"temperature": 0.8, "top_p": 0.95}
EXTRA = {"top_k": 40, "min_p": 0.05, "ignore_eos": True}


def served_rate(client, model: str, tokens: int, logprobs: int | None) -> tuple[float, int]:
    """(tokens/s after the first, tokens received) of one streamed completion."""
    stamps = []
    stream = client.completions.create(
        model=model, prompt=PROMPT, max_tokens=tokens, seed=SEED, stream=True, logprobs=logprobs,
        extra_body=EXTRA, **SAMPLING,
    )  # fmt: skip
    for chunk in stream:
        if chunk.choices and not chunk.choices[0].finish_reason:
            stamps.append(time.perf_counter())
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]), len(stamps)


def generate_rate(model: str, tokens: int, home: Path, extra: list[str]) -> tuple[float, int]:
    """(decode tokens/s as ``tokendice generate --json`` reports it, tokens generated)."""
    cmd = [sys.executable, "-m", "desktop_app", "generate", "--json", "--model", model, PROMPT,
           "--max-tokens", str(tokens), "--seed", str(SEED), "--ban-eos", "--temperature", "0.8",
           "--top-k", "40", "--top-p", "0.95", "--min-p", "0.05", *extra]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=server_env(home), cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"tokendice generate failed:\n{done.stderr}")
    data = json.loads(done.stdout)
    return float(data["timings"]["decode_tokens_per_s"]), len(data["tokens"])


def main() -> int:
    from openai import OpenAI

    from desktop_app.core.models.bundled import bundled_model_path

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(bundled_model_path()), help="a .gguf path or a library id")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="CPU threads for both (default: theirs)")
    args = ap.parse_args()
    extra = ["--threads", str(args.threads)] if args.threads else []
    home = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    print(f"model: {Path(args.model).name}, {args.tokens} tokens, {args.rounds} rounds")
    served, served_top5, local = [], [], []
    server = start(home / "server", "--model", args.model, *extra)
    try:
        with OpenAI(base_url=server.v1, api_key="unused", max_retries=0, timeout=600) as client:
            served_rate(client, server.model, 8, None)  # warm: the first request's one-off costs
            for _ in range(args.rounds):
                rate, n = served_rate(client, server.model, args.tokens, None)
                assert n == args.tokens, (
                    f"the served reply has {n} tokens, not {args.tokens}: is the end banned?"
                )
                served.append(rate)
                served_top5.append(served_rate(client, server.model, args.tokens, 5)[0])
                rate, n = generate_rate(args.model, args.tokens, home / "generate", extra)
                assert n == args.tokens, f"tokendice generate made {n} tokens, not {args.tokens}"
                local.append(rate)
    finally:
        stop(server)
    s, s5, g = statistics.median(served), statistics.median(served_top5), statistics.median(local)
    print(f"served, streamed to one client: {s:.1f} tokens/s ({min(served):.1f}–{max(served):.1f})")
    print(f"served with logprobs 5: {s5:.1f} tokens/s ({min(served_top5):.1f}–{max(served_top5):.1f})")
    print(f"tokendice generate (its decode rate): {g:.1f} tokens/s ({min(local):.1f}–{max(local):.1f})")
    print(f"served ÷ tokendice generate tokens/s ratio: {s / g:.2f}")
    print(f"served with logprobs 5 ÷ tokendice generate tokens/s ratio: {s5 / g:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
