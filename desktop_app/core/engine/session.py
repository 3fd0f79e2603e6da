"""A Session generates over an Engine step by step: distribution, roll, append, repeat.

It keeps the canonical token list of the conversation, the logits of recent steps (so a slider can
re-run the sampler on a stored step without calling the model), and stops on end-of-generation tokens,
max tokens, stop strings, a full context, or a cancel from another thread.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from desktop_app.core.engine.distribution import Distribution
from desktop_app.core.engine.engine import Cancelled, ContextFull, Engine
from desktop_app.core.engine.sampler import Sampler, reply_seed, step_roll
from desktop_app.core.engine.thinking import (
    CLOSE,
    CLOSE_WRITTEN,
    OPENING_CHARS,
    ThinkingState,
    prompt_opens_thinking,
    thinking_range,
)
from desktop_app.core.engine.tokens import TextAssembler, TokenView
from desktop_app.core.sampler_settings import SamplerSettings

STOP_EOG = "eog"
STOP_MAX_TOKENS = "max_tokens"
STOP_STRING = "stop_string"
STOP_CANCELLED = "cancelled"
STOP_CONTEXT_FULL = "context_full"
STOP_ENGINE_CRASHED = "engine_crashed"  # the engine process died mid-reply: what streamed is kept

#: Every generation's number, unique in the process: a step's logits are re-run only by the session that
#: made them, while it still keeps them (a later reply replaces them, at the same positions).
GENERATIONS = itertools.count(1)


@dataclass(frozen=True)
class Step:
    """One token of a reply: where it sits, what it is, the text it completed and how it was chosen."""

    position: int
    token: TokenView
    text: str  # the text this token completed (may be "" mid-character, or for an end token)
    distribution: Distribution | None  # None for tokens the app inserted without a roll
    inserted: bool = False  # e.g. "Wait" put in place of an end token
    replaced: int | None = None  # the end token an inserted token stands in for
    end: bool = False  # an end-of-generation token (not evaluated, not part of the text)
    pending: bytes = b""  # the bytes of a character the text before this token left unfinished
    generation: int = 0  # the generation that made it (0: not known; see GENERATIONS)


@dataclass
class GenerationResult:
    steps: list[Step] = field(default_factory=list)
    text: str = ""
    stop_reason: str = ""
    prompt_tokens: int = 0
    prompt_evaluated: int = 0  # prompt tokens really decoded (the rest came from the cache)
    prompt_ms: float = 0.0
    decode_ms: float = 0.0

    @property
    def generated(self) -> int:
        return sum(1 for s in self.steps if not s.end)

    @property
    def decode_tokens_per_s(self) -> float:
        return self.generated / (self.decode_ms / 1000) if self.decode_ms > 0 else 0.0


class Session:
    """Generation over one engine. Call it from the engine's owner thread; ``cancel`` from any thread."""

    def __init__(self, engine: Engine, *, keep_logits: int = 256, full_steps: bool = False):
        """``full_steps``: compute every step's Distribution whole at once (one pass of the full pipeline)
        instead of the roll first and the rest when read: cheaper when every step is read in full, as
        the engine process does to send each one."""
        self.engine = engine
        self.full_steps = full_steps
        self.tokens: list[int] = []
        self.cancel_event = threading.Event()
        self.generation = 0  # the generation whose steps' logits are kept
        self._keep = keep_logits
        self._logits: OrderedDict[int, np.ndarray] = OrderedDict()
        self._rolls: dict[int, float | None] = {}
        self._spare: list[np.ndarray] = []  # forgotten logits arrays that nothing else references

    def cancel(self) -> None:
        """Ask the running generation to stop (thread-safe); it stops within one token step."""
        self.cancel_event.set()

    def reset_cache(self) -> None:
        """Empty the engine's cache: what follows is decoded from nothing (a repeatable comparison)."""
        self.engine.reset()

    def rewind(self, position: int) -> None:
        """Forget every token from ``position`` on; the cache is trimmed on the next evaluation."""
        if not 0 <= position <= len(self.tokens):
            raise ValueError(f"position {position} is outside the {len(self.tokens)} tokens of this session")
        del self.tokens[position:]
        for pos in [p for p in self._logits if p >= position]:
            forgotten = self._logits.pop(pos)
            self._rolls.pop(pos, None)
            self._recycle(forgotten)
            del forgotten

    def stored_logits(self, position: int) -> np.ndarray | None:
        return self._logits.get(position)

    def redistribute(
        self,
        position: int,
        settings: SamplerSettings,
        *,
        top_n: int = 50,
        forced: int | None = None,
        generation: int | None = None,
    ) -> Distribution:
        """Re-run the sampler on the stored logits of the step at ``position`` (no model call);
        ``generation``: the step's (:attr:`Step.generation`), so that a step of an earlier reply is not
        re-run on the logits a later one left at its position."""
        logits = self._logits.get(position)
        if logits is None or (generation and generation != self.generation):
            raise KeyError(f"the logits of step {position} are no longer kept")
        sampler = Sampler(settings, eog_ids=self.engine.eog_ids)
        return sampler.distribution(
            logits, self.tokens[:position], top_n=top_n, u=self._rolls.get(position), forced=forced
        )

    def _fresh_logits(self) -> np.ndarray:
        """The engine's current logits, copied into a recycled array when there is one."""
        return self.engine.logits(self._spare.pop() if self._spare else None)

    def _recycle(self, logits: np.ndarray) -> None:
        """Keep a forgotten logits array for reuse if nothing else holds it (a Distribution that has not
        been released reads its step's logits later). Reused memory spares the page faults of a fresh
        array: ~0.7 ms per step on a 262,144-token vocabulary."""
        unshared = sys.getrefcount(logits) <= 3  # the caller's local, this argument, getrefcount's own
        if unshared and len(self._spare) < self._keep and logits.size == self.engine.n_vocab:
            self._spare.append(logits)

    def _remember(self, position: int, logits: np.ndarray, u: float | None) -> None:
        old = self._logits.get(position)
        self._logits[position] = logits
        self._rolls[position] = u
        self._logits.move_to_end(position)
        if old is not None and old is not logits:
            self._recycle(old)
            del old
        while len(self._logits) > self._keep:
            pos, evicted = self._logits.popitem(last=False)
            self._rolls.pop(pos, None)
            self._recycle(evicted)
            del evicted

    def distribution_now(
        self, prompt: Sequence[int], settings: SamplerSettings, *, top_n: int = 50
    ) -> Distribution:
        """The next-token distribution after ``prompt`` (evaluating only what the cache lacks)."""
        self.tokens = list(prompt)
        self.generation = next(GENERATIONS)  # the steps of the reply before are not re-run any more
        self.engine.sync(self.tokens, self.cancel_event)
        logits = self._fresh_logits()
        d = Sampler(settings, eog_ids=self.engine.eog_ids).distribution(logits, self.tokens, top_n=top_n)
        self._remember(len(self.tokens), logits, d.u)
        return d

    def generate(
        self,
        prompt: Sequence[int],
        settings: SamplerSettings,
        *,
        max_tokens: int = 256,
        stop: Sequence[str] = (),
        top_n: int = 50,
        forced: Sequence[int] = (),
        sampler: Sampler | None = None,
        reply_start: int | None = None,
    ) -> Generation:
        """An iterator of :class:`Step` for a reply to ``prompt``; ``.result`` holds the summary after.

        ``forced`` tokens are taken instead of rolls for the first steps (picking a bar in the chart).
        ``reply_start``: where the reply begins in ``prompt`` when ``prompt`` ends with tokens of it
        already (a reply continued a step at a time); the token at position p is the reply's step
        ``p - reply_start``, whose roll is :func:`~sampler.step_roll` of the seed and that step.
        """
        return Generation(
            self, list(prompt), settings, max_tokens, tuple(stop), top_n, list(forced), sampler, reply_start
        )


