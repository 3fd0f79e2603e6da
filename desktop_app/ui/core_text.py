"""The core's words and sentences that the interface can translate because they come with a stable key.

The core speaks English and has no Qt (it serves the command line and its ``--json`` too). Most of its
sentences carry details (a path, an exception, a server's answer) and reach the user as they are. Those
listed here are fixed words behind a key (a stop reason, a fit verdict, a model's status), fixed tables
(the built-in presets, the curated models' reasons) or sentences the UI can say again from the fields
they were made of (the GPU summary, the offline and gated hub sentences). Each function gives exactly
the core's English when no translator is installed (tests/ui/test_translations.py checks it against the
core), and the translation when one is.
"""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from desktop_app.core.engine.cpu_quirks import EXTRA_BUFFERS_ENV, ExtraBuffers
from desktop_app.core.engine.gpu import BackendInfo, LoadReport, format_gib
from desktop_app.core.models.hub import Hub
from desktop_app.core.store.presets import BUILTIN_PRESETS

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls

# QT_TRANSLATE_NOOP returns its message; the casts say so where PySide6's stub says ``object``.

# How a reply stopped, by ``GenerationResult.stop_reason`` (words as the status bar shows them).
STOP_REASONS = cast(
    dict[str, str],
    {
        "eog": QT_TRANSLATE_NOOP("CoreText", "eog"),
        "max_tokens": QT_TRANSLATE_NOOP("CoreText", "max tokens"),
        "stop_string": QT_TRANSLATE_NOOP("CoreText", "stop string"),
        "cancelled": QT_TRANSLATE_NOOP("CoreText", "cancelled"),
        "context_full": QT_TRANSLATE_NOOP("CoreText", "context full"),
        "engine_crashed": QT_TRANSLATE_NOOP("CoreText", "the engine crashed"),
        "server_failed": QT_TRANSLATE_NOOP("CoreText", "the server stopped answering"),
    },
)

# Why a model on a server cannot give something (``ServerInfo.missing``'s sentences, as the core words them).
SERVER_LIMITS = cast(
    dict[str, str],
    {
        "this server names tokens by their text, not their ids: it needs llama-server's native API": (
            QT_TRANSLATE_NOOP(
                "CoreText",
                "this server names tokens by their text, not their ids: it needs llama-server's native API",
            )
        ),
        "this server does not show its chat template: the chat is formatted on the server": QT_TRANSLATE_NOOP(
            "CoreText", "this server does not show its chat template: the chat is formatted on the server"
        ),
    },
)

# A fit estimate's verdict (``FitEstimate.verdict``).
VERDICTS = cast(
    dict[str, str],
    {
        "fits": QT_TRANSLATE_NOOP("CoreText", "fits"),
        "tight": QT_TRANSLATE_NOOP("CoreText", "tight"),
        "won't fit": QT_TRANSLATE_NOOP("CoreText", "won't fit"),
        "unknown": QT_TRANSLATE_NOOP("CoreText", "unknown"),
    },
)

# A library entry's status and where it came from (``ModelEntry.status``, ``ModelEntry.source``).
MODEL_STATUS = cast(
    dict[str, str],
    {
        "ok": QT_TRANSLATE_NOOP("CoreText", "ok"),
        "missing": QT_TRANSLATE_NOOP("CoreText", "missing"),
        "invalid": QT_TRANSLATE_NOOP("CoreText", "invalid"),
    },
)
MODEL_SOURCE = cast(
    dict[str, str],
    {
        "bundled": QT_TRANSLATE_NOOP("CoreText", "bundled"),
        "downloaded": QT_TRANSLATE_NOOP("CoreText", "downloaded"),
        "imported": QT_TRANSLATE_NOOP("CoreText", "imported"),
        "referenced": QT_TRANSLATE_NOOP("CoreText", "referenced"),
        "file": QT_TRANSLATE_NOOP("CoreText", "file"),
    },
)

# The built-in presets' names (``BUILTIN_PRESETS``): their English name stays the preset's key.
PRESET_NAMES = (
    QT_TRANSLATE_NOOP("Presets", "llama.cpp defaults"),
    QT_TRANSLATE_NOOP("Presets", "Greedy (temperature 0)"),
    QT_TRANSLATE_NOOP("Presets", "Model's own distribution (temperature 1, no filters)"),
    QT_TRANSLATE_NOOP("Presets", "Creative"),
)

