"""How the chat writes a conversation: its colours, and each token of a reply as HTML or as formatted text.

A reply's token is a link (``t:<message>:<token>``) tinted by how likely the model found it; the same look
is made as HTML (a whole message laid out) and as a character format (tokens inserted one by one while a
reply streams), so both read the same.
"""

from __future__ import annotations

import html
import math
from typing import cast

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtGui import QColor, QTextCharFormat, QTextDocument

from desktop_app.core.conversation.shown import SHOWN_CHARS, ShownToken
from desktop_app.ui.widgets.prob_chart_looks import format_percent

ROLE_COLOURS = {"user": "#e8f0fe", "assistant": "#ffffff", "system": "#f1f3f4"}
# English keys, translated when shown (context "ChatPane"). QT_TRANSLATE_NOOP returns its message; the
# cast says so where PySide6's stub says ``object``.
HEADS = cast(
    dict[str, str],
    {
        "user": QT_TRANSLATE_NOOP("ChatPane", "You"),
        "assistant": QT_TRANSLATE_NOOP("ChatPane", "Model"),
        "system": QT_TRANSLATE_NOOP("ChatPane", "System"),
    },
)
STOPS = cast(
    dict[str, str],
    {
        "max_tokens": QT_TRANSLATE_NOOP("ChatPane", "stopped at the length limit"),
        "cancelled": QT_TRANSLATE_NOOP("ChatPane", "stopped by you"),
        "stop_string": QT_TRANSLATE_NOOP("ChatPane", "stopped at a stop text"),
        "context_full": QT_TRANSLATE_NOOP("ChatPane", "stopped: the context is full"),
        "step": QT_TRANSLATE_NOOP("ChatPane", "step by step: Next token (→) adds one more"),
    },
)
WRITTEN_COLOUR = "#eef6ee"  # an answer a lesson wrote: the lesson box's green, not the model's white
THINKING_COLOUR = "#eef0f3"  # a reply's thinking, apart from its answer
WRITTEN_NOTE = "font-weight:normal; font-style:italic; color:#1e6b32"
STREAM_MARK = "▍"  # ends a reply that is still streaming; new tokens go in just before it
# The selected token's look: white on dark navy, unlike any tint, text colour or text selection's blue, in
# the ordinary and the presentation palettes alike (the chat's colours are its own).
SELECTED_COLOUR = "#14213d"
SELECTED_TEXT = "#ffffff"
translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


def probability_colour(p: float | None) -> str:
    """A background for a token chosen with probability ``p``: pale green when likely, warm when not."""
    if p is None or math.isnan(p):  # no probability, or one a server did not report
        return "#eeeeee"
    p = max(0.0, min(1.0, p))
    if p >= 0.5:
        return "#e6f4ea"
    if p >= 0.2:
        return "#fef7e0"
    if p >= 0.05:
        return "#fde7c8"
    return "#fad2cf"


def markdown_html(text: str) -> str:
    """Markdown → the body of Qt's rich-text HTML (Qt's own CommonMark parser)."""
    doc = QTextDocument()
    doc.setMarkdown(text)
    full = doc.toHtml()
    start = full.find("<body")
    start = full.find(">", start) + 1
    end = full.rfind("</body>")
    return full[start:end] if start > 0 and end > start else html.escape(text)


# HTML collapses a run of spaces into one and drops a line's leading ones; a message keeps them (its lines
# still wrap).
KEEP_SPACES = 'style="white-space:pre-wrap"'


def plain_html(text: str) -> str:
    shown = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS]
    body = html.escape(shown).replace("\n", "<br>")
    if len(text) > SHOWN_CHARS:
        more = translate(
            "ChatPane", "… {n} more characters not shown here (the model reads all of them)."
        ).format(n=f"{len(text) - SHOWN_CHARS:,}")
        body += f'<br><i style="color:#5f6368">{html.escape(more)}</i>'

    return body


def end_marker(t: ShownToken) -> str:
    """How an end token reads in a reply: ``[END (model) 39.2 %]``, the model's own chance to end the
    reply at that step (all its end tokens), the number and the words the chart's "Model (raw)" figures
    and the end lane show for the step."""
    if t.end_p_raw is None:
        return translate("ChatPane", "[END]")
    marker = translate("ChatPane", "[END (model) {p}]").format(p=format_percent(t.end_p_raw))
    return marker.replace(" ", "\u00a0")  # one piece where the reply wraps


def token_look(t: ShownToken) -> tuple[str, str | None, str, bool]:
    """How a token is shown: its text, background, text colour and whether it is underlined."""
    if t.end:
        return "\u00a0" + end_marker(t), None, "#7b3fb5", False
    if t.inserted:
        return t.text, "#e8dff5", "#4a148c", True
    if t.forced:
        return t.text or t.label, "#d2e3fc", "#174ea6", True
    if not t.text and t.piece:  # part of a character, its bytes: shown, not an invisible token
        return t.label, probability_colour(t.p_final), "#80868b", False
    return t.text, probability_colour(t.p_final), "#202124", False


def token_html(mi: int, k: int, t: ShownToken) -> str:
    text, background, colour, underline = token_look(t)
    if not text:
        return ""
    body = html.escape(text).replace("\n", "<br>").replace("\u00a0", "&nbsp;")
    style = f"color:{colour}; text-decoration:{'underline' if underline else 'none'}"
    if background:
        style = f"background:{background}; {style}"
    return f'<a href="t:{mi}:{k}" style="{style}">{body}</a>'


def token_format(mi: int, k: int, t: ShownToken) -> tuple[str, QTextCharFormat]:
    """The token as text and a character format: what token_html makes, for QTextCursor.insertText
    (insertHtml drops a fragment's leading spaces)."""
    text, background, colour, underline = token_look(t)
    fmt = QTextCharFormat()
    fmt.setAnchor(True)
    fmt.setAnchorHref(f"t:{mi}:{k}")
    fmt.setForeground(QColor(colour))
    fmt.setFontUnderline(underline)
    if background:
        fmt.setBackground(QColor(background))
    return text.replace("\n", "\u2028"), fmt  # a line break inside the paragraph, as <br> makes
