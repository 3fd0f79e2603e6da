"""What the end lane writes: its title (the chances to end the reply and, while it thinks, to close the
thinking), a point's tooltip, and its legend with the title's tooltip. Translated in the lane's context
("EndLane"). Every number says it is the model's own ("(model)"), as the chart's "Model (raw)" line does.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor

from desktop_app.ui.widgets.end_lane_points import (
    BANNED,
    BUDGET,
    CLOSED,
    END,
    TAKEN_BACK,
    WAIT,
    ClosePoint,
    ReplyPoints,
)
from desktop_app.ui.widgets.prob_chart_looks import format_percent

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


def point_tooltip(reply: ReplyPoints, index: int) -> str:
    """Point ``index``'s tooltip: its chance to end, how its end went, and its chance to close the
    thinking when it has one."""
    p, marker = reply.p[index], reply.markers[index]
    if math.isnan(p):
        text = translate(
            "EndLane", "Token {n}: the server did not report the model's chance to end here."
        ).format(n=index + 1)
    else:
        text = translate("EndLane", "Token {n}: the model's chance to end here was {p}.").format(
            n=index + 1, p=format_percent(p)
        )
    extra = {
        BANNED: translate("EndLane", "The end token was banned."),
        WAIT: translate("EndLane", "The die picked the end; “Wait” was put in its place."),
        END: translate("EndLane", "The reply ended here."),
    }.get(marker)
    close = reply.close[index]
    return text + ("\n" + extra if extra else "") + ("\n" + close_tooltip(close) if close else "")


def close_tooltip(c: ClosePoint) -> str:
    if c.marker == TAKEN_BACK and c.last_token:
        chance = translate(
            "EndLane",
            "The close began in tokens taken back with it, whose chances are not kept; its token the model "
            "wrote here had {p}.",
        ).format(p=percent(c))
    elif math.isnan(c.p):
        chance = translate(
            "EndLane", "The server did not report the model's chance to close its thinking here."
        )
    elif c.below:
        chance = translate(
            "EndLane",
            "The model's chance to close its thinking here was below {p}, the smallest candidate's.",
        ).format(p=format_percent(c.p))
    else:
        chance = translate("EndLane", "The model's chance to close its thinking here was {p}.").format(
            p=percent(c)
        )
    extra = {
        TAKEN_BACK: translate(
            "EndLane", "The model closed its thinking here; the close was taken back and “Wait” written."
        ),
        CLOSED: translate("EndLane", "The model closed its thinking here."),
        BUDGET: translate(
            "EndLane", "The thinking budget was spent: the close was written after this token."
        ),
    }.get(c.marker)
    return chance + ("\n" + extra if extra else "")


def headline(reply: ReplyPoints, current: int | None) -> str:
    """The lane's title: whose chance it is, the selected token's (``current``), the latest and the
    highest (a number kept on one line with its "%" where the title wraps); then, for a reply that
    thinks, the same of its chance to close the thinking."""
    p = reply.p
    if not p:
        return translate("EndLane", "Chance to end the reply (model): no tokens yet.")
    parts = [
        translate("EndLane", "now {p}").format(p=_nbsp(format_percent(p[-1])))
    ]  # "not reported" for an unknown one
    known = [i for i, v in enumerate(p) if not math.isnan(v)]
    if known:
        top = max(known, key=p.__getitem__)
        parts.append(
            translate("EndLane", "highest {p} at token {i}").format(
                p=_nbsp(format_percent(p[top])), i=top + 1
            )
        )
    if current is not None and 0 <= current < len(p) - 1:  # the selected token, when it is not the latest
        parts.insert(
            0,
            translate("EndLane", "token {k}: {p}").format(k=current + 1, p=_nbsp(format_percent(p[current]))),
        )
    text = translate("EndLane", "Chance to end the reply (model): {figures}").format(
        figures=" · ".join(parts)
    )
    return text + ("\n" + close_headline(reply, current) if reply.thought else "")


def close_headline(reply: ReplyPoints, current: int | None) -> str:
    """The title's line on the chance to close the thinking: the selected token's, the latest while the
    reply still thinks, and the highest known exactly."""
    close, parts = reply.close, []
    if current is not None and 0 <= current < len(close) - 1 and (c := close[current]) is not None:
        parts.append(translate("EndLane", "token {k}: {p}").format(k=current + 1, p=_nbsp(percent(c))))
    if close and (c := close[-1]) is not None:  # still thinking
        parts.append(translate("EndLane", "now {p}").format(p=_nbsp(percent(c))))
    exact = [
        (c.p, i)
        for i, c in enumerate(close)
        if c is not None and not (c.below or c.last_token or math.isnan(c.p))
    ]
    bounds = [c.p for c in close if c is not None and c.below]
    if exact:
        p, i = max(exact, key=lambda pi: (pi[0], -pi[1]))  # the first of equal highest
        parts.append(
            translate("EndLane", "highest {p} at token {i}").format(p=_nbsp(format_percent(p)), i=i + 1)
        )
    elif bounds and max(bounds) > 0:  # the close's token never among the candidates: only a bound
        bound = format_percent(max(bounds)).removeprefix("<")  # ("<0.01 %": all below 0.01 %)
        parts.append(translate("EndLane", "all below {p}").format(p=_nbsp(bound)))
    if not parts:  # a server's steps that never reported the close's token
        parts.append(_nbsp(format_percent(math.nan)))
    return translate("EndLane", "Chance to close the thinking (model): {figures}").format(
        figures=" · ".join(parts)
    )


def explanations(colors: dict[str, QColor], close: QColor, thinking: bool) -> tuple[str, str]:
    """The title's tooltip and the legend (rich text, in ``colors``); with the close's part (in ``close``)
    for a reply that thinks."""
    c = colors
    tip = translate(
        "EndLane",
        "The model's own chance to end the reply at each token: its end tokens' probability before "
        "the sampling settings, as the chart shows it in “Model (raw)”.",
    )
    legend = translate(
        "EndLane",
        "{dot} the model's chance to end at each token   {x} end banned   "
        "{wait} end replaced by “Wait”   {end} the reply ended",
    ).format(
        dot=f"<span style='color:{c['bar'].name()}'>●</span>",
        x=f"<span style='color:{c['muted'].name()}'>✕</span>",
        wait=f"<span style='color:{c['chosen'].name()}'>▲</span>",
        end=f"<span style='color:{c['end'].name()}'>★</span>",
    )
    if not thinking:
        return tip, legend
    tip += "\n" + translate(
        "EndLane",
        "While the reply thinks, the model's chance to close its thinking at each token: the probability "
        "of the first token of its close, </think> (“</” where the model writes the close in several "
        "tokens: then at most the chance to begin closing there). Hollow: that token was not among the "
        "candidates; its chance is below the smallest of theirs.",
    )

    def mark(glyph: str) -> str:
        return f"<span style='color:{close.name()}'>{glyph}</span>"

    legend += "<br>" + translate(
        "EndLane",
        "{dot} the model's chance to close its thinking   {below} below this   "
        "{taken} close taken back, “Wait” written   {closed} the model closed its thinking   "
        "{budget} the budget closed it after this token",
    ).format(dot=mark("●"), below=mark("○"), taken=mark("◆"), closed=mark("■"), budget=mark("□"))
    return tip, legend


def percent(c: ClosePoint) -> str:
    """A close point's chance, "<" before a bound (the smallest candidate's)."""
    text = format_percent(c.p)
    return "<" + text if c.below and not text.startswith("<") else text


def _nbsp(text: str) -> str:
    return text.replace(" ", "\u00a0")
