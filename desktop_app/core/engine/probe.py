"""Can this llama.cpp load a model? A vocabulary-only load answers in milliseconds, weights untouched."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from desktop_app.core.engine import llama_log

_REASON = re.compile(r"error loading model: (.*)")


def load_problem(path: str | Path) -> str | None:
    """None if llama.cpp can load the model's vocabulary and architecture; else the reason, as a sentence.

    llama.cpp refuses an unknown architecture (or a broken vocabulary) at this stage already, so the
    library can mark such a file before anyone tries to load it for real.
    """
    import llama_cpp

    log = llama_log.LlamaLog(max_lines=2000)
    llama_log.install_log_callback(log)
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            model = llama_cpp.Llama(str(path), vocab_only=True, verbose=True)
        model.close()
        return None
    except (ValueError, RuntimeError, OSError) as exc:
        reasons = [m.group(1).strip() for line in log.lines() if (m := _REASON.search(line))]
        detail = reasons[-1] if reasons else str(exc)
        if detail.startswith("unknown model architecture"):
            return f"this version of llama.cpp cannot run it ({detail}); a newer TokenDice may"
        return f"llama.cpp cannot load it ({detail})"
    finally:
        llama_log.restore_default_log_callback()
