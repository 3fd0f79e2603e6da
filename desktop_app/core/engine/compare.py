"""“Why is every answer different?”: K answers to one prompt at the same settings, and where they part.

The answers run one after the other on one Session, from an empty cache. The prompt is evaluated for the
first answer only: for each later one the engine keeps the prompt in its cache and trims the previous
answer away (see ``Engine.sync``), so only the prompt's last token is decoded again. Each answer rolls
its own die: with a fixed seed, answer i uses seed + i, so the whole comparison can be repeated exactly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from desktop_app.core.engine.session import GenerationResult, Step
from desktop_app.core.sampler_settings import SamplerSettings

MAX_ANSWERS = 8


class _Reply(Protocol):
    result: GenerationResult

    def __iter__(self) -> Iterator[Step]: ...


class Answering(Protocol):
    """What the answers are generated on: a local :class:`~desktop_app.core.engine.session.Session`, or a
    session on a server (each token one request, picked by the same die)."""

    def generate(
        self, prompt: Sequence[int], settings: SamplerSettings, /, *, max_tokens: int, stop: Sequence[str]
    ) -> _Reply: ...
    def cancel(self) -> None: ...
    def reset_cache(self) -> None: ...


@dataclass(frozen=True)
class Comparison:
    answers: tuple[GenerationResult, ...]
    seeds: tuple[int | None, ...]
    split_at: tuple[int, ...]  # per answer: where it goes its own way (see divergence)
    prompt_tokens: int
    prompt_evaluated: int  # prompt tokens decoded over all the answers together


def divergence(answers: Sequence[Sequence[int]]) -> list[int]:
    """For each answer, the position of its first token that no other answer has there after the same
    prefix: the length of its longest common prefix with any other answer (its length when another
    answer contains it whole)."""
    out = []
    for i, a in enumerate(answers):
        best = 0
        for j, b in enumerate(answers):
            if i != j:
                n = 0
                for x, y in zip(a, b, strict=False):
                    if x != y:
                        break
                    n += 1
                best = max(best, n)
        out.append(best)
    return out


def answer_seeds(settings: SamplerSettings, k: int) -> list[int | None]:
    return [None if settings.seed is None else settings.seed + i for i in range(k)]


def compare_answers(
    session: Answering,
    prompt: Sequence[int],
    settings: SamplerSettings,
    k: int,
    *,
    max_tokens: int = 64,
    stop: Sequence[str] = (),
    on_step: Callable[[int, Step], None] | None = None,
    cancel: threading.Event | None = None,
) -> Comparison:
    """Generate ``k`` answers to ``prompt``; ``on_step(answer_index, step)`` streams them."""
    if not 1 <= k <= MAX_ANSWERS:
        raise ValueError(f"compare between 1 and {MAX_ANSWERS} answers, not {k}")
    seeds = answer_seeds(settings, k)
    # From an empty cache, so that a fixed seed repeats the comparison exactly: llama.cpp's numbers for
    # a prompt decoded in one batch differ in the last bits from one decoded after a trimmed cache, and
    # in a flat distribution that is enough to move where a roll lands.
    session.reset_cache()
    results = []
    evaluated = 0
    for i, seed in enumerate(seeds):
        if cancel is not None and cancel.is_set():
            break
        gen = session.generate(prompt, settings.replace(seed=seed), max_tokens=max_tokens, stop=stop)
        for step in gen:
            if on_step is not None:
                on_step(i, step)
            if cancel is not None and cancel.is_set():
                session.cancel()
        evaluated += gen.result.prompt_evaluated
        results.append(gen.result)
    ids = [[s.token.id for s in r.steps] for r in results]
    split = tuple(divergence(ids))
    return Comparison(tuple(results), tuple(seeds[: len(results)]), split, len(prompt), evaluated)