# Why each curated model is recommended (``CuratedModel.reason``).
CURATED_REASONS = (
    QT_TRANSLATE_NOOP("Curated", "The smallest thinking model: it thinks out loud before it answers."),
    QT_TRANSLATE_NOOP(
        "Curated",
        "DeepSeek-R1's reasoning taught to a small Qwen: it thinks before answering, often at length.",
    ),
    QT_TRANSLATE_NOOP(
        "Curated",
        "Thinks before answering, and answers better than the 0.6B; /no_think in a message skips it.",
    ),
    QT_TRANSLATE_NOOP(
        "Curated", "Tiny and fast on any laptop; English only, good for showing distributions step by step."
    ),
    QT_TRANSLATE_NOOP(
        "Curated", "Smallest multilingual chat model that follows instructions; a 151k-token vocabulary."
    ),
    QT_TRANSLATE_NOOP(
        "Curated",
        "Google's small chat model: a 262k vocabulary and sliding-window attention (5 local : 1 global).",
    ),
    QT_TRANSLATE_NOOP("Curated", "Meta's smallest Llama: the chat template most tutorials show."),
    QT_TRANSLATE_NOOP(
        "Curated", "The bundled model's big sibling: same tokenizer and template, much better answers."
    ),
    QT_TRANSLATE_NOOP("Curated", "Good answers for its size in many languages, still quick on a CPU."),
    QT_TRANSLATE_NOOP("Curated", "A capable assistant for 8 GB machines; clear contrast with the 1B."),
    QT_TRANSLATE_NOOP(
        "Curated", "Strong reasoning for a small model; long 128k context, no grouped-query attention."
    ),
)

# Why llama.cpp's extra buffer types are on or off (``ExtraBuffers.key``; cpu_quirks.SENTENCES).
EXTRA_BUFFERS = cast(
    dict[str, str],
    {
        "amx": QT_TRANSLATE_NOOP(
            "CoreText",
            "extra buffer types off: this CPU has Intel AMX, whose weight repacking crashes llama.cpp on "
            "batches of 2 or more tokens (llama.cpp #20824)",
        ),
        "no_amx": QT_TRANSLATE_NOOP(
            "CoreText",
            "extra buffer types on: this CPU has no Intel AMX, so llama.cpp may repack weights for speed",
        ),
        "setting_on": QT_TRANSLATE_NOOP(
            "CoreText", "extra buffer types on: chosen by the extra-buffers setting (on)"
        ),
        "setting_off": QT_TRANSLATE_NOOP(
            "CoreText", "extra buffer types off: chosen by the extra-buffers setting (off)"
        ),
        "setting_on_amx": QT_TRANSLATE_NOOP(
            "CoreText",
            "extra buffer types on: chosen by the extra-buffers setting (on), although this CPU has Intel "
            "AMX, which crashes llama.cpp on batches (llama.cpp #20824); set it to auto if it does",
        ),
        "env_on": QT_TRANSLATE_NOOP(
            "CoreText", "extra buffer types on: forced by TOKENDICE_EXTRA_BUFFERS=on"
        ),
        "env_off": QT_TRANSLATE_NOOP(
            "CoreText", "extra buffer types off: forced by TOKENDICE_EXTRA_BUFFERS=off"
        ),
        "env_on_amx": QT_TRANSLATE_NOOP(
            "CoreText",
            "extra buffer types on: forced by TOKENDICE_EXTRA_BUFFERS=on, although this CPU has Intel AMX, "
            "which crashes llama.cpp on batches (llama.cpp #20824); unset it if it does",
        ),
    },
)

_NON_GPU_REGISTRIES = {"CPU", "BLAS", "RPC", "AMX"}  # as in core.engine.gpu: registries that are no GPU


def _keyed(table: dict[str, str], key: str | None, fallback: str | None = None) -> str:
    if key in table:
        return translate("CoreText", table[key])
    return fallback if fallback is not None else str(key)


def stop_reason(reason: str) -> str:
    """``"max_tokens"`` → "max tokens" (or its translation)."""
    return _keyed(STOP_REASONS, reason, reason.replace("_", " "))


def server_limit(sentence: str) -> str:
    """Why a server cannot give something, in the interface's language (a sentence the table does not
    know is shown as the core wrote it)."""
    return _keyed(SERVER_LIMITS, sentence, sentence)


def keys_place(keyring: str | None, path: str) -> str:
    """Where API keys are kept: the system keyring ``keyring`` (its name), else the file at ``path``."""
    if keyring:
        return translate("CoreText", "the system keyring ({name})").format(name=keyring)
    return translate("CoreText", "{path}, readable only by you").format(path=path)


def verdict(key: str) -> str:
    """A fit verdict ("fits", "tight", "won't fit", "unknown") in the interface's language."""
    return _keyed(VERDICTS, key)


def model_status(status: str) -> str:
    return _keyed(MODEL_STATUS, status)


def model_source(source: str) -> str:
    return _keyed(MODEL_SOURCE, source)


