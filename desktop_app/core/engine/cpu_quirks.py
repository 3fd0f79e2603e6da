"""CPU quirks that change how llama.cpp must load a model: whether to use its "extra buffer types".

llama.cpp can load weights into *extra buffer types*: CPU-specific layouts it repacks the weights into
(``CPU_REPACK`` for AVX2/NEON, ``AMX`` for Intel's Advanced Matrix Extensions). On CPUs with Intel AMX
(Sapphire Rapids and newer Xeons), the AMX repacking crashes the process on any batch of 2 or more
tokens (llama.cpp issue #20824), so there the model is loaded with ``use_extra_bufts = false``.

:func:`decide_extra_buffers` is pure: it reads llama.cpp's system-info text (``... | AMX_INT8 = 1 | ...``),
the setting (``auto`` / ``on`` / ``off``) and the environment variable :data:`EXTRA_BUFFERS_ENV`, which
overrides the setting (and the command line's ``--extra-buffers``). The decision says what was chosen
and, as one sentence, why; every sentence has a stable key so the interface can translate it
(``desktop_app/ui/core_text.py``). :mod:`llama_loader` applies it to a load.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from desktop_app.core.store.settings import EXTRA_BUFFER_CHOICES, validate_extra_buffers

EXTRA_BUFFERS_ENV = "TOKENDICE_EXTRA_BUFFERS"

# llama.cpp's system info names each CPU feature "NAME = 0|1"; AMX shows as AMX_INT8 (or AMX_BF16 …).
_AMX = re.compile(r"(?:^|[|\s])AMX\w*\s*=\s*1\b")

#: Why the extra buffer types are on or off, by :attr:`ExtraBuffers.key` (the core's English).
SENTENCES = {
    "amx": "extra buffer types off: this CPU has Intel AMX, whose weight repacking crashes llama.cpp on "
    "batches of 2 or more tokens (llama.cpp #20824)",
    "no_amx": "extra buffer types on: this CPU has no Intel AMX, so llama.cpp may repack weights for speed",
    "setting_on": "extra buffer types on: chosen by the extra-buffers setting (on)",
    "setting_off": "extra buffer types off: chosen by the extra-buffers setting (off)",
    "setting_on_amx": "extra buffer types on: chosen by the extra-buffers setting (on), although this CPU "
    "has Intel AMX, which crashes llama.cpp on batches (llama.cpp #20824); set it to auto if it does",
    "env_on": "extra buffer types on: forced by TOKENDICE_EXTRA_BUFFERS=on",
    "env_off": "extra buffer types off: forced by TOKENDICE_EXTRA_BUFFERS=off",
    "env_on_amx": "extra buffer types on: forced by TOKENDICE_EXTRA_BUFFERS=on, although this CPU has "
    "Intel AMX, which crashes llama.cpp on batches (llama.cpp #20824); unset it if it does",
}
#: Put before the sentence when the environment variable held something else than a choice.
BAD_ENV = (
    "{env}={value} is not auto, on or off, so it is ignored and the CPU decides (set it to auto, on or off)"
)


@dataclass(frozen=True)
class ExtraBuffers:
    """Whether llama.cpp loads weights with its extra buffer types, and why (picklable, plain data)."""

    enabled: bool
    #: "auto" (from the CPU), "setting" (the setting or --extra-buffers) or "env" (the variable).
    source: str
    amx: bool  # the system info names Intel AMX
    #: The environment variable's value when it was not a choice and so was ignored ("" otherwise).
    bad_env: str = ""

    @property
    def key(self) -> str:
        """The key of :data:`SENTENCES` that says why."""
        if self.source == "auto":
            return "amx" if self.amx else "no_amx"
        state = "on" if self.enabled else "off"
        return f"{self.source}_{state}" + ("_amx" if self.enabled and self.amx else "")

    @property
    def choice(self) -> str:
        """The choice as a word: on or off."""
        return "on" if self.enabled else "off"

    def reason(self) -> str:
        """One sentence: what was chosen and why."""
        text = SENTENCES[self.key]
        if self.bad_env:
            text = BAD_ENV.format(env=EXTRA_BUFFERS_ENV, value=repr(self.bad_env)) + "; " + text
        return text

    def as_dict(self) -> dict[str, object]:
        """For ``--json``: llama.cpp's field, where the choice came from, the CPU's AMX, the sentence."""
        reason = self.reason()
        return {"use_extra_bufts": self.enabled, "source": self.source, "amx": self.amx, "reason": reason}


def has_amx(system_info: str) -> bool:
    """Whether llama.cpp's system-info text names an Intel AMX feature as present (``AMX_INT8 = 1``)."""
    return bool(_AMX.search(system_info))


def decide_extra_buffers(
    system_info: str, setting: str = "auto", environ: Mapping[str, str] | None = None
) -> ExtraBuffers:
    """Load with extra buffer types on or off? The environment variable wins over the setting; "auto"
    (and a bad variable) turns them off exactly when the CPU has Intel AMX."""
    validate_extra_buffers(setting)
    amx = has_amx(system_info)
    raw = (environ or {}).get(EXTRA_BUFFERS_ENV)
    if raw is not None and not raw.strip():  # set but empty: as if unset
        raw = None
    value = raw.strip().lower() if raw is not None else ""
    if raw is not None and value not in EXTRA_BUFFER_CHOICES:
        return ExtraBuffers(not amx, "auto", amx, bad_env=raw)
    if value in ("on", "off"):
        return ExtraBuffers(value == "on", "env", amx)
    if raw is None and setting in ("on", "off"):
        return ExtraBuffers(setting == "on", "setting", amx)
    return ExtraBuffers(not amx, "auto", amx)