class Generation:
    """Iterate to generate; the loop runs in the caller's thread (the engine's owner)."""

    def __init__(
        self,
        session: Session,
        prompt: list[int],
        settings: SamplerSettings,
        max_tokens: int,
        stop: tuple[str, ...],
        top_n: int,
        forced: list[int],
        sampler: Sampler | None,
        reply_start: int | None = None,
    ):
        self.session = session
        self.prompt = prompt
        self.settings = settings
        self.max_tokens = max_tokens
        self.stop = tuple(s for s in stop if s)
        self.top_n = top_n
        self.forced = forced
        self.sampler = sampler or Sampler(settings, eog_ids=session.engine.eog_ids)
        self.reply_start = len(prompt) if reply_start is None else reply_start
        self.seed = reply_seed(self.sampler.settings, self.sampler.rng)  # the rolls of this reply
        self.result = GenerationResult(prompt_tokens=len(prompt))
        self.id = next(GENERATIONS)
        self.opened_thinking = False  # the prompt opened a thinking the reply begins in (once iterated)

    def __iter__(self) -> Iterator[Step]:
        s, engine, result = self.session, self.session.engine, self.result
        s.cancel_event.clear()
        s.rewind(0)
        s.generation = self.id
        s.tokens = list(self.prompt)
        t0 = time.perf_counter()
        try:
            result.prompt_evaluated = engine.sync(s.tokens, s.cancel_event)
        except Cancelled:
            result.stop_reason = STOP_CANCELLED
            return
        t1 = time.perf_counter()
        result.prompt_ms = (t1 - t0) * 1000
        assembler = TextAssembler()
        # A reply continued (step mode, a branch) may have stopped mid-character: its kept tokens'
        # unfinished bytes come first, so the next token completes the character instead of showing as
        # stray bytes.
        kept_texts = [assembler.feed(engine.piece(kept)) for kept in s.tokens[self.reply_start :]]
        assembler.text = ""
        think = self._thinking(engine, kept_texts)
        self.thinking = think
        waits_left = self.settings.wait_count
        eog = engine.eog_ids
        reason = STOP_MAX_TOKENS
        produced = 0
        resync = False  # tokens were taken back: the cache is brought to the tokens before the next

        def shown(step: Step) -> Step:
            result.steps.append(step)
            if think.inside:
                think.thought += 1
            return step

        while produced < self.max_tokens:
            if s.cancel_event.is_set():
                reason = STOP_CANCELLED
                break
            position = len(s.tokens)
            if position >= engine.n_ctx:
                reason = STOP_CONTEXT_FULL
                break
            if think.over_budget:  # the budget is spent: the close is written and the answer begins
                for step in think.release():
                    yield shown(step)
                written = engine.tokenize(CLOSE_WRITTEN, add_bos=False, special=True)
                for token in written:
                    produced += 1
                    s.tokens.append(token)
                    pending = assembler.pending()
                    text = assembler.feed(engine.piece(token))
                    yield shown(Step(len(s.tokens) - 1, engine.token_view(token), text, None, inserted=True,
                                     pending=pending, generation=self.id))  # fmt: skip
                think.inside, think.ended_at = False, len(result.steps)
                if not self._advance(engine, s.tokens, len(written), resync):
                    reason = STOP_CONTEXT_FULL
                    break
                resync = False
                continue
            logits = s._fresh_logits()
            forced = self.forced[produced] if produced < len(self.forced) else None
            pick = self.sampler.full_distribution if s.full_steps else self.sampler.distribution
            u = step_roll(self.seed, position - self.reply_start)
            d = pick(logits, s.tokens, top_n=self.top_n, forced=forced, u=u)
            s._remember(position, logits, d.u)
            token = d.chosen
            if token in eog and waits_left > 0 and forced is None:
                for step in think.release():
                    yield shown(step)
                waits_left -= 1
                inserted = engine.tokenize(self.settings.wait_text, special=False)
                for i, wait_token in enumerate(inserted):
                    produced += 1
                    s.tokens.append(wait_token)
                    pending = assembler.pending()
                    step = Step(
                        len(s.tokens) - 1,
                        engine.token_view(wait_token),
                        assembler.feed(engine.piece(wait_token)),
                        d if i == 0 else None,
                        inserted=True,
                        replaced=token,
                        pending=pending,
                        generation=self.id,
                    )
                    yield shown(step)
                if not self._advance(engine, s.tokens, len(inserted), resync):
                    reason = STOP_CONTEXT_FULL
                    break
                resync = False
                continue
            before = assembler.state()
            s.tokens.append(token)
            produced += 1
            pending = assembler.pending()
            if token in eog:
                for step in think.release():
                    yield shown(step)
                step = Step(
                    position, engine.token_view(token), "", d, end=True, pending=pending, generation=self.id
                )
                yield shown(step)
                reason = STOP_EOG
                break
            delta = assembler.feed(engine.piece(token))
            step = Step(position, engine.token_view(token), delta, d, pending=pending, generation=self.id)
            if think.inside and forced is None and think.closes(token, delta):
                if think.waits_left > 0:  # the close is taken back (never shown) and " Wait" written
                    think.waits_left -= 1
                    start = think.held[0].position if think.held else position
                    # The " Wait" keeps the step where the close began: the model's chance to begin it.
                    began = think.held[0].distribution if think.held else d
                    assembler.restore(think.held_state if think.held else before)  # type: ignore[arg-type]
                    produced -= len(think.release()) + 1
                    s.rewind(start)
                    inserted = engine.tokenize(self.settings.wait_text, special=False)
                    for i, wait_token in enumerate(inserted):
                        produced += 1
                        s.tokens.append(wait_token)
                        pending = assembler.pending()
                        text = assembler.feed(engine.piece(wait_token))
                        first = began if i == 0 else None  # the step whose close " Wait" stands in for
                        yield shown(Step(len(s.tokens) - 1, engine.token_view(wait_token), text, first,
                                         inserted=True, replaced=token, pending=pending,
                                         generation=self.id))  # fmt: skip
                    if not self._advance(engine, s.tokens, len(inserted), True):
                        reason = STOP_CONTEXT_FULL
                        break
                    continue
                for held in think.release():
                    yield shown(held)
                yield shown(step)
                think.inside, think.ended_at = False, len(result.steps)
            elif think.inside and forced is None and think.may_close(delta):
                think.hold(step, delta, before)  # shown once the next token says it is not the close
            else:
                for held in think.release():
                    yield shown(held)
                yield shown(step)
                if (
                    not think.inside
                    and len(assembler.text) <= OPENING_CHARS
                    and think.opened_by(assembler.text)
                ):
                    think.inside = True  # the model opened its thinking itself
                hit = self._stop_hit(assembler.text, len(delta))
                if hit is not None:
                    assembler.text = assembler.text[:hit]
                    reason = STOP_STRING
                    break
            if produced < self.max_tokens and not self._advance(engine, s.tokens, 1, resync):
                reason = STOP_CONTEXT_FULL
                break
            resync = False
        for held in think.release():  # the reply ended with the start of a close that did not come
            yield shown(held)
        result.text = assembler.text + (assembler.finish() if reason != STOP_STRING else "")
        result.stop_reason = reason
        result.decode_ms = (time.perf_counter() - t1) * 1000

    def _thinking(self, engine: Engine, kept_texts: list[str]) -> ThinkingState:
        """Where the reply starts: inside a thinking the prompt opened (or the kept tokens did), or not;
        a reply continued a step at a time has spent its kept thinking tokens of the budget already."""
        s = self.settings
        tail = b"".join(engine.piece(t) for t in self.prompt[max(0, self.reply_start - 8) : self.reply_start])
        opened = self.opened_thinking = prompt_opens_thinking(tail.decode("utf-8", errors="replace"))
        span = thinking_range(kept_texts, opened)
        close = engine.tokenize(CLOSE, add_bos=False, special=True)
        state = ThinkingState(
            span is not None and not span[2],
            s.think_wait,
            s.think_budget,
            close[0] if len(close) == 1 else None,
        )
        if span is not None:
            state.thought = span[1] - span[0]
            state.ended_at = span[1] if span[2] else None
        return state

    def _advance(self, engine: Engine, tokens: list[int], n: int, resync: bool = False) -> bool:
        """Decode the last ``n`` tokens (``resync``: whatever the cache lacks of ``tokens``, after tokens
        were taken back); False when the context is full."""
        try:
            if n == 1 and not resync:
                engine.append(tokens[-1])
            else:
                engine.sync(tokens)
        except ContextFull:
            return False
        return True

    def _stop_hit(self, text: str, delta_len: int) -> int | None:
        return stop_hit(text, delta_len, self.stop)

    def run(self) -> GenerationResult:
        for _ in self:
            pass
        return self.result


def stop_hit(text: str, delta_len: int, stops: Sequence[str]) -> int | None:
    """Where in ``text`` the first stop string that its last ``delta_len`` characters completed starts,
    or None."""
    for stop in stops:
        at = text.find(stop, max(0, len(text) - delta_len - len(stop) + 1))
        if at >= 0:
            return at
    return None
