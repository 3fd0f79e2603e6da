"""The one way TokenDice loads a model's weights into llama.cpp: ``llama_cpp.Llama`` with the extra
buffer types on or off (see :mod:`cpu_quirks`: on Intel AMX CPUs they crash llama.cpp on batches).

llama-cpp-python 0.3.36's ``Llama(...)`` has no argument for ``llama_model_params.use_extra_bufts``; its
``__init__`` starts from ``llama_cpp.llama_cpp.llama_model_default_params()`` and passes that struct to
``llama_model_load_from_file``. :func:`load_llama` wraps that function for the duration of the call, for
the loading thread only, and checks afterwards that the struct the model was loaded with
(``Llama.model_params``) holds the value asked for. Vocabulary-only loads evaluate nothing and need none
of this.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from desktop_app.core.engine.cpu_quirks import ExtraBuffers, decide_extra_buffers

# Serialises the loads that swap the bindings' default-params function (two overlapping swaps could
# leave one installed). A lock, not state: nothing is kept in it between loads.
_SWAP_LOCK = threading.Lock()


class ExtraBuffersNotApplied(RuntimeError):
    """The installed llama-cpp-python did not pass ``use_extra_bufts`` to llama.cpp."""


def decide_here(setting: str = "auto", environ: Mapping[str, str] | None = None) -> ExtraBuffers:
    """:func:`decide_extra_buffers` for this machine: llama.cpp's system info and this process's
    environment (``environ`` for tests)."""
    import llama_cpp

    from desktop_app.core.engine.llama_log import _text

    llama_cpp.llama_backend_init()  # idempotent
    info = _text(llama_cpp.llama_print_system_info())
    return decide_extra_buffers(info, setting, os.environ if environ is None else environ)


def load_llama(model_path: str | Path, *, extra_buffers: bool, **kwargs: Any):
    """``llama_cpp.Llama(model_path, **kwargs)`` with llama.cpp's extra buffer types on or off.

    Raises what ``Llama`` raises (ValueError for a missing file, RuntimeError/OSError from llama.cpp),
    and :class:`ExtraBuffersNotApplied` if this llama-cpp-python ignored the choice.
    """
    import llama_cpp
    import llama_cpp.llama_cpp as bindings

    if "use_extra_bufts" not in {name for name, *_ in bindings.llama_model_params._fields_}:
        raise ExtraBuffersNotApplied(
            f"llama-cpp-python {llama_cpp.__version__} cannot switch llama.cpp's extra buffer types; "
            "install the version TokenDice requires (pip install -e .)"
        )
    owner = threading.get_ident()
    with _SWAP_LOCK:
        original = bindings.llama_model_default_params

        def default_params():
            params = original()
            if threading.get_ident() == owner:
                params.use_extra_bufts = extra_buffers
            return params

        bindings.llama_model_default_params = default_params
        try:
            llm = llama_cpp.Llama(model_path=str(model_path), **kwargs)
        finally:
            bindings.llama_model_default_params = original
    applied = getattr(getattr(llm, "model_params", None), "use_extra_bufts", None)
    if applied is None or bool(applied) != extra_buffers:
        llm.close()
        raise ExtraBuffersNotApplied(
            f"llama-cpp-python {llama_cpp.__version__} did not pass use_extra_bufts={extra_buffers} to "
            "llama.cpp; install the version TokenDice requires (pip install -e .)"
        )
    return llm


def load_llama_safely(model_path: str | Path, *, setting: str = "auto", **kwargs: Any):
    """Load as :func:`load_llama` with the extra buffer types this machine needs (the setting and
    ``TOKENDICE_EXTRA_BUFFERS`` considered; :func:`decide_here` says which and why): for benchmarks,
    tests and scripts that use ``Llama`` directly."""
    return load_llama(model_path, extra_buffers=decide_here(setting).enabled, **kwargs)
