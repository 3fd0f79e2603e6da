"""The built-in lessons: one click sets up the prompt, the settings and the view for one idea of the
lecture. Each is a TOML file under ``resources/lessons`` (see :mod:`desktop_app.core.lesson_files`, which
also reads a teacher's own), read when ``LESSONS`` or ``BY_ID`` is first asked for; what a lesson is,
:class:`Lesson`, is in :mod:`desktop_app.core.lesson_types`. Here also: whether a chat template is a
thinking model's, and which step of a reply a lesson shows. No Qt here: the window applies a lesson.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from desktop_app.core.engine.thinking import CLOSE, OPEN
from desktop_app.core.lesson_types import (
    FIRST_STEPS,
    LANGUAGES,
    Answer,
    ForThinking,
    Lesson,
    ShowStep,
    View,
)

# What it gives besides LESSONS and BY_ID (read on first use, see __getattr__).
__all__ = ["FIRST_STEPS", "LANGUAGES", "Answer", "ForThinking", "Lesson", "ShowStep", "View"]


def template_thinks(template_source: str) -> bool:
    """Whether a chat template is a thinking model's: it mentions ``<think>`` or ``</think>``. Qwen3's
    opens or closes the thinking itself; DeepSeek-R1's cuts earlier replies at ``</think>``; a model that
    does not think has no reason to name either."""
    return OPEN in template_source or CLOSE in template_source


def step_to_show(how: ShowStep, entropies: Sequence[float | None]) -> int | None:
    """Which of a reply's tokens to show when it is done, given each token's entropy (None for a token
    that was not rolled, or an end token: never picked as the most uncertain). None: the last, as shown."""
    rolled = [(i, e) for i, e in enumerate(entropies) if e is not None and not math.isnan(e)]
    if how == "last" or not rolled:
        return None
    if how == "first":
        return rolled[0][0]
    return max(rolled[:FIRST_STEPS], key=lambda ie: ie[1])[0]  # the earliest of equals


def __getattr__(name: str) -> Any:
    """``LESSONS`` and ``BY_ID``, the built-in lessons, read from their files (``resources/lessons``,
    see :mod:`desktop_app.core.lesson_files`) when first asked for."""
    if name not in ("LESSONS", "BY_ID"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from desktop_app.core.lesson_files import load_lessons
    from desktop_app.resources_path import resources_dir

    lessons = load_lessons(resources_dir() / "lessons")
    globals()["LESSONS"], globals()["BY_ID"] = lessons, MappingProxyType({x.id: x for x in lessons})
    return globals()[name]
