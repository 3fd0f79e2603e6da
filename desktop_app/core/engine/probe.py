"""The child's side of the loadability check (:mod:`desktop_app.core.models.loadability`): a vocabulary-only
load of one model with llama.cpp, its answer printed as one result line. Run as
``python -m desktop_app.core.engine.probe PATH`` (in a frozen bundle through
``packaging/tokendice_launcher.py``), never in the app's own process: llama.cpp may abort on a damaged
file, and the log callback this swaps is process-wide.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from desktop_app.core.engine import llama_log
from desktop_app.core.engine.llama_path import openable_name
from desktop_app.core.models.loadability import RESULT_PREFIX
from desktop_app.core.native_exit import die_with_parent

_REASON = re.compile(r"error loading model: (.*)")


def vocabulary_problem(path: str | Path) -> str | None:
    """The check itself, in this process: only the child runs it (it swaps llama.cpp's log callback)."""
    import jinja2
    import llama_cpp

    log = llama_log.LlamaLog(max_lines=2000)
    llama_log.install_log_callback(log)
    try:
        with (
            contextlib.redirect_stderr(io.StringIO()),
            contextlib.redirect_stdout(io.StringIO()),
            openable_name(path) as name,  # a file name that is not UTF-8: through a second name
        ):
            model = llama_cpp.Llama(name, vocab_only=True, verbose=True)
        model.close()
        return None
    except jinja2.TemplateError as exc:  # llama-cpp-python compiles the GGUF's chat templates on load
        return template_problem(exc)
    except (ValueError, RuntimeError, OSError) as exc:
        reasons = [m.group(1).strip() for line in log.lines() if (m := _REASON.search(line))]
        detail = reasons[-1] if reasons else str(exc)
        if detail.startswith("unknown model architecture"):
            return f"this version of llama.cpp cannot run it ({detail}); a newer TokenDice may"
        return f"llama.cpp cannot load it ({detail})"
    finally:
        llama_log.restore_default_log_callback()


def template_problem(exc: Exception) -> str:
    """The sentence for a GGUF whose own chat template does not compile: llama-cpp-python compiles every
    template of the file while it loads the model, and refuses the whole model when one fails."""
    message = " ".join(str(getattr(exc, "message", None) or exc).split()) or type(exc).__name__
    lineno = getattr(exc, "lineno", None)
    where = f" on line {lineno}" if isinstance(lineno, int) else ""
    return (
        f"its own chat template (tokenizer.chat_template) has an error{where}: {message}; llama.cpp's "
        "Python bindings refuse to load a model whose template does not compile, so it cannot be used: "
        "get a corrected copy of the file from its publisher"
    )


def main(argv: Sequence[str]) -> int:
    """The child: check one file, print one result line."""
    if len(argv) != 1:
        print("usage: python -m desktop_app.core.engine.probe MODEL.gguf", file=sys.stderr)
        return 2
    die_with_parent()  # a window closed mid-check leaves no check running on its own
    problem = vocabulary_problem(argv[0])
    print(RESULT_PREFIX + json.dumps({"problem": problem}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
