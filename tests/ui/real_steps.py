"""Real steps of the bundled SmolLM2 model for the step-plot tests (the die, the waterfall, the end
lane, the exports)."""

from __future__ import annotations

from desktop_app.core.engine.distribution import Distribution
from desktop_app.core.engine.sampler import Sampler
from desktop_app.core.engine.tokens import piece_label
from desktop_app.core.sampler_settings import SamplerSettings

# A history that repeats, so the repetition penalty changes something, and settings with every stage on.
REPEATING = "The cat sat on the mat. The cat sat on the"
EVERY_STAGE = SamplerSettings(
    seed=3, top_k=20, top_p=0.9, min_p=0.05, temperature=0.8, repeat_penalty=1.3, ban_eos=True
)
OPEN = SamplerSettings(seed=1, top_k=0, top_p=1.0, min_p=0.0)  # only temperature: a long tail


def logits_after(engine, text: str) -> tuple[list[int], object]:
    """The prompt's tokens and the logits of the next position."""
    engine.reset()
    tokens = engine.tokenize(text, add_bos=engine.add_bos)
    engine.sync(tokens)
    return tokens, engine.logits()


def step(engine, text: str, settings: SamplerSettings, *, forced: int | None = None, u=None) -> Distribution:
    tokens, logits = logits_after(engine, text)
    sampler = Sampler(settings, eog_ids=engine.eog_ids)
    return sampler.distribution(logits, tokens, top_n=50, forced=forced, u=u)


def label_of(engine):
    return lambda t: piece_label(engine.piece(t))
