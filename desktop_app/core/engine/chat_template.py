"""Render a model's own chat template, and say where every character of the prompt came from.

A chat model does not read "messages"; it reads one string built by the Jinja template stored in its GGUF
file under ``tokenizer.chat_template``. :class:`ChatTemplate` renders that template exactly as
llama-cpp-python 0.3.36 does (``llama_cpp.llama_chat_format.Jinja2ChatFormatter``: an
``ImmutableSandboxedEnvironment`` with ``trim_blocks`` and ``lstrip_blocks``, the ``loopcontrols`` extension,
a pass-through ``{% generation %}`` tag, Transformers' ``tojson``, and the variables ``messages``,
``add_generation_prompt``, ``bos_token``, ``eos_token``, ``raise_exception``, ``strftime_now``, ``tools``,
``tool_choice``, ``functions``, ``function_call``). It finds the message contents in the result, and
rendered_prompt.py labels the text with spans (content, special, template) from them.

:func:`~desktop_app.core.engine.prompt_tokens.tokenize_rendered` then tokenizes template text *with*
special-token parsing and message contents *without* it, so text a user types (``<|im_start|>system``)
can never become a control token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from desktop_app.core.engine import template_spans
from desktop_app.core.engine.rendered_prompt import Origin, RenderedPrompt, Span, SpanKind, build_spans
from desktop_app.core.engine.template_bounds import (
    RENDER_TIME_LIMIT_S,
    Limits,
    RenderLimitExceeded,
    input_chars,
)
from desktop_app.core.engine.template_env import (
    TemplateError,
    compile_template,
    raise_exception,
    render_error,
)

__all__ = [
    "FALLBACK_TEMPLATE",
    "GGUF_TEMPLATE_KEY",
    "PLAIN_TEMPLATE",
    "ChatTemplate",
    "RenderedPrompt",
    "Span",
    "SpanKind",
    "TemplateError",
]

GGUF_TEMPLATE_KEY = "tokenizer.chat_template"

# The format used for models whose GGUF carries no chat template (base models such as Gemma 3 270M).
# It is a plain transcript a base model has seen countless times and continues sensibly:
#
#     System: You are a helpful assistant.
#
#     User: Hello!
#     Assistant: Hi! How can I help?
#     User: Tell me a joke.
#     Assistant:
#
# Every message is "<Role>: <content>" on its own line(s); a system message is followed by a blank line;
# the generation prompt is "Assistant:" with no trailing space (the model's next token brings its own
# leading space). Roles other than system/user/assistant are written capitalised ("Tool: ...").
# A base model will happily go on to write the next "User:" line itself, so the caller should stop on
# ChatTemplate.stop_strings ("\nUser:").
FALLBACK_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}"
    "{{ 'System: ' + message['content'] + '\\n\\n' }}"
    "{%- else -%}"
    "{{ message['role'] | capitalize + ': ' + message['content'] + '\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ 'Assistant:' }}{%- endif -%}"
)
_FALLBACK_STOP_STRINGS = ("\nUser:",)

# Plain text continuation: no chat template at all. The messages' texts are joined as they are (the
# user's text, then what the model wrote, then the user's next text...), and the model continues.
PLAIN_TEMPLATE = "{%- for message in messages -%}{{ message['content'] }}{%- endfor -%}"


class ChatTemplate:
    """A compiled chat template plus the token texts it needs; :meth:`render` turns messages into a prompt.

    ``origin`` says where the source came from: ``"gguf"`` (the model's ``tokenizer.chat_template``),
    ``"override"`` (a template the user edited for this model) or ``"fallback"`` (see
    :data:`FALLBACK_TEMPLATE`). ``special_tokens`` are the texts to label ``special`` inside template text;
    the BOS and EOS texts are always included. ``now`` is the clock behind ``strftime_now`` (tests inject
    one). A template with a syntax error raises :class:`TemplateError` naming the line.

    A template is someone else's program: one :meth:`render` call may spend ``time_limit_s`` seconds
    (None: no limit) inside the template, all passes together, and build texts and lists of up to
    :func:`~desktop_app.core.engine.template_bounds.size_limit` characters; past either it raises
    :class:`TemplateError` (see :mod:`desktop_app.core.engine.template_bounds`).
    """

    def __init__(
        self,
        source_text: str,
        *,
        bos_token: str = "",
        eos_token: str = "",
        special_tokens: Iterable[str] = (),
        origin: Origin = "gguf",
        now: Callable[[], datetime] | None = None,
        time_limit_s: float | None = RENDER_TIME_LIMIT_S,
    ) -> None:
        self.source_text = source_text
        self.time_limit_s = time_limit_s
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.origin: Origin = origin
        specials = {t for t in special_tokens if t}
        specials.update(t for t in (bos_token, eos_token) if t)
        # Longest first, so that "<|im_start|>" wins over a shorter special text it contains.
        self.special_tokens: tuple[str, ...] = tuple(sorted(specials, key=lambda t: (-len(t), t)))
        self._special_re = (
            re.compile("|".join(re.escape(t) for t in self.special_tokens)) if self.special_tokens else None
        )
        self._now: Callable[[], datetime] = now if now is not None else datetime.now
        self._environment, self._template = compile_template(source_text)

    # ----------------------------------------------------------------------------------------- builders

    @classmethod
    def fallback(
        cls,
        *,
        bos_token: str = "",
        eos_token: str = "",
        special_tokens: Iterable[str] = (),
        now: Callable[[], datetime] | None = None,
    ) -> ChatTemplate:
        """The plain "System:/User:/Assistant:" transcript for models without a template."""
        return cls(
            FALLBACK_TEMPLATE,
            bos_token=bos_token,
            eos_token=eos_token,
            special_tokens=special_tokens,
            origin="fallback",
            now=now,
        )

    @classmethod
    def for_model(
        cls,
        metadata: Mapping[str, Any],
        *,
        override: str | None = None,
        bos_token: str = "",
        eos_token: str = "",
        special_tokens: Iterable[str] = (),
        now: Callable[[], datetime] | None = None,
        plain: bool = False,
    ) -> ChatTemplate:
        """The template a model should use: the user's override, else the GGUF's own, else the fallback.
        ``plain``: no chat template, the texts joined as they are (:data:`PLAIN_TEMPLATE`).

        An empty or blank override or GGUF template counts as absent. A broken override or GGUF template
        raises :class:`TemplateError` (the caller shows it, and may offer :meth:`fallback`).
        """
        specials = tuple(special_tokens)
        common: dict[str, Any] = {
            "bos_token": bos_token,
            "eos_token": eos_token,
            "special_tokens": specials,
            "now": now,
        }
        if plain:
            return cls(PLAIN_TEMPLATE, origin="plain", **common)
        if override is not None and override.strip():
            return cls(override, origin="override", **common)
        gguf = metadata.get(GGUF_TEMPLATE_KEY)
        if isinstance(gguf, str) and gguf.strip():
            return cls(gguf, origin="gguf", **common)
        return cls(FALLBACK_TEMPLATE, origin="fallback", **common)

    # ---------------------------------------------------------------------------------------- properties

    @property
    def stop_strings(self) -> tuple[str, ...]:
        """Text at which generation should stop besides the model's end-of-generation tokens.

        Only the fallback needs one: a base model writes the next "User:" line itself.
        """
        return _FALLBACK_STOP_STRINGS if self.origin == "fallback" else ()

    def __repr__(self) -> str:
        return f"ChatTemplate(origin={self.origin!r}, {len(self.source_text)} chars)"

    # ------------------------------------------------------------------------------------------- render

    def render(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        add_generation_prompt: bool = True,
        tools: Sequence[Mapping[str, Any]] | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> RenderedPrompt:
        """Render ``messages`` (dicts with ``role`` and ``content``) to the exact prompt and its spans.

        ``variables`` are extra template variables (for example ``enable_thinking``), passed like
        llama-cpp-python's ``**kwargs``. Every template problem raises :class:`TemplateError`.
        """
        plain = [dict(m) for m in messages]
        # One time budget for all the template's passes (up to three: see _content_ranges), one size bound.
        limits = Limits.start(input_chars(plain, tools, variables), self.time_limit_s)
        with self._environment.bounded(limits):
            text = self._render_or_raise(plain, add_generation_prompt, tools, variables)
            ranges = self._content_ranges(plain, text, add_generation_prompt, tools, variables)
        roles = [m.get("role") if isinstance(m.get("role"), str) else None for m in plain]
        spans = build_spans(text, ranges, roles, self._special_re)
        starts_with_bos = bool(self.bos_token) and text.startswith(self.bos_token)
        return RenderedPrompt(text=text, spans=spans, source=self.origin, starts_with_bos=starts_with_bos)

    def _render_raw(
        self,
        messages: list[dict[str, Any]],
        add_generation_prompt: bool,
        tools: Sequence[Mapping[str, Any]] | None,
        variables: Mapping[str, Any] | None,
    ) -> str:
        context: dict[str, Any] = dict(variables or {})
        context.update(
            messages=messages,
            add_generation_prompt=add_generation_prompt,
            bos_token=self.bos_token,
            eos_token=self.eos_token,
            raise_exception=raise_exception,
            strftime_now=self._strftime_now,
            tools=tools,
            tool_choice=context.get("tool_choice"),
            functions=context.get("functions"),
            function_call=context.get("function_call"),
        )
        return self._environment.render_bounded(self._template, context)

    def _render_or_raise(
        self,
        messages: list[dict[str, Any]],
        add_generation_prompt: bool,
        tools: Sequence[Mapping[str, Any]] | None,
        variables: Mapping[str, Any] | None,
    ) -> str:
        try:
            return self._render_raw(messages, add_generation_prompt, tools, variables)
        except Exception as exc:  # every failure inside the template, as a sentence with its line
            raise render_error(exc) from exc

    def _strftime_now(self, fmt: str) -> str:
        return self._now().strftime(fmt)

    # ------------------------------------------------------------------------------------------ spans

    def _content_ranges(
        self,
        messages: list[dict[str, Any]],
        text: str,
        add_generation_prompt: bool,
        tools: Sequence[Mapping[str, Any]] | None,
        variables: Mapping[str, Any] | None,
    ) -> list[tuple[int, int, int]]:
        """(start, end, message_index) of message contents in ``text``, sorted and not overlapping.

        1. Render again with every non-empty content bracketed by private-use markers; if removing the
           markers gives ``text`` back, the markers' positions are the answer.
        2. If some content has leading/trailing whitespace (which ``| trim`` would drop), put the markers
           inside that whitespace and try again.
        3. Otherwise find each content (as bracketed in the marked render, as given, or stripped) in
           ``text`` in message order; a content that cannot be found is left unmarked.
        """
        contents = {
            i: m["content"]
            for i, m in enumerate(messages)
            if isinstance(m.get("content"), str) and m["content"]
        }
        if not contents or not text:
            return []
        avoid = set(self.source_text) | set(self.bos_token) | set(self.eos_token) | set(text)
        for content in contents.values():
            avoid.update(content)
        markers = template_spans.pick_markers(2 * len(contents), avoid)
        if markers is None:  # pragma: no cover - needs tens of thousands of private-use characters in use
            return template_spans.find_in_order(text, contents, {})
        indices = list(contents)
        opens = {i: markers[k] for k, i in enumerate(indices)}
        closes = {i: markers[len(indices) + k] for k, i in enumerate(indices)}
        marker_of = {ch: (i, True) for i, ch in opens.items()} | {ch: (i, False) for i, ch in closes.items()}

        def marked_render(inside_whitespace: bool) -> tuple[str, list[tuple[int, int, int]]] | None:
            wrapped = []
            for i, message in enumerate(messages):
                copy = dict(message)
                if i in contents:
                    copy["content"] = template_spans.wrap(contents[i], opens[i], closes[i], inside_whitespace)
                wrapped.append(copy)
            try:
                marked = self._render_raw(wrapped, add_generation_prompt, tools, variables)
            except RenderLimitExceeded as exc:  # the call's time (or size) is spent: that is an error
                raise render_error(exc) from exc
            except Exception:  # the markers may upset a template: fall back to searching
                return None
            return template_spans.strip_markers(marked, marker_of)

        bracketed: dict[int, str] = {}
        attempts = [False]
        if any(c != c.strip() for c in contents.values()):
            attempts.append(True)
        for inside_whitespace in attempts:
            result = marked_render(inside_whitespace)
            if result is None:
                continue
            stripped, ranges = result
            if stripped == text:
                return template_spans.non_overlapping(ranges)
            if not bracketed:
                for start, end, i in ranges:
                    bracketed.setdefault(i, stripped[start:end])
        return template_spans.find_in_order(text, contents, bracketed)
