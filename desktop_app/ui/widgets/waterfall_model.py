"""What the waterfall shows for one step, as arrays: its columns (raw, each active stage; raw and final
for a saved step) with a header saying what each stage did, its rows (the top candidates, the chosen
token, everything else) and every cell's probability and state. No widgets: the view draws a
:class:`WaterfallFrame` and glides between two of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QCoreApplication

from desktop_app.core.engine.distribution import Distribution, Stage
from desktop_app.ui.widgets.prob_chart import format_percent
from desktop_app.ui.widgets.reported_step import reported_count
from desktop_app.ui.widgets.step_plot import stage_word

ALIVE, CUT, GONE = 0, 1, 2  # a cell's state: has a probability / removed by this stage / removed before
STATE_NAMES = {ALIVE: "alive", CUT: "removed", GONE: "gone"}


@dataclass(frozen=True)
class WaterfallCell:
    """What one cell shows: its probability, its text, and whether the token is still in."""

    p: float
    text: str
    state: str  # "alive", "removed" (by this column's stage) or "gone" (by an earlier one)
    removed_by: str | None  # the stage that removed the token (in this column or before)


@dataclass(frozen=True)
class Column:
    key: str  # "raw", a stage name, or "final" (a saved step)
    header: str  # what the stage did, on two or three lines
    p: np.ndarray  # per candidate
    rest: float  # the survivors that are not candidates
    removed: np.ndarray  # per candidate: removed by this column's stage


@dataclass(frozen=True, eq=False)
class WaterfallFrame:
    """Columns × rows of one step; the last row is "all other tokens"."""

    keys: tuple[str, ...]
    headers: tuple[str, ...]
    tokens: np.ndarray  # token id per row (the others row not included)
    index: np.ndarray  # each row's index in the step's candidates
    p: np.ndarray  # columns × rows: the probability after each stage
    length: np.ndarray  # columns × rows: the bar (what a removed token had, on the removing stage)
    state: np.ndarray  # columns × rows: ALIVE, CUT or GONE
    removed_by: tuple[str | None, ...]  # per token row
    scale: float  # the longest token bar
    saved: bool


translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


def header(
    d: Distribution, key: str, stage: Stage | None = None, prev_alive: int = 0, lowered: int = 0
) -> str:
    """What a column's stage did ("top-k 40" / "kept 40"); the die's column says so on a third line."""
    s = d.settings
    if key == "raw":
        if d.reported and not d.n_vocab:  # the server did not give its vocabulary's size
            size = translate("WaterfallView", "vocabulary not reported")
        else:
            size = translate("WaterfallView", "{n:,} tokens").format(n=d.n_vocab)
        return translate("WaterfallView", "model (raw)") + "\n" + size
    if key == "final":
        return translate("WaterfallView", "the die (saved)") + "\n" + translate("WaterfallView", "final")
    # Every other column is a stage's, given with its stage; a step with stages has its settings (a
    # saved step has neither, and shows only "raw" and "final").
    assert stage is not None and s is not None, f"the {key!r} column needs its stage and the settings"
    alive = _alive(d, stage)
    if key == "ban":
        return (
            translate("WaterfallView", "end banned")
            + "\n"
            + translate("WaterfallView", "removed {n}").format(n=max(prev_alive - alive, 0))
        )
    if key == "penalties":
        if s.frequency_penalty == 0 and s.presence_penalty == 0:
            top = translate("WaterfallView", "repeat ×{r}").format(r=f"{s.repeat_penalty:g}")
        else:
            top = stage_word(d, "penalties")
        return (
            top
            + "\n"
            + translate("WaterfallView", "{n} of top {m} lowered").format(
                n=lowered, m=reported_count(d) if d.reported else len(d.candidates)
            )
        )
    if d.reported and stage.rest_p > 0:  # the rest the server did not report is kept whole
        kept = translate("WaterfallView", "kept {n:,} + the rest").format(n=alive)
    else:
        kept = translate("WaterfallView", "kept {n:,}").format(n=alive)
    if key == "top_k":
        return translate("WaterfallView", "top-k {k}").format(k=s.top_k) + "\n" + kept
    if key == "top_p":
        return translate("WaterfallView", "top-p {p}").format(p=f"{s.top_p:g}") + "\n" + kept
    if key == "min_p":
        return translate("WaterfallView", "min-p {p}").format(p=f"{s.min_p:g}") + "\n" + kept
    if key == "temperature":
        t = s.temperature
        if t <= 0:
            what = translate("WaterfallView", "greedy: kept 1")
        else:
            what = (
                translate("WaterfallView", "sharper")
                if t < 1
                else translate("WaterfallView", "flatter")
                if t > 1
                else translate("WaterfallView", "unchanged")
            )
        return (
            translate("WaterfallView", "temperature {t}").format(t=f"{t:g}")
            + "\n"
            + what
            + "\n"
            + translate("WaterfallView", "= the die")
        )
    return key


def columns(d: Distribution) -> list[Column]:
    """Raw, then each active stage (the last is the die's final distribution); raw and final for a
    saved step."""
    no_one = np.zeros(len(d.candidates), dtype=bool)
    cols = [Column("raw", header(d, "raw"), np.asarray(d.p_raw), d.rest_p_raw, no_one)]
    if d.is_saved or not d.stages:
        removed = np.array([r is not None for r in d.removed_by], dtype=bool)
        cols.append(Column("final", header(d, "final"), np.asarray(d.p_final), d.rest_p_final, removed))
        return cols
    prev_p = np.asarray(d.p_raw, dtype=np.float64)
    prev_alive = reported_count(d) if d.reported else d.n_vocab
    for st in d.stages:
        lowered = 0
        if st.name == "penalties":  # renormalising raises every token alike; the penalised ones fall behind
            both = (prev_p > 0) & (st.p > 0)
            ratio = np.asarray(st.p)[both] / prev_p[both]
            lowered = int(np.count_nonzero(ratio < ratio.max() * (1 - 1e-6))) if ratio.size else 0
        text = header(d, st.name, st, prev_alive, lowered)
        cols.append(Column(st.name, text, np.asarray(st.p), st.rest_p, np.asarray(st.removed)))
        prev_p, prev_alive = np.asarray(st.p, dtype=np.float64), _alive(d, st)
    return cols


def _alive(d: Distribution, stage: Stage) -> int:
    """The tokens a stage kept; of a reported step, the reported candidates it kept (its rest is one mass
    whose tokens the server did not count)."""
    return int(np.count_nonzero(np.asarray(stage.p) > 0)) if d.reported else stage.n_alive


def build_frame(d: Distribution, top_n: int) -> WaterfallFrame:
    """The top ``top_n`` candidates (by raw probability, the chosen token added when below them) and
    "all other tokens", across every column of ``d``."""
    cols = columns(d)
    n_cand = len(d.candidates)
    index = np.arange(min(top_n, n_cand))
    if d.chosen_index >= index.size:
        index = np.append(index, d.chosen_index)
    hidden = np.ones(n_cand, dtype=bool)
    hidden[index] = False
    n = index.size
    p = np.zeros((len(cols), n + 1))
    state = np.full((len(cols), n + 1), ALIVE, dtype=np.int8)
    gone = np.zeros(n, dtype=bool)
    for c, col in enumerate(cols):
        cp = np.asarray(col.p, dtype=np.float64)
        p[c, :n] = cp[index]
        p[c, n] = col.rest + float(np.nansum(cp[hidden]))
        cut = np.asarray(col.removed)[index] & ~gone
        state[c, :n][gone] = GONE
        state[c, :n][cut] = CUT
        gone |= cut
    length = p.copy()
    for c in range(1, len(cols)):
        cut = state[c, :n] == CUT
        length[c, :n][cut] = p[c - 1, :n][cut]  # a faint bar of what it had before
    length[:, :n][state[:, :n] == GONE] = 0.0
    length[np.isnan(length)] = 0.0  # a token a server did not report: no bar (its cell says so)
    return WaterfallFrame(
        keys=tuple(col.key for col in cols),
        headers=tuple(col.header for col in cols),
        tokens=np.asarray(d.candidates)[index],
        index=index,
        p=p,
        length=length,
        state=state,
        removed_by=tuple(d.removed_by[i] for i in index),
        scale=max(float(length[:, :n].max()) if n else 1.0, 1e-9),
        saved=d.is_saved or not d.stages,
    )


def cell_text(d: Distribution | None, state: int, p: float, removed_by: str | None) -> str:
    """ "12.9 %", "✂ top-k" where the token was removed, "" after."""
    if state == CUT:
        return "✂ " + stage_word(d, removed_by or "")
    if state == GONE:
        return ""
    return format_percent(p)
