"""``tokendice models search | curated | files | download``: the Hugging Face Hub from the command line.

Parsing and printing only; the work is in desktop_app.core.models (hub, fit, acquire). The progress of a
download (download.py) goes to standard error, the result to standard output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from desktop_app.cli.args import context_size
from desktop_app.cli.io import print_json
from desktop_app.core.units import parse_parameters

HUB_ACTIONS = ("search", "curated", "files", "download")
SORTS = ("downloads", "likes", "modified", "trending")
DEFAULT_CTX = 4096
EXIT_CANCELLED = 130
TREE_NOTE = (
    "{endpoint} did not answer its repository API, so these files come from its file listing: "
    "no licence, gated flag, commit or parameter count (the estimates use the file sizes)."
)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def _limit(text: str) -> int:
    value = _positive(text)
    if value > 100:
        raise argparse.ArgumentTypeError("the hub sends at most 100 results at a time")
    return value


def register_hub(msub: Any, add_json: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the hub commands to the ``models`` group's subparsers."""
    search = msub.add_parser("search", help="search the Hugging Face Hub for GGUF models")
    search.add_argument("query", nargs="?", default="", help="words in the repository name")
    search.add_argument("--sort", choices=SORTS, default="downloads", help="order (default: downloads)")
    search.add_argument(
        "--limit", type=_limit, default=20, help="how many repositories (default 20, at most 100)"
    )
    add_json(search)
    curated = msub.add_parser("curated", help="small models picked for teaching, and whether they fit here")
    curated.add_argument(
        "--ctx", type=context_size, default=DEFAULT_CTX, help="context length for the fit estimate"
    )
    add_json(curated)
    files = msub.add_parser("files", help="a repository's GGUF files, with sizes and a fit estimate")
    files.add_argument("repo", help="owner/name, e.g. HuggingFaceTB/SmolLM2-135M-Instruct-GGUF")
    files.add_argument("--ctx", type=context_size, default=DEFAULT_CTX, help="context length (default 4096)")
    files.add_argument("--revision", default="main", help="branch, tag or commit (default main)")
    add_json(files)
    dl = msub.add_parser("download", help="download a model from the hub into the library (resumable)")
    dl.add_argument("repo", help="owner/name")
    dl.add_argument(
        "file", help="the GGUF file (for a split model, its first part), as `models files` shows it"
    )
    dl.add_argument("--revision", default="main", help="branch, tag or commit (default main)")
    add_json(dl)


def cmd_hub(args: argparse.Namespace) -> int:
    from desktop_app.cli.download import cmd_download
    from desktop_app.cli.errors import CliError
    from desktop_app.core.models.acquire import AcquireError
    from desktop_app.core.models.download import DownloadError
    from desktop_app.core.models.hub import HubError

    handlers = {"search": _search, "curated": _curated, "files": _files, "download": cmd_download}
    try:
        return handlers[args.models_command](args)
    except (AcquireError, HubError, DownloadError) as exc:
        if getattr(exc, "kind", None) == "cancelled":
            print(f"tokendice: error: {exc}", file=sys.stderr)
            return EXIT_CANCELLED
        raise CliError(str(exc)) from exc


# --- search ------------------------------------------------------------------------------------------
def compact(n: int) -> str:
    """12, 3.4k, 56k, 1.2M: counts as the hub's pages show them."""
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale * 0.9995:
            value = n / scale
            return f"{value:.1f}{unit}" if value < 9.95 else f"{value:.0f}{unit}"
    return str(n)


def _search(args: argparse.Namespace) -> int:
    from desktop_app.core.models.hub import Hub

    hub = Hub()
    page = hub.search(args.query, sort=args.sort, limit=args.limit)
    if args.json:
        print_json(
            {
                "endpoint": hub.endpoint,
                "query": args.query,
                "sort": args.sort,
                "results": [
                    {
                        "repo_id": r.repo_id,
                        "author": r.author,
                        "downloads": r.downloads,
                        "likes": r.likes,
                        "updated": r.updated.isoformat() if r.updated else None,
                        "gated": r.gated,
                        "private": r.private,
                        "license": r.license,
                        "parameters": r.gguf.parameters if r.gguf else None,
                        "architecture": r.gguf.architecture if r.gguf else None,
                        "url": hub.model_url(r.repo_id),
                    }
                    for r in page.results
                ],
            }
        )
        return 0
    curated_hint = "`tokendice models curated` lists small models picked for teaching that work well here."
    if not page.results:
        words = f"match “{args.query}”" if args.query.strip() else "were found"
        print(f"No GGUF repositories {words} on {hub.endpoint}. Try other words; {curated_hint}")
        return 0
    width = max(len("REPOSITORY"), *(len(r.repo_id) for r in page.results))
    print(f"{'REPOSITORY':<{width}}  {'DOWNLOADS':>9}  {'LIKES':>6}  UPDATED     ACCESS")
    for r in page.results:
        updated = r.updated.date().isoformat() if r.updated else "-"
        access = "gated" if r.gated else ("private" if r.private else "open")
        print(
            f"{r.repo_id:<{width}}  {compact(r.downloads):>9}  {compact(r.likes):>6}  {updated:<10}  {access}"
        )
    print(
        "\nSee a repository's files with `tokendice models files REPO`"
        + (f"; {curated_hint}" if not args.query.strip() else ".")
    )
    return 0


