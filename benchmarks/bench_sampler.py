"""Time one sampler step (Sampler.distribution) on big random vocabularies; prints median milliseconds.

    python benchmarks/bench_sampler.py [--repeat 300]

The logits are normal × 3 with a few high spikes (a peaked, model-like distribution), plus a flat case
where top-p must keep thousands of tokens. Gemma 3 has 262,144 tokens; 49,152 is SmolLM2's vocabulary.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from functools import partial
from pathlib import Path


def logits(n: int, seed: int, spikes: bool = True):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 3).astype(np.float32)
    if spikes:
        x[rng.choice(n, 5, replace=False)] = [15.0, 17.0, 18.0, 19.0, 20.0]
    return x


def median_ms(fn, repeat: int) -> float:
    for _ in range(10):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300, help="timed calls per case (default 300)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from desktop_app.core.engine.sampler import Sampler
    from desktop_app.core.sampler_settings import SamplerSettings

    default = SamplerSettings(seed=0)
    rerun = SamplerSettings(top_k=0, top_p=0.9, temperature=1.3)
    cases = [
        ("default (top_k 40, top_p 0.95, min_p 0.05, t 0.8)", default, None, True),
        (
            "default + repeat_penalty 1.1 over 64 + ban_eos",
            default.replace(repeat_penalty=1.1, ban_eos=True),
            None,
            True,
        ),
        ("re-run: top_k 0, top_p 0.9, t 1.3, stored u", rerun, 0.5, True),
        ("re-run on flat logits (top-p keeps thousands)", rerun, 0.5, False),
        (
            "every filter off, t 1.0 (die over the vocabulary)",
            SamplerSettings(top_k=0, top_p=1.0, min_p=0.0, temperature=1.0),
            0.5,
            True,
        ),
        ("greedy (t 0)", default.replace(temperature=0.0), None, True),
    ]
    history = list(range(1000, 1064))
    for n in (262_144, 49_152):
        print(f"n_vocab = {n:,}")
        for name, s, u, spikes in cases:
            x = logits(n, seed=1, spikes=spikes)
            sampler = Sampler(s, eog_ids=[1, 106])
            step = partial(sampler.distribution, x, history, u=u)
            print(f"  {name:<56} {median_ms(step, args.repeat):8.3f} ms median")


if __name__ == "__main__":
    main()
