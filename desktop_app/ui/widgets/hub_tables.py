"""The tables of the hub browser: their columns, and the rows made from the hub's answers.

Display only (texts, colours, tooltips); the numbers come from the core (``fit``, ``hub``, ``acquire``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import cast

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from desktop_app.core.engine.fit import FitEstimate, MemoryState, format_bytes
from desktop_app.core.models.acquire import AcquireError, find_model_file
from desktop_app.core.models.gguf_meta import format_params
from desktop_app.core.models.hub import CURATED, HubGGUFInfo, ModelFile, RepoFiles, RepoSummary
from desktop_app.core.units import size_text
from desktop_app.ui import core_text
from desktop_app.ui.widgets.hub_text import NOTE_COLOUR, compact_count, fit_text, verdict_colour

# Column titles: English, translated when a table is made (context "HubTables").
# QT_TRANSLATE_NOOP returns its message; the cast says so where PySide6's stub says ``object``.
RESULT_COLUMNS = cast(
    tuple[str, ...],
    (
        QT_TRANSLATE_NOOP("HubTables", "Repository"),
        QT_TRANSLATE_NOOP("HubTables", "Downloads"),
        QT_TRANSLATE_NOOP("HubTables", "Likes"),
        QT_TRANSLATE_NOOP("HubTables", "Updated"),
        QT_TRANSLATE_NOOP("HubTables", "Parameters"),
        QT_TRANSLATE_NOOP("HubTables", "Access"),
    ),
)
CURATED_COLUMNS = cast(
    tuple[str, ...],
    (
        QT_TRANSLATE_NOOP("HubTables", "Model"),
        QT_TRANSLATE_NOOP("HubTables", "Parameters"),
        QT_TRANSLATE_NOOP("HubTables", "Size"),
        QT_TRANSLATE_NOOP("HubTables", "Fit here"),
    ),
)
FILE_COLUMNS = cast(
    tuple[str, ...],
    (
        QT_TRANSLATE_NOOP("HubTables", "File"),
        QT_TRANSLATE_NOOP("HubTables", "Quant"),
        QT_TRANSLATE_NOOP("HubTables", "Size"),
        QT_TRANSLATE_NOOP("HubTables", "Fit"),
        QT_TRANSLATE_NOOP("HubTables", "Here"),
    ),
)
translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls
FIT_COLUMN, HERE_COLUMN, CURATED_FIT = 3, 4, 3
GREY = QColor("#80868b")


def make_tree(columns: Sequence[str], parent: QWidget, stretch: tuple[int, ...]) -> QTreeWidget:
    """A table whose ``stretch`` columns share the room left (eliding their text; tooltips have it all)
    and whose other columns are as wide as their contents, so numbers and verdicts are never cut.
    ``columns``: English titles, translated in the "HubTables" context."""
    tree = QTreeWidget(parent)
    tree.setColumnCount(len(columns))
    tree.setHeaderLabels([translate("HubTables", c) for c in columns])
    tree.setRootIsDecorated(False)
    tree.setAlternatingRowColors(True)
    tree.setUniformRowHeights(True)
    tree.setSortingEnabled(False)  # the hub's order (or smallest first) is the point
    tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    header = tree.header()
    header.setStretchLastSection(False)
    header.setMinimumSectionSize(40)
    for col in range(len(columns)):
        mode = QHeaderView.ResizeMode.Stretch if col in stretch else QHeaderView.ResizeMode.ResizeToContents
        header.setSectionResizeMode(col, mode)
    return tree


def fill_curated(tree: QTreeWidget) -> None:
    """One row of facts per curated model, and under it a line with its licence and why it is there."""
    tree.clear()
    for i, c in enumerate(CURATED):
        measuring = translate("HubTables", "measuring…")
        item = QTreeWidgetItem([c.repo_id, c.parameters, size_text(c.size_bytes), measuring])
        item.setData(0, Qt.ItemDataRole.UserRole, i)
        tip = translate("HubTables", "{repo}\nrecommended file: {file}")
        item.setToolTip(0, tip.format(repo=c.repo_id, file=c.filename))
        reason = core_text.curated_reason(c.reason)
        why = QTreeWidgetItem(item, [f"{c.licence} · {reason}"])
        why.setData(0, Qt.ItemDataRole.UserRole, i)
        why.setToolTip(
            0, translate("HubTables", "Licence: {licence}").format(licence=c.licence) + f"\n{reason}"
        )
        why.setForeground(0, QBrush(GREY))
        tree.addTopLevelItem(item)
        why.setFirstColumnSpanned(True)
    tree.expandAll()


def result_item(r: RepoSummary, gated_sentence: str) -> QTreeWidgetItem:
    """A search result: repository, downloads, likes, updated, parameters · architecture, access."""
    if r.gated:
        access = translate("HubTables", "gated")
    else:
        access = translate("HubTables", "private") if r.private else translate("HubTables", "open")
    updated = r.updated.date().isoformat() if r.updated else ""
    item = QTreeWidgetItem(
        [r.repo_id, compact_count(r.downloads), compact_count(r.likes), updated, model_facts(r.gguf), access]
    )
    item.setToolTip(0, r.repo_id)
    item.setToolTip(1, translate("HubTables", "{n} downloads").format(n=f"{r.downloads:,}"))
    item.setToolTip(2, translate("HubTables", "{n} likes").format(n=f"{r.likes:,}"))
    item.setToolTip(
        4, translate("HubTables", "parameters · architecture, as the hub read them from the GGUF header")
    )
    for col in (1, 2):
        item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if r.gated:
        item.setForeground(5, QBrush(QColor(NOTE_COLOUR)))
        item.setToolTip(5, gated_sentence)
    return item


def file_item(index: int, repo_id: str, f: ModelFile) -> QTreeWidgetItem:
    """A file of a repository (``index`` in its listing); one that is not a loadable model is grey and
    says why instead of a fit."""
    parts = " " + translate("HubTables", "({n} parts)").format(n=f.split_total) if f.is_split else ""
    name = f.filename + parts
    item = QTreeWidgetItem([name, f.quantization or "—", size_text(f.size), "", ""])
    item.setData(0, Qt.ItemDataRole.UserRole, index)
    item.setToolTip(0, f.name)
    item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    reason = refusal(repo_id, f)
    if reason is not None:
        item.setText(FIT_COLUMN, short_refusal(f))
        item.setToolTip(FIT_COLUMN, reason)
        for col in range(len(FILE_COLUMNS)):
            item.setForeground(col, QBrush(GREY))
    elif f.size is None:
        item.setText(FIT_COLUMN, translate("HubTables", "size unknown"))
    return item


def top_items(tree: QTreeWidget) -> list[QTreeWidgetItem]:
    """``tree``'s rows, in order."""
    items = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    return [item for item in items if item is not None]  # None only for an index out of range


