"""The Jinja environment chat templates run in: Jinja's immutable sandbox, with every size bounded.

:class:`BoundedSandbox` is an ``ImmutableSandboxedEnvironment`` (as llama-cpp-python uses) that refuses,
before Python builds it, any text or list longer than :attr:`Limits.max_chars
<desktop_app.core.engine.template_bounds.Limits>` and any integer wider than ``MAX_INT_BITS`` bits:

* operators ``+ * ** %`` (through the sandbox's ``intercepted_binops``) and ``~`` (through the code
  generator: Jinja compiles ``a ~ b`` to a plain join the sandbox never sees);
* calls of ``str`` methods that can grow a text (``center``, ``ljust``, ``zfill``, ``replace``, ``join``,
  ``format``, ``translate``, ...), and the result of every call (macros included);
* filters that can grow a text (``center``, ``indent``, ``format``, ``join``, ``replace``, ``wordwrap``,
  ``tojson``, ``string``, ``pprint``, ``sum``, ``batch``), and the result of every filter;
* every ``{{ value }}`` that is not a text (``str`` of a list that repeats one long text);
* the output itself, counted chunk by chunk by :meth:`BoundedSandbox.render_bounded`.

Time: every loop body and macro body of the compiled template starts with ``environment.tick()``,
which stops the render once the deadline of :class:`Limits` has passed.

``range`` is already capped by the sandbox (``jinja2.sandbox.MAX_RANGE``, 100,000 items). A value may
still reach a bounded multiple of the limit inside one step (a macro whose body prints its argument
many times is checked when it returns), so memory stays bounded by the template's own length.

The limits of the render in progress are per thread (:meth:`BoundedSandbox.bounded`); outside a render,
sizes are checked against the default limits and there is no time bound.
"""

from __future__ import annotations

import functools
import re
import threading
import time
import types
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from typing import Any, cast

from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import CallBlock, Concat, For, Macro, Node
from jinja2.sandbox import ImmutableSandboxedEnvironment

from desktop_app.core.engine.template_bounds import MAX_INT_BITS, MIN_SIZE_LIMIT, Limits, estimate_text

__all__ = ["BoundedSandbox"]

Estimate = Callable[[Limits, Any, tuple, dict], int]

