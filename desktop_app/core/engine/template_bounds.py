"""How long and how large rendering a chat template may get, and the clock that enforces the time.

A chat template is someone else's program (from a GGUF file, or an override the user saved), run on the
engine's thread. Jinja's sandbox keeps it away from files and attributes, but not from running forever
(``{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}``) or from building
a string the size of the machine's memory (``'x' * 10**10``). This module holds the limits and the time
check; :mod:`desktop_app.core.engine.template_sandbox` enforces the sizes inside Jinja.

* Time: :class:`Limits` carries a deadline on ``time.monotonic()``; the sandbox compiles a clock check
  into the start of every loop body and macro body of the template (Jinja has no other way to loop or
  recurse), so a loop with no output is stopped too, at a fraction of a microsecond per iteration. It
  needs no trace function, thread, signal or global: a debugger's or coverage's trace function is left
  alone, and it works on whichever thread renders.
* Size: :class:`Limits` carries the largest text or list a render may make (:func:`size_limit`), and
  :func:`estimate_text` tells how long a value's text would be before Python writes it.

No Qt and no jinja2 here: this module is imported with the chat template, before the first render.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = [
    "INPUT_SIZE_FACTOR",
    "MAX_INT_BITS",
    "MIN_SIZE_LIMIT",
    "RENDER_TIME_LIMIT_S",
    "Limits",
    "RenderLimitExceeded",
    "estimate_text",
    "input_chars",
    "size_limit",
]

# A real template renders a long conversation in milliseconds (Gemma 3's and SmolLM2's: ~0.1 ms per
# message). Two seconds is hundreds of times that, and short enough that a template that never ends is
# reported before the user wonders whether the app hangs. It bounds a whole ChatTemplate.render call,
# which renders the template up to three times (see ChatTemplate._content_ranges).
RENDER_TIME_LIMIT_S = 2.0

# The largest prompt any model reads is about a million tokens, some 4 MB of text. A rendered prompt, and
# every text or list a template builds on the way, may be four times that (16 Mi characters), or four
# times the conversation's own text when that is larger, so a template that copies each message twice
# still renders whatever the user pasted; "the conversation does not fit" is then told by the caller.
# A list counts its items. Anything larger is a template repeating itself without end.
MIN_SIZE_LIMIT = 16 * 1024 * 1024
INPUT_SIZE_FACTOR = 4

# Integers: 2**65536 has 19,729 digits, four times what Python agrees to print (sys.int_max_str_digits);
# the sandbox refuses to compute larger ones (10 ** 10 ** 10 would take C code hours).
MAX_INT_BITS = 1 << 16

_END = object()
_FIX = "fix the template, or reset it in the Template inspector"


class RenderLimitExceeded(Exception):
    """Rendering went past a limit; ``detail`` is the sentence for the user (ChatTemplate wraps it in
    its TemplateError with the template line)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class Limits:
    """The bounds of one render call: ``max_chars`` for texts and lists, and ``time_limit_s`` seconds
    (None: no time bound) for all its Jinja passes together.

    Only the time spent inside the template counts (between :meth:`begin_pass` and :meth:`end_pass`):
    TokenDice's own work between passes (finding the contents in a 4 MB prompt takes a second) is not
    the template's fault. One object per render call, used by one thread.
    """

    def __init__(self, max_chars: int = MIN_SIZE_LIMIT, time_limit_s: float | None = None) -> None:
        self.max_chars = max_chars
        self.time_limit_s = time_limit_s
        self.deadline: float | None = None  # on time.monotonic(), during a pass
        self._spent_s = 0.0
        self._pass_start = 0.0

    @classmethod
    def start(cls, input_size: int = 0, time_limit_s: float | None = RENDER_TIME_LIMIT_S) -> Limits:
        """Limits for a render call of a conversation of ``input_size`` characters."""
        return cls(size_limit(input_size), time_limit_s)

    def begin_pass(self) -> None:
        """A Jinja pass starts: the clock runs until :meth:`end_pass`."""
        self._pass_start = time.monotonic()
        if self.time_limit_s is not None:
            self.deadline = self._pass_start + self.time_limit_s - self._spent_s

    def end_pass(self) -> None:
        self._spent_s += time.monotonic() - self._pass_start
        self.deadline = None

    def too_slow(self) -> RenderLimitExceeded:
        return RenderLimitExceeded(
            f"rendering did not finish within {self.time_limit_s:g} s, so the template may loop "
            f"forever; {_FIX}."
        )

    def too_large(self, what: str = "built a text or list of") -> RenderLimitExceeded:
        return RenderLimitExceeded(
            f"the template {what} more than {self.max_chars:,} characters, more than any prompt needs, "
            f"so it may repeat itself without end; {_FIX}."
        )

    def too_big_number(self) -> RenderLimitExceeded:
        return RenderLimitExceeded(
            f"the template computed a number of more than {MAX_INT_BITS:,} bits, which no prompt needs; "
            f"{_FIX}."
        )

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise self.too_slow()

    def check_size(self, size: int, what: str = "built a text or list of") -> None:
        if size > self.max_chars:
            raise self.too_large(what)


def size_limit(input_size: int) -> int:
    """The largest text or list a render of a conversation of ``input_size`` characters may make."""
    return max(MIN_SIZE_LIMIT, INPUT_SIZE_FACTOR * input_size)


def input_chars(*values: Any) -> int:
    """The characters in the strings of ``values`` (messages, tools, variables), nested containers
    included: the size of what a template is given to render."""
    total = 0
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            total += len(value)
        elif isinstance(value, Mapping):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return total


def estimate_text(value: Any, limits: Limits, *, indent: int = 0) -> int:
    """About how many characters ``str(value)`` (or ``tojson``, with ``indent``) writes, counted without
    writing them, and no further than just past ``limits.max_chars``.

    A list of one long text repeated a million times is a few megabytes in memory and terabytes as text;
    this walk sees that before Python starts writing. Each item counts at least its separator, so the walk
    takes at most ``max_chars / 2`` steps, and checks the clock on the way.
    """
    budget = limits.max_chars
    total = 0
    steps = 0
    stack: list[tuple[Iterator[Any], int]] = [(iter((value,)), 0)]
    while stack and total <= budget:
        items, depth = stack[-1]
        item = next(items, _END)
        if item is _END:
            stack.pop()
            continue
        steps += 1
        if not steps & 0xFFFF:
            limits.check_time()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() * 3 // 10 + 2
        elif isinstance(item, Mapping):
            total += 2 + len(item) * (4 + indent * (depth + 1))
            stack.append((itertools.chain.from_iterable(item.items()), depth + 1))
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + len(item) * (2 + indent * (depth + 1))
            stack.append((iter(item), depth + 1))
        else:  # floats, dates, Jinja's own objects: a short text
            total += 24
    return total
