"""A conversation as the model reads it: messages → chat template → rendered prompt → tokens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from desktop_app.core.engine.chat_template import ChatTemplate
from desktop_app.core.engine.engine import ContextFull, Engine
from desktop_app.core.engine.prompt_tokens import tokenize_segments
from desktop_app.core.engine.rendered_prompt import RenderedPrompt

Message = Mapping[str, str]


@dataclass(frozen=True)
class ChatPrompt:
    rendered: RenderedPrompt
    tokens: tuple[int, ...]
    kinds: tuple[str, ...]  # per token: template | special | content
    template: ChatTemplate

    @property
    def source(self) -> str:
        return self.template.origin


def template_for(engine: Engine, override: str | None = None, *, plain: bool = False) -> ChatTemplate:
    """The model's template (override > GGUF > fallback) with its special-token texts."""
    bos = engine.token_text(engine.bos_id) if engine.add_bos or engine.bos_id >= 0 else ""
    return ChatTemplate.for_model(
        engine.open_llama.metadata,
        override=override,
        bos_token=bos,
        eos_token=engine.token_text(engine.eos_id),
        special_tokens=engine.special_texts(),
        plain=plain,
    )


def build_messages(
    text: str | None, system: str | None = None, history: Sequence[Message] = ()
) -> list[dict]:
    messages: list[dict] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.extend(dict(m) for m in history)
    if text is not None:
        messages.append({"role": "user", "content": text})
    return messages


def chat_prompt(
    engine: Engine,
    messages: Sequence[Message],
    *,
    template: ChatTemplate | None = None,
    add_generation_prompt: bool = True,
    check_fits: bool = True,
) -> ChatPrompt:
    """Render and tokenize a conversation; contents are tokenized without special-token parsing."""
    template = template or template_for(engine)
    rendered = template.render(messages, add_generation_prompt=add_generation_prompt)

    def tokenize(data: bytes, add_bos: bool, special: bool) -> list[int]:
        return engine.tokenize(data, add_bos=add_bos, special=special)

    segments = tokenize_segments(rendered, tokenize, add_bos=engine.add_bos)
    tokens = tuple(t for s in segments for t in s.token_ids)
    kinds = tuple(k for s in segments for k in s.token_kinds)
    if check_fits and len(tokens) >= engine.n_ctx:
        raise ContextFull(
            f"the conversation is {len(tokens):,} tokens long and the context holds {engine.n_ctx:,}: "
            "start a new chat, delete earlier messages, or load the model with a larger context"
        )
    return ChatPrompt(rendered, tokens, kinds, template)