_SEQUENCES = (str, list, tuple)
# A %-directive's width and precision (or "*": taken from the arguments).
_PERCENT_DIRECTIVE = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
# A str.format field, one level of nested fields allowed ("{:{width}}").
_FORMAT_FIELD = re.compile(r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")
_DIGITS = re.compile(r"\d+")
# sum() of lists copies the growing result once per item: refuse more copying than this many times the
# size limit (a second or so).
_SUM_WORK_FACTOR = 16


class _BoundedCodeGenerator(CodeGenerator):
    """Starts every loop body and macro body with ``environment.tick()`` (the clock), and compiles
    ``a ~ b`` to ``environment.bounded_concat((a, b))`` instead of an unchecked join."""

    # Jinja has no loops but {% for %} (recursive ones included) and no recursion but macros and
    # {% call %} blocks: a template that runs without end passes through one of their bodies again and
    # again. The body is the first block compiled after visit_For or macro_body starts.
    _tick_next_block = False

    def visit_For(self, node: For, frame: Frame) -> None:
        self._tick_next_block = True
        super().visit_For(node, frame)

    def macro_body(self, node: Macro | CallBlock, frame: Frame) -> Any:
        self._tick_next_block = True
        return super().macro_body(node, frame)

    def blockvisit(self, nodes: Iterable[Node], frame: Frame) -> None:
        if self._tick_next_block:
            self._tick_next_block = False
            self.writeline("environment.tick()")
        super().blockvisit(nodes, frame)

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile or frame.eval_ctx.autoescape:  # Markup joins: check the result
            self.write("environment.checked_result(")
            super().visit_Concat(node, frame)
            self.write(")")
            return
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with bounded sizes; render with :meth:`render_bounded` inside
    :meth:`bounded` to add the time bound and the limits of one render."""

    intercepted_binops = frozenset({"+", "*", "**", "%"})
    code_generator_class = _BoundedCodeGenerator

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=self._finalize_output, **options)
        self._active = threading.local()
        self._default_limits = Limits()
        self._lipsum = self.globals.get("lipsum")
        for name, func in list(self.filters.items()):
            self.set_filter(name, func)

    # ------------------------------------------------------------------------------------------ limits

    @property
    def limits(self) -> Limits:
        """The limits of the render in progress on this thread (the defaults outside one)."""
        return getattr(self._active, "limits", None) or self._default_limits

    @contextmanager
    def bounded(self, limits: Limits) -> Iterator[None]:
        """Apply ``limits`` to the renders on this thread inside the ``with`` block."""
        previous = getattr(self._active, "limits", None)
        self._active.limits = limits
        try:
            yield
        finally:
            self._active.limits = previous

    def render_bounded(self, template: Any, context: dict[str, Any]) -> str:
        """``template.render(context)``, with the output counted as it comes and the clock running."""
        limits = getattr(self._active, "limits", None) or Limits()
        parts: list[str] = []
        total = 0
        limits.begin_pass()
        chunks = template.generate(context)
        try:
            for chunk in chunks:
                total += len(chunk)
                if total > limits.max_chars:
                    raise limits.too_large("produced")
                parts.append(chunk)
        finally:
            chunks.close()
            limits.end_pass()
        return "".join(parts)

    def set_filter(self, name: str, func: Callable[..., Any]) -> None:
        """Install filter ``name``, checked before (where it can grow a text) and after it runs."""
        self.filters[name] = self._bounded_filter(func, _FILTER_ESTIMATES.get(name), name in _CONSUMES)

    # --------------------------------------------------------------------------- hooks Jinja calls

    def tick(self) -> None:
        """At the start of every loop and macro body: past the deadline, stop the render."""
        limits = getattr(self._active, "limits", None)
        if limits is not None and limits.deadline is not None and time.monotonic() > limits.deadline:
            raise limits.too_slow()

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "+":  # the common case, kept quick: no limit is below MIN_SIZE_LIMIT
            size = _joined_size(left, right)
            if size > MIN_SIZE_LIMIT:
                self.limits.check_size(size)
            return left + right
        limits = self.limits
        if operator == "*":
            seq, times = (right, left) if isinstance(right, _SEQUENCES) else (left, right)
            if isinstance(seq, _SEQUENCES) and isinstance(times, int):
                limits.check_size(len(seq) * times)
            elif _int_bits(operator, left, right) > MAX_INT_BITS:
                raise limits.too_big_number()
        elif operator == "**" and _int_bits(operator, left, right) > MAX_INT_BITS:
            raise limits.too_big_number()
        elif operator == "%" and isinstance(left, str):
            limits.check_size(_percent_size(limits, left, right))
        return self.binop_table[operator](left, right)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        limits = self.limits
        if obj is self._lipsum:
            limits.check_size(_lipsum_size(args, kwargs))
        method = getattr(obj, "__wrapped__", obj)  # the sandbox wraps str.format in a function
        if isinstance(method, types.BuiltinMethodType) and isinstance(method.__self__, str):
            name = method.__name__
            if name == "join" and args and not isinstance(args[0], Sized):
                args = (list(args[0]), *args[1:])
            estimate = _STR_METHOD_ESTIMATES.get(name)
            if estimate is not None:
                limits.check_size(estimate(limits, method.__self__, args, kwargs))
        return self.checked_result(super().call(context, obj, *args, **kwargs))

    def checked_result(self, value: Any) -> Any:
        if isinstance(value, str | list | tuple | dict) and len(value) > MIN_SIZE_LIMIT:
            self.limits.check_size(len(value))
        return value

    def bounded_concat(self, parts: tuple[Any, ...]) -> str:
        limits = self.limits
        limits.check_size(sum(len(p) if isinstance(p, str) else estimate_text(p, limits) for p in parts))
        return "".join([str(p) for p in parts])

    def _finalize_output(self, value: Any) -> Any:
        if not isinstance(value, str):
            limits = self.limits
            limits.check_size(estimate_text(value, limits))
        return value

    def _bounded_filter(
        self, func: Callable[..., Any], estimate: Estimate | None, consumes: bool
    ) -> Callable[..., Any]:
        first = 0 if getattr(func, "jinja_pass_arg", None) is None else 1  # after context/environment

        @functools.wraps(func)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            limits = self.limits
            if len(args) > first:
                if consumes and not isinstance(args[first], Sized):  # a generator: read it once
                    args = (*args[:first], list(args[first]), *args[first + 1 :])
                if estimate is not None:
                    limits.check_size(estimate(limits, args[first], args[first + 1 :], kwargs))
            return self.checked_result(func(*args, **kwargs))

        return bounded


# ------------------------------------------------------------------------------------------ estimates


def _int_bits(operator: str, left: Any, right: Any) -> int:
    """About how many bits ``left * right`` or ``left ** right`` has, for two integers (else 0)."""
    if not (isinstance(left, int) and isinstance(right, int)):
        return 0
    if operator == "*":
        return left.bit_length() + right.bit_length()
    return left.bit_length() * right if right > 0 and abs(left) > 1 else 0


def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _text_size(limits: Limits, value: Any) -> int:
    return len(value) if isinstance(value, str) else estimate_text(value, limits)


def _number(limits: Limits, digits: str) -> int:
    return int(digits) if len(digits) <= 12 else limits.max_chars + 1


def _ints(*values: Any) -> int:
    return sum(abs(v) for v in values if isinstance(v, int))


def _percent_size(limits: Limits, fmt: str, args: Any) -> int:
    """``fmt % args``: its text, the arguments' texts, and every width and precision."""
    total = len(fmt) + _text_size(limits, args)
    star = False
    for match in _PERCENT_DIRECTIVE.finditer(fmt):
        for number in match.groups():
            if number == "*":
                star = True
            elif number:
                total += _number(limits, number)
    if star:
        total += _ints(*(args if isinstance(args, tuple) else (args,)))
    return total


def _format_size(limits: Limits, fmt: str, args: tuple, kwargs: dict) -> int:
    """``fmt.format(*args, **kwargs)``: its text, the arguments' texts, and every width in a field."""
    total = len(fmt) + estimate_text(args, limits) + estimate_text(kwargs, limits)
    nested = False
    for field in _FORMAT_FIELD.findall(fmt):
        spec = field[1:-1].partition(":")[2]
        nested = nested or "{" in spec
        total += sum(_number(limits, d) for d in _DIGITS.findall(spec))
    if nested:
        total += _ints(*args, *kwargs.values())
    return total


def _width(limits: Limits, s: Any, args: tuple, kwargs: dict) -> int:
    width = _arg(args, kwargs, 0, "width", 0)
    return max(_text_size(limits, s), width if isinstance(width, int) else 0)


def _replace_size(limits: Limits, s: Any, old: Any, new: Any, count: Any) -> int:
    if not (isinstance(s, str) and isinstance(old, str) and isinstance(new, str)):
        return _text_size(limits, s) + _text_size(limits, new)
    times = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    return len(s) + times * max(0, len(new) - len(old))


def _join_size(limits: Limits, value: Any, sep: Any) -> int:
    sep_size = len(sep) if isinstance(sep, str) else 0
    count = len(value) if isinstance(value, Sized) else 0
    return _text_size(limits, value) + sep_size * count


def _tojson_size(limits: Limits, value: Any, args: tuple, kwargs: dict) -> int:
    indent = _arg(args, kwargs, 1, "indent", None)
    width = indent if isinstance(indent, int) else len(indent) if isinstance(indent, str) else 0
    size = estimate_text(value, limits, indent=width)
    return size * 6 if _arg(args, kwargs, 0, "ensure_ascii", False) else size  # "\uXXXX"


def _indent_size(limits: Limits, s: Any, args: tuple, kwargs: dict) -> int:
    width = _arg(args, kwargs, 0, "width", 4)
    width = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    lines = s.count("\n") + 1 if isinstance(s, str) else 1
    return _text_size(limits, s) + lines * width


def _joined_size(left: Any, right: Any) -> int:
    """The length of ``left + right`` when both are sequences (0 otherwise)."""
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        return len(left) + len(right)
    return 0


def _wordwrap_size(limits: Limits, s: Any, args: tuple, kwargs: dict) -> int:
    if not isinstance(s, str):
        return _text_size(limits, s)
    width = _arg(args, kwargs, 0, "width", 79)
    wrap = _arg(args, kwargs, 2, "wrapstring", None)
    lines = len(s) // max(width, 1) + s.count("\n") + 1 if isinstance(width, int) else len(s)
    return len(s) + lines * (len(wrap) if isinstance(wrap, str) else 1)


def _sum_size(limits: Limits, items: Any, args: tuple, kwargs: dict) -> int:
    start = _arg(args, kwargs, 1, "start", 0)
    if not isinstance(start, list | tuple) or not isinstance(items, Sized):
        return 0
    # The filter iterates ``items``: what cannot be iterated fails here as it would there.
    total = len(start) + sum(len(x) for x in cast(Iterable[Any], items) if isinstance(x, Sized))
    if len(items) * total > _SUM_WORK_FACTOR * limits.max_chars:
        raise limits.too_large()
    return total


def _batch_size(limits: Limits, value: Any, args: tuple, kwargs: dict) -> int:
    count = _arg(args, kwargs, 0, "linecount", 0)
    filled = _arg(args, kwargs, 1, "fill_with", None) is not None
    return count if filled and isinstance(count, int) else 0


def _translate_size(limits: Limits, s: str, args: tuple, kwargs: dict) -> int:
    table = _arg(args, kwargs, 0, "table", None)
    longest = (
        max((len(v) for v in table.values() if isinstance(v, str)), default=1)
        if isinstance(table, dict)
        else 1
    )
    return len(s) * max(longest, 1)


def _lipsum_size(args: tuple, kwargs: dict) -> int:
    """Jinja's ``lipsum(n=5, html=True, min=20, max=100)``: ``n`` paragraphs of up to ``max`` words."""
    paragraphs, words = _arg(args, kwargs, 0, "n", 5), _arg(args, kwargs, 3, "max", 100)
    return paragraphs * words * 12 if isinstance(paragraphs, int) and isinstance(words, int) else 0


def _expandtabs_size(limits: Limits, s: str, args: tuple, kwargs: dict) -> int:
    size = _arg(args, kwargs, 0, "tabsize", 8)
    return len(s) * max(1, size) if "\t" in s and isinstance(size, int) else len(s)


_FILTER_ESTIMATES: dict[str, Estimate] = {
    "center": _width,
    "indent": _indent_size,
    "format": lambda limits, v, a, k: _percent_size(limits, v if isinstance(v, str) else "", k or a),
    "join": lambda limits, v, a, k: _join_size(limits, v, _arg(a, k, 0, "d", "")),
    "replace": lambda limits, s, a, k: _replace_size(
        limits, s, _arg(a, k, 0, "old", ""), _arg(a, k, 1, "new", ""), _arg(a, k, 2, "count", None)
    ),
    "wordwrap": _wordwrap_size,
    "tojson": _tojson_size,
    "string": lambda limits, v, a, k: _text_size(limits, v),
    "pprint": lambda limits, v, a, k: estimate_text(v, limits, indent=1),
    "sum": _sum_size,
    "batch": _batch_size,
}
_CONSUMES = frozenset({"join", "sum"})  # filters whose estimate reads an iterable the filter reads again

_STR_METHOD_ESTIMATES: dict[str, Estimate] = {
    "center": _width,
    "ljust": _width,
    "rjust": _width,
    "zfill": _width,
    "expandtabs": _expandtabs_size,
    "replace": lambda limits, s, a, k: _replace_size(
        limits, s, _arg(a, k, 0, "old", ""), _arg(a, k, 1, "new", ""), _arg(a, k, 2, "count", -1)
    ),
    "join": lambda limits, sep, a, k: _join_size(limits, _arg(a, k, 0, "iterable", ()), sep),
    "format": lambda limits, s, a, k: _format_size(limits, s, a, k),
    "format_map": lambda limits, s, a, k: _format_size(
        limits, s, (), a[0] if a and isinstance(a[0], dict) else {}
    ),
    "translate": _translate_size,
}
