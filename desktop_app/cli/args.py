"""What the command line's values must be: argparse types that refuse a bad number with one sentence.

A value out of range is a wrong command line: argparse prints ``tokendice generate: error: argument
--top-k: must be a whole number 0 or more (0 is off), not -5`` and the exit status is 2, before anything
is loaded. The ranges are the sampler's own (core/engine/sampler.py, ``SamplerSettings``), except that
the command line also refuses the negative ``--top-k`` the sampler reads as "off": write 0 for that.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from desktop_app.core.safe_text import shown

MIN_CTX = 16
MAX_CTX = 1_048_576  # as the settings' context size
MAX_THREADS = 1024


def _bounds(low: float | None, high: float | None, above: bool = False) -> str:
    if low is not None and high is not None:
        return f"from {low:,} to {high:,}"
    if low is not None:
        return f"above {low:,}" if above else f"{low:,} or more"
    if high is not None:
        return f"{high:,} or less"
    return ""


def whole(low: int | None = None, high: int | None = None, note: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number within [low, high]."""
    wanted = " ".join(p for p in ("must be a whole number", _bounds(low, high), note) if p)

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{wanted}, not {shown(text)!r}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{wanted}, not {value}")
        return value

    parse.__name__ = "whole number"
    return parse


def number(
    low: float | None = None, high: float | None = None, *, above: bool = False, note: str = ""
) -> Callable[[str], float]:
    """An argparse type: a finite number within [low, high] (``above``: strictly above low)."""
    wanted = " ".join(p for p in ("must be a number", _bounds(low, high, above), note) if p)

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{wanted}, not {shown(text)!r}") from None
        if (
            not math.isfinite(value)
            or (low is not None and (value <= low if above else value < low))
            or (high is not None and value > high)
        ):
            raise argparse.ArgumentTypeError(f"{wanted}, not {shown(text)}")
        return value

    parse.__name__ = "number"
    return parse


context_size = whole(MIN_CTX, MAX_CTX)
threads = whole(1, MAX_THREADS)


def gpu_layers(text: str) -> int | str:
    """An argparse type: 'auto', 'all' or a number of layers (-1 is all)."""
    if text in ("auto", "all"):
        return text
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < -1:
        raise argparse.ArgumentTypeError(
            f"must be 'auto', 'all' or a whole number of layers (-1 is all), not {shown(text)!r}"
        )
    return value


def add_sampling_flags(p: argparse.ArgumentParser) -> None:
    """The sampler's flags (``probs``, ``generate``), each refused outside SamplerSettings' range."""
    g = p.add_argument_group("sampling (llama.cpp's meanings and defaults)")
    g.add_argument(
        "--temperature",
        "--temp",
        type=number(0, note="(0 is greedy)"),
        default=0.8,
        help="0 is greedy (default 0.8)",
    )
    g.add_argument(
        "--top-k",
        type=whole(0, note="(0 is off)"),
        default=40,
        help="keep the K most likely tokens; 0 is off (40)",
    )
    g.add_argument(
        "--top-p",
        type=number(0, 1, note="(1 is off)"),
        default=0.95,
        help="keep the smallest set with mass P; 1 is off",
    )
    g.add_argument(
        "--min-p",
        type=number(0, 1, note="(0 is off)"),
        default=0.05,
        help="drop tokens below P × the top probability",
    )
    g.add_argument(
        "--repeat-penalty",
        type=number(0, above=True, note="(1 is off)"),
        default=1.0,
        help="penalise recent tokens; 1 is off",
    )
    g.add_argument(
        "--repeat-last-n",
        type=whole(-1, note="(-1 is the whole history, 0 is off)"),
        default=64,
        help="how many recent tokens are penalised",
    )
    g.add_argument("--frequency-penalty", type=number(), default=0.0)
    g.add_argument("--presence-penalty", type=number(), default=0.0)
    g.add_argument("--seed", type=whole(0), default=None, help="fixed seed for the die (default: random)")
    g.add_argument("--ban-eos", action="store_true", help="never pick an end-of-generation token")
    g.add_argument(
        "--wait", type=whole(0), default=0, metavar="N", help="replace the end token with 'Wait' N times"
    )
    g.add_argument("--wait-text", default=" Wait", help="the text put in place of the end token")
    g.add_argument(
        "--think-wait",
        type=whole(0),
        default=0,
        metavar="N",
        help="a thinking model: replace the end of its thinking (</think>) with the --wait-text N times",
    )
    g.add_argument(
        "--think-budget",
        type=whole(0),
        default=0,
        metavar="N",
        help="a thinking model: end its thinking after N tokens (0: no budget)",
    )