# --- fit ---------------------------------------------------------------------------------------------
def fit_dict(fit: Any) -> dict[str, Any]:
    req = fit.requirements
    return {
        "verdict": fit.verdict,
        "sentence": fit.sentence,
        "needs_bytes": fit.total_bytes,
        "weights_bytes": req.weights_bytes,
        "kv_cache_bytes": req.kv_bytes,
        "compute_bytes": req.compute_bytes,
        "basis": req.basis,
        "gpu_layers": fit.gpu_layers,
        "gpu_bytes": fit.gpu_bytes,
        "cpu_bytes": fit.cpu_bytes,
    }


def memory_dict(memory: Any) -> dict[str, Any]:
    return {
        "ram_available_bytes": memory.ram_available,
        "ram_total_bytes": memory.ram_total,
        "vram_free_bytes": memory.vram_free,
        "gpu": memory.gpu_name or None,
        "unified": memory.unified,
    }


def fit_cell(fit: Any) -> str:
    """``fits: 0.2 GB of 12.3 GB free``: the verdict and the numbers, short enough for a table."""
    from desktop_app.core.engine.fit import format_bytes

    need = format_bytes(fit.total_bytes)
    if fit.verdict == "unknown":
        return f"unknown: needs {need}, free memory not measurable"
    if fit.gpu_layers:
        return f"{fit.verdict}: {need}, {fit.gpu_layers - 1} of {fit.requirements.n_layers} layers on the GPU"
    free = format_bytes(fit.memory.ram_available or 0)
    return f"{fit.verdict}: needs {need} of {free} free"


def _library_index() -> dict[tuple[str, str], str]:
    """(repo_id, filename) → library id of the models already in the library."""
    from desktop_app.core.services import Services

    services = Services.open(read_only_if_locked=True)
    try:
        return {(e.repo_id, e.filename): e.id for e in services.library.entries() if e.repo_id and e.filename}
    finally:
        services.close()


def _curated(args: argparse.Namespace) -> int:
    from desktop_app.core.engine.fit import judge, probe_memory, requirements_rough
    from desktop_app.core.models.hub import CURATED, parse_quantization

    memory = probe_memory()
    have = _library_index()
    rows = []
    for c in CURATED:
        req = requirements_rough(
            c.size_bytes,
            args.ctx,
            parameters=parse_parameters(c.parameters),
            quantization=parse_quantization(c.filename),
        )
        rows.append((c, judge(req, memory), have.get((c.repo_id, c.filename))))
    if args.json:
        print_json(
            {
                "n_ctx": args.ctx,
                "memory": memory_dict(memory),
                "models": [
                    {
                        "repo_id": c.repo_id,
                        "filename": c.filename,
                        "size_bytes": c.size_bytes,
                        "parameters": c.parameters,
                        "license": c.licence,
                        "reason": c.reason,
                        "thinks": c.thinks,
                        "fit": fit_dict(fit),
                        "in_library": known,
                    }
                    for c, fit, known in rows
                ],
            }
        )
        return 0
    from desktop_app.core.units import size_text

    print(f"Small models picked for teaching, smallest first; fit for a {args.ctx:,}-token context here:\n")
    for c, fit, known in rows:
        print(f"{c.repo_id}  {c.filename}")
        print(f"    {c.parameters} parameters · {size_text(c.size_bytes)} · {c.licence} · {fit_cell(fit)}")
        print(f"    {c.reason}" + (f" (in the library as {known})" if known else "") + "\n")
    print("Download one with `tokendice models download REPO FILE`.")
    return 0


# --- files -------------------------------------------------------------------------------------------
def _file_note(f: Any) -> str:
    if f.refused is not None:
        return "refused: its name could leave the models folder"
    if f.kind == "mmproj":
        return "vision projector (not a model on its own)"
    if f.kind == "imatrix":
        return "importance matrix (not a model)"
    if not f.complete:
        return f"incomplete: {len(f.parts)} of {f.split_total} parts in the repository"
    return ""


def _parts_note(f: Any) -> str:
    if not f.is_split:
        return ""
    return f" ({f.split_total} parts)" if f.complete else f" ({len(f.parts)} of {f.split_total} parts)"


def _files(args: argparse.Namespace) -> int:
    from desktop_app.core.engine.fit import judge, probe_memory, requirements_rough
    from desktop_app.core.models.hub import Hub
    from desktop_app.core.units import size_text

    hub = Hub()
    listing = hub.repo(args.repo, args.revision)
    memory = probe_memory()
    have = _library_index()
    params = listing.gguf.parameters if listing.gguf else None
    rows = []
    for f in listing.files:
        fit = None
        if f.loadable and f.size is not None:
            req = requirements_rough(f.size, args.ctx, parameters=params, quantization=f.quantization)
            fit = judge(req, memory)
        rows.append((f, fit, have.get((listing.repo_id, f.name))))
    if args.json:
        print_json(_files_json(hub, listing, args.ctx, memory, rows))
        return 0
    facts = [f"commit {listing.commit[:10]}" if listing.commit else None, listing.license]
    if listing.gguf is not None:
        from desktop_app.core.models.gguf_meta import format_params

        g = listing.gguf
        facts += [f"{format_params(g.parameters)} parameters" if g.parameters else None, g.architecture]
        facts.append(f"context {g.context_length:,}" if g.context_length else None)
    if listing.gated:
        facts.append("gated: accept the licence on its page and log in to download")
    print(f"{listing.repo_id} ({', '.join(x for x in facts if x)})")
    if listing.source == "tree":
        print(TREE_NOTE.format(endpoint=hub.endpoint))
    if not rows:
        print("This repository has no GGUF files.")
        return 0
    names = [f.name + _parts_note(f) for f, _, _ in rows]
    width = max(len("FILE"), *(len(n) for n in names))
    print(f"\n{'FILE':<{width}}  {'QUANT':<9}  {'SIZE':>9}  FIT ({args.ctx:,}-token context)")
    for name, (f, fit, known) in zip(names, rows, strict=True):
        size = size_text(f.size) if f.size is not None else "?"
        cell = fit_cell(fit) if fit is not None else _file_note(f) or "size unknown"
        mark = f"  [in library: {known}]" if known else ""
        print(f"{name:<{width}}  {f.quantization or '-':<9}  {size:>9}  {cell}{mark}")
    basis = next((fit.requirements.basis for _, fit, _ in rows if fit is not None), None)
    if basis is not None:
        how = "the hub's parameter count" if basis == "hub" else "the file sizes"
        print(f"\nEstimates from {how}; a downloaded file's header gives exact figures (models info).")
    print(f"Download with `tokendice models download {listing.repo_id} FILE`.")
    return 0


def _files_json(hub: Any, listing: Any, n_ctx: int, memory: Any, rows: Sequence[tuple]) -> dict[str, Any]:
    g = listing.gguf
    return {
        "repo_id": listing.repo_id,
        "revision": listing.revision,
        "commit": listing.commit,
        "gated": listing.gated,
        "private": listing.private,
        "license": listing.license,
        "url": hub.model_url(listing.repo_id),
        "source": listing.source,
        "gguf": None
        if g is None
        else {
            "parameters": g.parameters,
            "architecture": g.architecture,
            "context_length": g.context_length,
            "has_chat_template": g.has_chat_template,
        },
        "n_ctx": n_ctx,
        "memory": memory_dict(memory),
        "files": [
            {
                "name": f.name,
                "kind": f.kind,
                "quantization": f.quantization,
                "size_bytes": f.size,
                "sha256": f.sha256,
                "split_total": f.split_total,
                "parts": [{"path": p.path, "size_bytes": p.size, "sha256": p.sha256} for p in f.parts],
                "complete": f.complete,
                "loadable": f.loadable,
                "refused": f.refused,
                "fit": fit_dict(fit) if fit is not None else None,
                "in_library": known,
            }
            for f, fit, known in rows
        ],
    }