def texts(tree: QTreeWidget) -> list[tuple[str, ...]]:
    cols = tree.columnCount()
    return [tuple(item.text(c) for c in range(cols)) for item in top_items(tree)]


def show_fit(item: QTreeWidgetItem, column: int, fit: FitEstimate | None) -> None:
    if fit is None:
        item.setText(column, translate("HubTables", "measuring…"))
        return
    item.setText(column, fit_text(fit))
    item.setToolTip(column, fit.sentence)
    item.setForeground(column, QBrush(verdict_colour(fit.verdict)))
    item.setData(column, Qt.ItemDataRole.UserRole, fit.verdict)


def memory_text(m: MemoryState) -> str:
    if m.ram_available is None:
        return translate("HubTables", "free memory: not measurable here")
    ram = format_bytes(m.ram_available)
    if m.has_gpu and m.gpu_name:
        text = translate("HubTables", "{ram} free memory, {vram} on {gpu}")
        return text.format(ram=ram, vram=format_bytes(m.vram_free), gpu=m.gpu_name)
    if m.has_gpu:
        text = translate("HubTables", "{ram} free memory, {vram} on the GPU")
        return text.format(ram=ram, vram=format_bytes(m.vram_free))
    return translate("HubTables", "{ram} free memory").format(ram=ram)


def model_facts(g: HubGGUFInfo | None) -> str:
    if g is None:
        return ""
    return " · ".join(x for x in (format_params(g.parameters) if g.parameters else None, g.architecture) if x)


def refusal(repo_id: str, f: ModelFile) -> str | None:
    """Why ``f`` cannot be downloaded as a model (the core's sentence), or None."""
    try:
        find_model_file(repo_id, [f], f.name)
    except AcquireError as exc:
        return exc.sentence
    return None


def short_refusal(f: ModelFile) -> str:
    if f.kind == "mmproj":
        return translate("HubTables", "projector (not a model)")
    if f.kind == "imatrix":
        return translate("HubTables", "imatrix (not a model)")
    if f.refused:
        return translate("HubTables", "refused: unsafe name")
    text = translate("HubTables", "incomplete ({n} of {total} parts)")
    return text.format(n=len(f.parts), total=f.split_total)


def repo_facts(listing: RepoFiles, gated_sentence: str) -> str:
    """The facts line above a repository's files (rich text; the hub's strings escaped)."""
    facts = [listing.license]
    if g := listing.gguf:
        params = None
        if g.parameters:
            params = translate("HubTables", "{n} parameters").format(n=format_params(g.parameters))
        facts += [params, g.architecture]
        context = translate("HubTables", "context {n}").format(n=f"{g.context_length:,}")
        facts.append(context if g.context_length else None)
        template = translate("HubTables", "chat template")
        facts.append(template if g.has_chat_template else translate("HubTables", "no chat template"))
    shown = " · ".join(html.escape(x) for x in facts if x)
    text = f"<b>{html.escape(listing.repo_id)}</b>" + (f" — {shown}" if shown else "")
    if listing.gated:
        text += f"<br><span style='color:{NOTE_COLOUR}'>{html.escape(gated_sentence)}</span>"
    return text
