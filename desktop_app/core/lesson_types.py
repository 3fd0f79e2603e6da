"""What a lesson is (:class:`Lesson`, and the answers and thinking-model changes it may have): plain data,
made from a lesson file by :mod:`desktop_app.core.lesson_files`, written back to one by
:mod:`desktop_app.core.lesson_writer`, and applied by the window and the CLI."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from desktop_app.core.models.curated import CuratedModel

LANGUAGES = ("en", "zh_TW")
View = Literal["chart", "die", "waterfall", "end", "template", "tokens", "compare", "facts"]
#: Which step of the reply the views show when it is done: its last (what the chart already shows), its
#: first, or the most uncertain of its first ``FIRST_STEPS`` (the highest entropy: where the roll matters).
ShowStep = Literal["last", "first", "most_uncertain"]
FIRST_STEPS = 8


@dataclass(frozen=True)
class Answer:
    """One of the answers a lesson shows side by side: its label and its system prompt (None: none)."""

    label: MappingProxyType  # language → text
    system: MappingProxyType | None = None

    def title(self, language: str) -> str:
        return _pick(self.label, language)

    def system_prompt(self, language: str, today: _dt.date | None = None) -> str:
        return _with_date(self.system, language, today)


@dataclass(frozen=True)
class ForThinking:
    """A lesson made for a thinking model: ``settings`` over the lesson's own and ``max_tokens`` on one
    (a thinking reply is long), the curated ``model`` it recommends, and ``fallback``, the line it shows on
    a model that does not think (language → text; ``{model}`` is that model's name)."""

    settings: MappingProxyType
    max_tokens: int
    model: CuratedModel
    fallback: MappingProxyType


@dataclass(frozen=True)
class Lesson:
    id: str
    title: MappingProxyType  # language → text
    explanation: MappingProxyType
    prompt: MappingProxyType  # what is sent (chat) or continued (plain)
    view: View
    mode: Literal["chat", "plain"] = "chat"  # plain: no chat template, the model continues the text
    system: MappingProxyType | None = None
    history: tuple[tuple[str, MappingProxyType], ...] = ()  # earlier turns: (role, text by language)
    settings: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    max_tokens: int = 48
    step_mode: bool = False  # open in step mode: one token per click
    send: bool = True  # send the prompt at once (False: leave it in the input box)
    show_step: ShowStep = "last"
    side_by_side: tuple[Answer, ...] = ()  # answers to the prompt generated at once, shown side by side
    thinking: ForThinking | None = None  # made for a thinking model (None: any model alike)
    model: CuratedModel | None = None  # the model recommended for the lesson (a thinking one: thinking's)
    model_languages: tuple[str, ...] = ()  # the languages ``model`` is recommended in (none: every one)

    def text(self, what: str, language: str) -> str:
        value = getattr(self, what)
        return _pick(value, language) if value is not None else ""

    def system_prompt(self, language: str, today: _dt.date | None = None) -> str:
        return _with_date(self.system, language, today)

    def turns(self, language: str) -> list[tuple[str, str]]:
        """The earlier turns in ``language`` (or as ``text`` picks): (role, text)."""
        return [(role, _pick(text, language)) for role, text in self.history]

    def sampler_settings(self, thinks: bool = False) -> dict[str, Any]:
        """The settings the lesson sets; ``thinks``: on a thinking model (its own settings for one)."""
        extra = self.thinking.settings if thinks and self.thinking is not None else {}
        return {**self.settings, **extra}

    def reply_length(self, thinks: bool = False) -> int:
        """The reply's length in tokens; ``thinks``: on a thinking model."""
        return self.thinking.max_tokens if thinks and self.thinking is not None else self.max_tokens

    @property
    def recommends(self) -> CuratedModel | None:
        """The thinking model the lesson is made for (None: any model does)."""
        return self.thinking.model if self.thinking is not None else None

    def recommended(self, language: str) -> CuratedModel | None:
        """The model to recommend when the lesson is shown in ``language``: the thinking model for a lesson
        made for one, else the lesson's ``model`` where it applies to ``language`` (None: any model does)."""
        if self.thinking is not None:
            return self.thinking.model
        if self.model is not None and (not self.model_languages or language in self.model_languages):
            return self.model
        return None

    def recommended_models(self) -> tuple[CuratedModel, ...]:
        """Every model the lesson recommends, in any language: its thinking model, its model."""
        found = (self.thinking.model if self.thinking is not None else None, self.model)
        return tuple(m for m in found if m is not None)

    def fallback(self, language: str, model: str) -> str:
        """What the lesson does instead on ``model``, which does not think ("" for a lesson for any model)."""
        return _pick(self.thinking.fallback, language).format(model=model) if self.thinking else ""


def _with_date(texts: MappingProxyType | None, language: str, today: _dt.date | None) -> str:
    if texts is None:
        return ""
    day = today or _dt.date.today()
    stamp = day.strftime("%Y-%m-%d") if language == "en" else f"{day.year}年{day.month}月{day.day}日"
    return _pick(texts, language).replace("{today}", stamp)


def _pick(texts: MappingProxyType, language: str) -> str:
    """The text in ``language``, else the English one, else the first (a lesson in one language alone)."""
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")
