"""The Jinja environment a chat template runs in, and the :class:`TemplateError` its failures become.

The environment is llama-cpp-python 0.3.36's (``Jinja2ChatFormatter``): an
``ImmutableSandboxedEnvironment`` (here template_sandbox.py's, which also bounds sizes and time) with
``trim_blocks`` and ``lstrip_blocks``, the ``loopcontrols`` extension, a pass-through
``{% generation %}`` tag and Transformers' ``tojson``. jinja2 is imported at the first template, not
when the window starts (60 ms).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from desktop_app.core.engine.template_bounds import RenderLimitExceeded


class TemplateError(Exception):
    """A chat template that cannot be compiled or rendered, as a sentence a user can act on.

    ``detail`` is Jinja's (or the template's own ``raise_exception``) message; ``lineno`` the template line
    when Jinja knows it. ``str(error)`` reads "Chat template error on line 3: ...".
    """

    def __init__(self, detail: str, lineno: int | None = None) -> None:
        self.detail = detail
        self.lineno = lineno
        where = f" on line {lineno}" if lineno is not None else ""
        super().__init__(f"Chat template error{where}: {detail}")


def compile_template(source_text: str) -> tuple[Any, Any]:
    """A new environment and ``source_text`` compiled in it; a template that cannot be compiled raises
    :class:`TemplateError` naming the line."""
    jinja2, sandboxed, ignore_generation_tags = _jinja()
    environment = sandboxed(
        loader=jinja2.BaseLoader(),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[ignore_generation_tags, jinja2.ext.loopcontrols],
    )
    environment.set_filter("tojson", _tojson)
    try:
        return environment, environment.from_string(source_text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(_sentence(exc.message or "the template cannot be parsed"), exc.lineno) from exc
    except jinja2.TemplateError as exc:  # pragma: no cover - other compile-time errors are rare
        raise TemplateError(_sentence(str(exc)), template_lineno(exc)) from exc


def render_error(exc: Exception) -> TemplateError:
    """The :class:`TemplateError` for what a render raised: the template's own ``raise_exception``, a
    render limit (too slow, or too large), Jinja's errors (undefined values, sandbox refusals) or a
    Python error raised by an expression inside the template."""
    lineno = template_lineno(exc)
    if isinstance(exc, TemplateError | RenderLimitExceeded):
        return TemplateError(exc.detail, lineno)
    if isinstance(exc, _jinja()[0].TemplateError):
        detail = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    else:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return TemplateError(_sentence(detail), lineno)


def raise_exception(message: str) -> None:
    """The ``raise_exception`` a template may call."""
    raise TemplateError(str(message))


def template_lineno(exc: BaseException) -> int | None:
    """The innermost template line in a traceback Jinja has rewritten, if any."""
    lineno = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return lineno


@functools.cache
def _jinja() -> tuple[Any, type, type]:
    """jinja2, its sandboxed environment (with bounded sizes) and the ``{% generation %}`` extension."""
    import jinja2
    import jinja2.ext
    import jinja2.parser

    from desktop_app.core.engine.template_sandbox import BoundedSandbox

    class IgnoreGenerationTags(jinja2.ext.Extension):
        """Pass-through for Hugging Face's ``{% generation %}`` tag (as llama-cpp-python does)."""

        tags = {"generation"}  # noqa: RUF012 - a set, as jinja2 declares it (an instance attribute there)

        def parse(self, parser: jinja2.parser.Parser) -> Any:
            parser.stream.skip(1)
            return parser.parse_statements(("name:endgeneration",), drop_needle=True)

    return jinja2, BoundedSandbox, IgnoreGenerationTags


def _tojson(
    x: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    """Transformers' (and llama-cpp-python's) ``tojson``: no HTML escaping, non-ASCII kept."""
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _sentence(detail: str) -> str:
    detail = " ".join(str(detail).split())
    return detail if detail.endswith((".", "!", "?")) else detail + "."
