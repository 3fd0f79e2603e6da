"""What the hub says about models, as data: a repository's files (split parts grouped, projectors
flagged, quantizations read from names), its GGUF facts, a search page, and the error every hub failure
becomes. No network here: :mod:`hub` asks the hub, and :mod:`hub_fallback` reads a mirror's tree; both
build these.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    pass


def _failures() -> tuple[type[BaseException], ...]:
    """What a hub call can raise: huggingface_hub's HTTP errors, transport errors, unreadable answers."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    return (HfHubHTTPError, httpx2.HTTPError, OSError, ValueError, KeyError, TypeError, AttributeError)


ErrorKind = Literal[
    "offline", "gated", "not_found", "auth", "network", "rate_limited", "server", "bad_response", "http",
    "unsupported",
]  # fmt: skip


class HubError(Exception):
    """A hub call failed; ``str(error)`` is one sentence for the user, ``kind`` is for the code."""

    def __init__(self, kind: ErrorKind, sentence: str, *, status: int | None = None):
        super().__init__(sentence)
        self.kind = kind
        self.sentence = sentence
        self.status = status


# --------------------------------------------------------------------------- file names

_QUANT = re.compile(
    r"(?<![a-z0-9])(?P<ud>ud[-_])?(?P<q>"
    r"i?q[1-8][-_]?k(?:[-_]?(?:xxs|xs|s|m|l|xl|xxl))?"  # Q4_K_M, Q6_K, Q3_K_XL, q4km
    r"|q[1-8][-_][01](?:[-_][48][-_][48])?"  # Q4_0, Q8_0, Q5_1, Q4_0_4_4
    r"|iq[1-4][-_]?(?:xxs|xs|nl|s|m|xl)"  # IQ2_XXS, IQ4_NL, IQ3_M
    r"|tq[12][-_]0"  # TQ1_0, TQ2_0 (ternary)
    r"|mxfp4(?:[-_]moe)?"
    r"|bf16|fp16|f16|fp32|f32|f64"
    r")(?![a-z0-9])",
    re.IGNORECASE,
)
_BARE_Q = re.compile(r"(?<![a-z0-9])q([2-8])(?![a-z0-9])", re.IGNORECASE)  # Phi-3-mini-4k-instruct-q4
_K_QUANT = re.compile(r"(I?Q\d)K(XXS|XS|S|M|L|XL|XXL)?")
_I_QUANT = re.compile(r"IQ(\d)(XXS|XS|NL|S|M|XL)")
_SPLIT = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<total>\d{5})\.gguf$", re.IGNORECASE)
_PROJECTOR = re.compile(r"mmproj|mm[-_]proj|projector", re.IGNORECASE)


def _canonical_quant(text: str) -> str:
    compact = re.sub(r"[-_.]", "", text.upper())
    if compact in ("FP16", "FP32"):
        return compact.replace("FP", "F")
    if m := _I_QUANT.fullmatch(compact):
        return f"IQ{m[1]}_{m[2]}"
    if m := _K_QUANT.fullmatch(compact):
        return f"{m[1]}_K" + (f"_{m[2]}" if m[2] else "")
    if compact.startswith(("Q", "TQ")):  # Q4_0, Q4_0_4_4, TQ1_0: digits after the first one, one each
        head, digits = re.match(r"(T?Q\d)(\d*)", compact).groups()  # type: ignore[union-attr]
        return "_".join([head, *digits])
    if compact.startswith("MXFP4"):
        return "MXFP4_MOE" if compact.endswith("MOE") else "MXFP4"
    return compact


def parse_quantization(filename: str) -> str | None:
    """The quantization written in a GGUF file name: ``Q4_K_M``, ``IQ2_XXS``, ``BF16``, ``UD-Q4_K_XL``…

    Case and the ``-``/``_``/``.`` separators do not matter; the last match in the file name wins (the
    quantization is usually its suffix), then the folders are tried from the innermost. None when the
    name does not say.
    """
    parts = filename.replace("\\", "/").split("/")
    for part in reversed(parts):
        stem = part[:-5] if part.lower().endswith(".gguf") else part
        if m := _SPLIT.match(stem + ".gguf"):
            stem = m["stem"]
        matches = list(_QUANT.finditer(stem))
        if matches:
            last = matches[-1]
            quant = _canonical_quant(last["q"])
            return f"UD-{quant}" if last["ud"] else quant
        if m := _BARE_Q.search(stem):
            return f"Q{m[1]}"
    return None


def split_part(filename: str) -> tuple[str, int, int] | None:
    """``(stem, index, total)`` for a part of a split GGUF (``name-00002-of-00003.gguf``), else None."""
    m = _SPLIT.match(posixpath.basename(filename.replace("\\", "/")))
    return (m["stem"], int(m["index"]), int(m["total"])) if m else None


def is_projector(filename: str) -> bool:
    """True for a multimodal projector (``mmproj-…gguf``): it cannot be loaded as a language model."""
    return bool(_PROJECTOR.search(posixpath.basename(filename.replace("\\", "/"))))


