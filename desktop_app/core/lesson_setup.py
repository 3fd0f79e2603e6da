"""A lesson made from what the window holds now (*Lessons → Save this setup as a lesson…*): the prompt,
the system prompt, the earlier turns, the sampler settings, the reply length, the view, step mode, and
the title and explanation the teacher types, in the teacher's language. No Qt here: the window gathers
the values, :func:`lesson_from_setup` makes the lesson, ``lesson_writer`` writes its file."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from types import MappingProxyType

from desktop_app.core.lesson_types import Lesson, View
from desktop_app.core.models.curated import CuratedModel
from desktop_app.core.sampler_settings import SamplerSettings


@dataclass(frozen=True)
class Setup:
    """What the window holds: ``prompt`` (what the lesson sends or leaves in the box), ``history`` the
    turns before it ((role, text): user or assistant), ``plain`` no chat template."""

    prompt: str
    system: str
    history: tuple[tuple[str, str], ...]
    plain: bool
    settings: SamplerSettings
    max_tokens: int
    step_mode: bool


def setup_from_chat(
    typed: str,
    messages: Sequence[tuple[str, str]],
    *,
    system: str,
    plain: bool,
    settings: SamplerSettings,
    max_tokens: int,
    step_mode: bool,
) -> Setup | None:
    """The setup of a chat: ``typed`` (the message box) is the prompt, after every turn of ``messages``
    ((role, text), the chat shown); with nothing typed, the chat's last question is, after the turns
    before it. None when there is no prompt either way. A plain continuation has no turns: its text is the
    prompt."""
    turns = [(role, text) for role, text in messages if role in ("user", "assistant") and text]
    prompt = typed.strip() and typed
    if not prompt:
        asked = [i for i, (role, _text) in enumerate(turns) if role == "user"]
        if not asked:
            return None
        prompt, turns = turns[asked[-1]][1], turns[: asked[-1]]
    if plain:
        turns = []
    return Setup(prompt, system, tuple(turns), plain, settings, max_tokens, step_mode)


def lesson_from_setup(
    setup: Setup,
    *,
    lesson_id: str,
    language: str,
    title: str,
    explanation: str,
    view: View,
    send: bool = True,
    model: CuratedModel | None = None,
) -> Lesson:
    """The lesson that sets the window up as ``setup``: its texts in ``language``; its settings only those
    that differ from the defaults (a lesson's settings go over the defaults, so that is the same setup);
    ``model``: the model it recommends (None: any)."""
    default = SamplerSettings()
    settings = {
        f.name: getattr(setup.settings, f.name)
        for f in fields(SamplerSettings)
        if getattr(setup.settings, f.name) != getattr(default, f.name)
    }

    def text(value: str) -> MappingProxyType:
        return MappingProxyType({language: value})

    return Lesson(
        lesson_id,
        text(title.strip()),
        text(explanation.strip()),
        text(setup.prompt),
        view,
        mode="plain" if setup.plain else "chat",
        system=text(setup.system) if setup.system.strip() and not setup.plain else None,
        history=tuple((role, text(value)) for role, value in setup.history),
        settings=MappingProxyType(settings),
        max_tokens=setup.max_tokens,
        step_mode=setup.step_mode,
        send=send,
        model=model,
    )


def lesson_id_for(title: str, taken: Collection[str]) -> str:
    """An id for a lesson titled ``title``: its letters and digits in lowercase ASCII, joined by ``-``
    ("lesson" when none is left, as for a Chinese title), not one of ``taken`` (``-2``, ``-3``… added)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:48].strip("-") or "lesson"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate
