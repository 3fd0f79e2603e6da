"""How the views word a step that a server reported only in part (``Distribution.reported``): its top
candidates are known, the rest of the vocabulary is one mass it did not itemise, and a token it did not
report (the die fell in the rest and the server picked it, or a token forced by hand) has unknown (NaN)
probabilities.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QCoreApplication

from desktop_app.core.engine.distribution import Distribution
from desktop_app.ui.widgets.prob_chart_looks import format_percent as _percent
from desktop_app.ui.widgets.prob_chart_looks import not_reported as not_reported

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


def unknown(p: float) -> bool:
    """A probability the server did not report."""
    return math.isnan(p)


def reported_count(d: Distribution) -> int:
    """The candidates the server reported (a token it did not report, appended as the chosen one, not
    counted)."""
    return int(np.count_nonzero(~np.isnan(np.asarray(d.p_raw, dtype=np.float64))))


def unreported_tokens(d: Distribution) -> int:
    """How many tokens the rest covers: the vocabulary less the reported candidates (0: the server did not
    give its vocabulary's size)."""
    return max(d.n_vocab - reported_count(d), 0) if d.n_vocab else 0


def rest_phrase(d: Distribution) -> str:
    """ "the rest, not reported", with how many tokens it covers when the vocabulary's size is known."""
    n = unreported_tokens(d)
    if n:
        return translate("ReportedStep", "the rest, not reported ({n} tokens)").format(n=f"{n:,}")
    return translate("ReportedStep", "the rest, not reported")


def fell_in_rest(d: Distribution) -> bool:
    """The die's roll fell past every reported candidate: in the rest, where the server picked the token."""
    if not d.reported or d.u is None or d.forced or d.greedy:
        return False
    p = np.asarray(d.order_p, dtype=np.float64)
    # The die's own rule (Judged.roll): the first candidate whose cumulative probability passes u.
    return p.size == 0 or d.u >= float(np.cumsum(p)[-1])


def server_rolled(d: Distribution) -> bool:
    """The server sampled the token with its own die (a reply streamed from it): TokenDice has no roll,
    though the settings are not greedy."""
    return d.reported and d.u is None and not d.forced and d.settings is not None and not d.settings.greedy


# --- the next-token chart's words ----------------------------------------------------------------------
def rest_row_text(d: Distribution, others: int, unreported: float, final: bool) -> str:
    """What the chart's last row says after its percentage: the ``others`` reported candidates not shown
    as bars, and the rest the server did not report (its share ``unreported``, in the mode shown)."""
    if unreported > 0:
        if not others:
            return rest_phrase(d)
        return translate("ProbChart", "{n} other tokens + {rest}: {p}").format(
            n=f"{others:,}", rest=rest_phrase(d), p=_percent(unreported)
        )
    if final and d.rest_p_raw > 0:  # a stage cut the rest off (top-k, top-p, min-p or greedy)
        if not others:
            return translate("ProbChart", "sampling removed the rest, not reported")
        return translate("ProbChart", "{n} other tokens; sampling removed the rest, not reported").format(
            n=f"{others:,}"
        )
    if others:  # the server reported the whole vocabulary
        return translate("ProbChart", "{n} other tokens").format(n=f"{others:,}")
    return translate("ProbChart", "no other token left")


def reported_roll_text(d: Distribution, label: str) -> str:
    """The chart's roll line for a token the server picked: the die fell in the rest, or the server rolled
    its own die (see :func:`fell_in_rest`, :func:`server_rolled`)."""
    if fell_in_rest(d):
        assert d.u is not None, "a roll that fell in the rest has a roll"
        return translate(
            "ProbChart", "the die: u = {u} fell in the rest, not reported → the server picked “{token}”"
        ).format(u=f"{d.u:.4f}", token=label)
    return translate("ProbChart", "the server rolled its own die → “{token}”").format(token=label)


def reported_end_text(d: Distribution, eog_ids: frozenset[int], *, raw: bool) -> str:
    """The chart's end-token figure for a reported step: exact when every end token was reported (or the
    rest, where an unreported one would be, was cut off), a lower bound when only some were, and "not
    reported" when none was."""
    p, rest = (d.eos_p_raw, d.rest_p_raw) if raw else (d.eos_p_final, d.rest_p_final)
    ids = np.asarray(d.candidates)[~np.isnan(np.asarray(d.p_raw, dtype=np.float64))]
    known = np.isin(np.fromiter(eog_ids, dtype=np.int64, count=len(eog_ids)), ids)
    if rest <= 0 or (known.size and known.all()):
        if raw:
            return translate("ProbChart", "end token (model) {p}").format(p=_percent(p))
        return translate("ProbChart", "end token (after sampling) {p}").format(p=_percent(p))
    if known.any():
        if raw:
            return translate("ProbChart", "end token (model) at least {p}").format(p=_percent(p))
        return translate("ProbChart", "end token (after sampling) at least {p}").format(p=_percent(p))
    if raw:
        return translate("ProbChart", "end token (model) not reported")
    return translate("ProbChart", "end token (after sampling) not reported")


# --- the die's words -----------------------------------------------------------------------------------
def tail_label(d: Distribution, others: int) -> str:
    """The label of a reported step's tail (on the die's strip, its rolls, the waterfall): ``others``
    reported candidates not listed one by one, and the rest the server did not report."""
    if others > 0:
        return translate("ReportedStep", "{n} others + not reported").format(n=f"{others:,}")
    return translate("ReportedStep", "the rest, not reported")


def die_server_sentence(d: Distribution, label: str, interval: tuple[float, float] | None) -> str:
    """The die's sentence for a token the server picked: the roll fell in the rest (``interval``: the
    rest's part of the strip), or the server rolled its own die."""
    if fell_in_rest(d) and interval is not None:
        return translate(
            "DieStrip",
            "u = {u} fell in the rest, not reported (cumulative {lo}–1): the server picked “{token}” among "
            "the tokens it did not report.",
        ).format(u=f"{d.u:.4f}", lo=f"{interval[0]:.4f}", token=label)
    return translate(
        "DieStrip", "The server rolled its own die for this step and picked “{token}”: its roll is not known."
    ).format(token=label)


def die_unreported_pick() -> str:
    """After "picked by hand", for a token the server did not report."""
    return translate("DieStrip", "The server did not report it, so its chance is not known.")