@dataclass(frozen=True)
class FilePart:
    path: str
    size: int | None
    sha256: str | None


@dataclass(frozen=True)
class ModelFile:
    """One loadable GGUF (all parts of a split model together) or one projector file."""

    name: str  # path in the repository of the file to open: the first part of a split model
    size: int | None  # bytes, all parts together; None when the hub did not say
    sha256: str | None  # LFS sha256 of ``name``; every part's is in ``parts``
    quantization: str | None
    kind: Literal["model", "mmproj", "imatrix"]
    parts: tuple[FilePart, ...]
    split_total: int = 1  # parts the name announces (``-of-00003``)

    @property
    def filename(self) -> str:
        return posixpath.basename(self.name)

    @property
    def is_split(self) -> bool:
        return self.split_total > 1

    @property
    def complete(self) -> bool:
        """False for a split model with parts missing from the repository."""
        return len(self.parts) == self.split_total

    @property
    def refused(self) -> str | None:
        """Why the downloader refuses a part's name (``..``, a backslash…), as a sentence; else None."""
        from desktop_app.core.models.download_errors import file_name_problem

        return next((why for p in self.parts if (why := file_name_problem(p.path))), None)

    @property
    def loadable(self) -> bool:
        return self.kind == "model" and self.complete and self.refused is None


def group_gguf_files(entries: Iterable[tuple[str, int | None, str | None]]) -> list[ModelFile]:
    """Turn ``(path, size, sha256)`` rows into :class:`ModelFile` entries: non-GGUF files dropped, the
    parts of split models grouped (by folder, name and part count), models first by size, then the rest."""
    singles: list[ModelFile] = []
    groups: dict[tuple[str, str, int], dict[int, FilePart]] = {}
    for path, size, sha in entries:
        if not path.lower().endswith(".gguf"):
            continue
        folder, base = posixpath.split(path)
        if m := _SPLIT.match(base):
            key = (folder, m["stem"], int(m["total"]))
            groups.setdefault(key, {})[int(m["index"])] = FilePart(path, size, sha)
            continue
        singles.append(_model_file(path, (FilePart(path, size, sha),), 1))
    for (_folder, _stem, total), by_index in groups.items():
        parts = tuple(by_index[i] for i in sorted(by_index))
        singles.append(_model_file(parts[0].path, parts, max(total, 1)))
    order = {"model": 0, "mmproj": 1, "imatrix": 2}
    return sorted(singles, key=lambda f: (order[f.kind], f.size is None, f.size or 0, f.name.lower()))


def _model_file(name: str, parts: tuple[FilePart, ...], total: int) -> ModelFile:
    quant = parse_quantization(name)
    if is_projector(name):
        kind: Literal["model", "mmproj", "imatrix"] = "mmproj"
    elif quant is None and "imatrix" in posixpath.basename(name).lower():
        kind = "imatrix"
    else:
        kind = "model"
    sizes = [p.size for p in parts]
    size = None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)
    return ModelFile(name, size, parts[0].sha256, quant, kind, parts, total)


# --------------------------------------------------------------------------- hub answers


@dataclass(frozen=True)
class HubGGUFInfo:
    """What the hub parsed from a repository's GGUF header (the ``gguf`` field of its model info)."""

    parameters: int | None
    architecture: str | None
    context_length: int | None
    has_chat_template: bool

    @classmethod
    def from_api(cls, data: Any) -> HubGGUFInfo | None:
        if not isinstance(data, Mapping):
            return None
        total, ctx, arch = data.get("total"), data.get("context_length"), data.get("architecture")
        template = data.get("chat_template")
        return cls(
            total if isinstance(total, int) and not isinstance(total, bool) else None,
            arch if isinstance(arch, str) else None,
            ctx if isinstance(ctx, int) and not isinstance(ctx, bool) else None,
            isinstance(template, str) and bool(template.strip()),
        )


@dataclass(frozen=True)
class RepoSummary:
    repo_id: str
    downloads: int
    likes: int
    updated: datetime | None
    gated: bool
    private: bool = False
    tags: tuple[str, ...] = ()
    pipeline_tag: str | None = None
    gguf: HubGGUFInfo | None = None

    @property
    def author(self) -> str:
        return self.repo_id.split("/", 1)[0] if "/" in self.repo_id else ""

    @property
    def license(self) -> str | None:
        return _license(self.tags)


@dataclass(frozen=True)
class SearchPage:
    results: list[RepoSummary]
    next: str | None  # opaque cursor: pass it back as ``search(cursor=…)`` for the following page


@dataclass(frozen=True)
class RepoFiles:
    repo_id: str
    revision: str
    commit: str | None  # the commit the listing describes: pin downloads to it
    gated: bool
    private: bool
    license: str | None
    gguf: HubGGUFInfo | None
    files: tuple[ModelFile, ...]
    source: Literal["api", "tree"] = "api"  # "tree": the repository API did not answer (hub_fallback.py)


def _license(tags: Iterable[str]) -> str | None:
    return next((t.split(":", 1)[1] for t in tags if t.startswith("license:")), None)
