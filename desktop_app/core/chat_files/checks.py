"""The checks of one value of a chat file. Each refuses a wrong value with a ChatFileError sentence that
says where it is and what is wrong: ``message 12, token 3: its p_raw must be a number from 0 to 1 or
null, not NaN.``"""

from __future__ import annotations

import json
import math
import re
from typing import Any, NoReturn, TypeGuard

from desktop_app.core.chat_files.json_export import ChatFileError
from desktop_app.core.safe_text import is_utf8

MAX_OBJECT = 1024 * 1024  # characters of a message's metadata or the chat's settings, as JSON
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z", re.ASCII)


def fail(where: str, what: str) -> NoReturn:
    raise ChatFileError(f"{where}: {what}.")


def missing(where: str, key: str) -> NoReturn:
    fail(where, f"it has no {key!r}")


def entry(obj: dict[str, Any], where: str, key: str) -> Any:
    if key not in obj:
        missing(where, key)
    return obj[key]


def field(obj: dict[str, Any], where: str, key: str, of: type) -> Any:
    """``obj[key]``, which must be an ``of`` (dict or list)."""
    value = entry(obj, where, key)
    if not isinstance(value, of):
        fail(where, f"its {key} must be {kind(of())}, not {kind(value)}")
    return value


def get_text(obj: dict[str, Any], where: str, key: str, limit: int, *, null: bool = False) -> Any:
    value = entry(obj, where, key)
    if value is None and null:
        return None
    if not isinstance(value, str):
        fail(where, f"its {key} must be text{' or null' if null else ''}, not {kind(value)}")
    if len(value) > limit:
        fail(where, f"its {key} is {len(value):,} characters long, more than the {limit:,} it may hold")
    if not is_utf8(value):
        fail(where, f"its {key} is not valid UTF-8 text (it holds a lone surrogate)")
    return value


def get_time(obj: dict[str, Any], where: str, key: str) -> str:
    value = get_text(obj, where, key, 64)
    if not _TIME.fullmatch(value):
        fail(where, f"its {key} must be a UTC time such as 2025-01-31T12:34:56.789012Z, not {short(value)}")
    return value


def get_whole(obj: dict[str, Any], where: str, key: str, low: int, high: int) -> int:
    value = entry(obj, where, key)
    if not is_int(value) or not low <= value <= high:
        fail(where, f"its {key} must be a whole number from {low:,} to {high:,}, not {short(value)}")
    return value


def get_flag(obj: dict[str, Any], where: str, key: str) -> bool:
    value = entry(obj, where, key)
    if not isinstance(value, bool):
        fail(where, f"its {key} must be true or false, not {short(value)}")
    return value


def get_probability(obj: dict[str, Any], where: str, key: str) -> float | None:
    value = entry(obj, where, key)
    if value is None:
        return None
    if not is_number(value) or not (math.isfinite(value) and 0 <= value <= 1):
        fail(where, f"its {key} must be a number from 0 to 1 or null, not {short(value)}")
    return float(value)


def get_object(obj: dict[str, Any], where: str, key: str, *, parse: bool = False) -> Any:
    """A free-form JSON object (settings, metadata): its JSON text for the store, or (``parse``) itself."""
    value = field(obj, where, key, dict)
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except ValueError:
        fail(where, f"its {key} holds a number that is not finite (NaN or infinity)")
    except RecursionError:
        fail(where, f"its {key} is nested too deeply")
    if len(text) > MAX_OBJECT:
        fail(where, f"its {key} is {len(text):,} characters of JSON, more than {MAX_OBJECT:,}")
    if not is_utf8(text):
        fail(where, f"its {key} holds text that is not valid UTF-8 (a lone surrogate)")
    return value if parse else text


def is_int(x: Any) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)


def is_number(x: Any) -> TypeGuard[int | float]:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "text", bool: "true or false", type(None): "null"}
    return kinds.get(type(value), "a number")


def short(value: Any) -> str:
    """A value as the sentence shows it: JSON, cut short."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    text = text if is_utf8(text) else repr(value)
    return text if len(text) <= 40 else text[:37] + "…"
