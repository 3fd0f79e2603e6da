"""A reply on a server, step by step with TokenDice's die: the local :class:`Generation`'s loop (the
same rolls per step, forced tokens, " Wait" in place of the end, stop strings, a full context, cancel),
with each step one request for the candidates after the tokens so far (:meth:`RemoteSession.step`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from desktop_app.core.engine.sampler import reply_seed, step_roll
from desktop_app.core.engine.session import (
    GENERATIONS,
    STOP_CANCELLED,
    STOP_CONTEXT_FULL,
    STOP_EOG,
    STOP_MAX_TOKENS,
    STOP_STRING,
    GenerationResult,
    Step,
    stop_hit,
)
from desktop_app.core.engine.tokens import TextAssembler, TokenView
from desktop_app.core.sampler_settings import SamplerSettings

if TYPE_CHECKING:
    from desktop_app.core.remote.remote_session import RemoteSession


class RemoteGeneration:
    """Iterate to generate (each step waits for the server); ``result`` holds the summary after."""

    def __init__(
        self,
        session: RemoteSession,
        tokens: list[int],
        settings: SamplerSettings,
        *,
        max_tokens: int,
        stop: tuple[str, ...],
        top_n: int | None,
        forced: list[int],
        reply_start: int | None,
    ) -> None:
        self.session = session
        self.prompt = tokens
        self.settings = settings
        self.max_tokens = max_tokens
        self.stop = tuple(s for s in stop if s)
        self.top_n = top_n
        self.forced = forced
        self.reply_start = len(tokens) if reply_start is None else reply_start
        self.seed = reply_seed(settings, np.random.default_rng())
        self.result = GenerationResult(prompt_tokens=len(tokens))
        self.id = next(GENERATIONS)

    def __iter__(self) -> Iterator[Step]:
        session, result, info = self.session, self.result, self.session.info
        session.cancel_event.clear()
        session.begin(self.id)
        tokens = list(self.prompt)
        started = time.perf_counter()
        assembler = TextAssembler()
        # A reply continued (step mode, a branch) may have stopped mid-character: its kept tokens'
        # unfinished bytes come first, so the next token completes the character.
        kept = tokens[self.reply_start :]
        for piece in session.token_pieces(kept):
            assembler.feed(piece)
        assembler.text = ""
        waits_left = self.settings.wait_count
        reason = STOP_MAX_TOKENS
        produced = 0
        n_ctx = info.n_ctx or 1 << 30
        try:
            while produced < self.max_tokens:
                if session.cancel_event.is_set():
                    reason = STOP_CANCELLED
                    break
                position = len(tokens)
                if position >= n_ctx:
                    reason = STOP_CONTEXT_FULL
                    break
                forced = self.forced[produced] if produced < len(self.forced) else None
                u = step_roll(self.seed, position - self.reply_start)
                _, d, piece = session.step(tokens, self.settings, u=u, forced=forced, top_n=self.top_n)
                token = d.chosen
                if token in info.eog_ids and waits_left > 0 and forced is None:
                    waits_left -= 1
                    inserted = session.tokenize_pieces(self.settings.wait_text, special=False)
                    for i, (wait_token, wait_piece) in enumerate(inserted):
                        produced += 1
                        tokens.append(wait_token)
                        pending = assembler.pending()
                        text = assembler.feed(wait_piece)
                        view = TokenView(wait_token, wait_piece)
                        first = d if i == 0 else None  # the step whose end token " Wait" stands in for
                        at = len(tokens) - 1
                        step = Step(
                            at, view, text, first, inserted=True, replaced=token, pending=pending,
                            generation=self.id,
                        )  # fmt: skip
                        result.steps.append(step)
                        yield step
                    continue
                tokens.append(token)
                produced += 1
                pending = assembler.pending()
                if token in info.eog_ids:
                    step = Step(
                        position, TokenView(token, piece, True), "", d, end=True, pending=pending,
                        generation=self.id,
                    )  # fmt: skip
                    result.steps.append(step)
                    yield step
                    reason = STOP_EOG
                    break
                delta = assembler.feed(piece)
                step = Step(position, TokenView(token, piece), delta, d, pending=pending, generation=self.id)
                result.steps.append(step)
                yield step
                hit = stop_hit(assembler.text, len(delta), self.stop)
                if hit is not None:
                    assembler.text = assembler.text[:hit]
                    reason = STOP_STRING
                    break
        finally:  # a server that stops answering mid-reply: what came is the reply's text so far
            result.text = assembler.text + (assembler.finish() if reason != STOP_STRING else "")
            result.stop_reason = reason
            result.decode_ms = (time.perf_counter() - started) * 1000