def preset_name(name: str) -> str:
    """A built-in preset's name in the interface's language; any other name as it is."""
    if any(name == builtin for builtin, _settings in BUILTIN_PRESETS):
        return translate("Presets", name)
    return name


def curated_reason(reason: str) -> str:
    """Why a curated model is recommended, translated when it is one of :data:`CURATED_REASONS`."""
    return translate("Curated", reason) if reason in CURATED_REASONS else reason


def backends_summary(b: BackendInfo) -> str:
    """``BackendInfo.summary()`` in the interface's language (llama.cpp's own notes stay as they are)."""
    if not b.device_api:
        if b.gpu_offload_supported:
            names = ", ".join(n for n in b.backend_names if n != "CPU") or "GPU"
            text = translate("CoreText", "{names} offload supported; devices unknown ({note})")
            return text.format(names=names, note=b.note)
        return translate("CoreText", "no GPU backend in this build (CPU only; {note})").format(note=b.note)
    if not b.has_gpu:
        gpu_regs = _gpu_registries(b)
        if gpu_regs:
            text = translate(
                "CoreText", "no GPU found: this build has {names} but lists no GPU device (CPU only)"
            )
            return text.format(names=gpu_regs)
        return translate("CoreText", "no GPU backend in this build (CPU only)")
    parts = []
    for d in b.gpu_devices:
        text = f"{d.backend}: {d.description or d.name}"
        if d.total_bytes > 0:
            free = translate("CoreText", "({free} free of {total})")
            text += " " + free.format(free=format_gib(d.free_bytes), total=format_gib(d.total_bytes))
        parts.append(text)
    return "; ".join(parts)


def _gpu_registries(b: BackendInfo) -> str:
    return ", ".join(r for r in b.registries if r not in _NON_GPU_REGISTRIES)


def load_summary(r: LoadReport) -> str:
    """``LoadReport.summary()`` (where the model's layers went) in the interface's language."""
    b = r.backends
    if not b.has_gpu:
        if b.device_api and _gpu_registries(b):
            text = translate(
                "CoreText", "CPU only: no GPU found: this build has {names} but lists no GPU device"
            )
            return text.format(names=_gpu_registries(b))
        return translate("CoreText", "CPU only: no GPU backend in this build")
    o, asked = r.offload, r.requested_gpu_layers
    if o is None:
        text = translate(
            "CoreText", "llama.cpp did not say how many layers it offloaded (GPU layers: {asked})"
        )
        return text.format(asked=asked)
    if o.offloaded_layers == 0:
        text = translate("CoreText", "CPU only: 0/{total} layers offloaded (GPU layers: {asked})")
        return text.format(total=o.total_layers, asked=asked)
    best = b.best_gpu
    where = ", ".join(o.devices) or (best.name if best else "GPU")
    text = translate("CoreText", "offloaded {n}/{total} layers to {where}")
    return text.format(n=o.offloaded_layers, total=o.total_layers, where=where)


def extra_buffers_reason(d: ExtraBuffers) -> str:
    """``ExtraBuffers.reason()``: whether the weights went into extra buffer types, and why."""
    text = _keyed(EXTRA_BUFFERS, d.key)
    if d.bad_env:
        bad = translate(
            "CoreText",
            "{env}={value} is not auto, on or off, so it is ignored and the CPU decides (set it to auto, on "
            "or off)",
        )
        text = bad.format(env=EXTRA_BUFFERS_ENV, value=repr(d.bad_env)) + translate("CoreText", "; ") + text
    return text


def offline_sentence() -> str:
    """The hub's offline sentence (a ``HubError`` of kind "offline")."""
    return translate(
        "CoreText",
        "The app is offline (HF_HUB_OFFLINE is set), so it cannot reach the Hugging Face Hub; your library "
        "and downloaded models still work. Unset HF_HUB_OFFLINE to search and download models.",
    )


def gated_sentence(hub: Hub, repo_id: str) -> str:
    """``Hub.gated_sentence``: what to do about a gated repository."""
    if "/" in repo_id:
        text = translate(
            "CoreText",
            "{repo} is a gated model: accept the licence on its page ({url}), then log in with "
            "`hf auth login` or set HF_TOKEN.",
        )
        return text.format(repo=repo_id, url=hub.model_url(repo_id))
    return translate(
        "CoreText",
        "This model is a gated model: accept the licence on its page, then log in with `hf auth login` "
        "or set HF_TOKEN.",
    )


def hub_error(kind: str, sentence: str) -> str:
    """A ``HubError``'s sentence: translated for the kinds without details (offline), else as it is."""
    return offline_sentence() if kind == "offline" else sentence
