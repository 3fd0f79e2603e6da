"""A chat as Markdown, for reading and handouts: the conversation the window shows, not the whole tree.

The title, the model and the system prompt, then each message of the shown path (the newest leaf, as
``ChatTree.path`` follows it) under a heading with its role; a message that has other versions says
which one it is ("version 2 of 3"). A reply that thinks shows its thinking as a quotation before its
answer; a reply that did not end by the model's own choice says how it stopped. The same chat always
gives the same text (no times, no ids), so a handout can be compared with an earlier one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.core.chat_files.json_export import model_identity
from desktop_app.core.engine.thinking import split_thinking
from desktop_app.core.store.json_file import write_atomic

if TYPE_CHECKING:
    from desktop_app.core.store.chat_tree import ChatTree, Message
    from desktop_app.core.store.chats import ChatStore

_ROLES = {"user": "User", "assistant": "Assistant", "system": "System"}
# How a reply stopped, when it was not the model's own end ("eog"), by its stored stop reason.
_STOPS = {
    "max_tokens": "Stopped at the length limit.",
    "cancelled": "Stopped by the user.",
    "stop_string": "Stopped at a stop text.",
    "context_full": "Stopped: the context was full.",
    "step": "Generated step by step; stopped after the last step.",
    "engine_crashed": "Stopped: the engine crashed.",
    "server_failed": "Stopped: the server stopped answering.",
}
_WRITTEN = {
    "lesson": "Written by the lesson, not by the model.",
    "client": "Written by the program that sent the request, not by the model.",
}


def export_markdown(store: ChatStore, chat_id: int) -> str:
    """The chat as Markdown (see the module). Raises ChatNotFound."""
    chat = store.get_chat(chat_id)
    tree = store.tree(chat_id)
    out = [f"# {_line(chat.title) or 'Untitled chat'}", "", f"- Model: {_model(store, chat.model_id)}"]
    if chat.settings.get("plain") is True:
        out.append("- Plain text: no chat template, the model continues the text")
    out.append("")
    if chat.system_prompt:
        out += ["## System prompt", "", chat.system_prompt.rstrip("\n"), ""]
    path = tree.path()
    if not path:
        out += ["*No messages yet.*", ""]
    for m in path:
        out += _message(store, tree, m, chat.model_id)
    return "\n".join(out).rstrip("\n") + "\n"


def write_markdown(store: ChatStore, chat_id: int, path: Path) -> None:
    """Export the chat as Markdown to ``path`` (replaced in one step)."""
    write_atomic(Path(path), export_markdown(store, chat_id).encode("utf-8"))


def _message(store: ChatStore, tree: ChatTree, m: Message, chat_model: str | None) -> list[str]:
    siblings = tree.siblings(m.id)
    version = ""
    if len(siblings) > 1:
        version = f" (version {[s.id for s in siblings].index(m.id) + 1} of {len(siblings)})"
    out = [f"## {_ROLES.get(m.role, m.role.capitalize())}{version}", ""]
    notes = []
    if (written := _WRITTEN.get(str(m.metadata.get("written_by")))) is not None:
        notes.append(written)
    model = m.metadata.get("model_id")
    if m.role == "assistant" and isinstance(model, str) and model != chat_model:
        notes.append(f"Model: {_model(store, model)}.")
    out += [f"*{n}*" for n in notes] + ([""] if notes else [])
    answer, thought = m.content, False
    if m.role == "assistant":
        thinking = split_thinking(m.content, opened=m.metadata.get("thinking_opened") is True)
        answer, thought = thinking.answer, thinking.thinking is not None
        if thinking.thinking is not None:
            quoted = ["**Thinking**", "", *thinking.thinking.split("\n")]
            if not thinking.closed:
                quoted += ["", "*(the thinking did not end)*"]
            out += [f"> {q}".rstrip() for q in quoted] + [""]
    if answer.strip():
        out += [answer.rstrip("\n"), ""]
    elif not thought:
        out += ["*(empty)*", ""]
    if m.role == "assistant" and m.stop_reason not in (None, "eog"):
        out += [f"*{_STOPS.get(m.stop_reason or '', f'Stopped: {m.stop_reason}.')}*", ""]
    return out


def _model(store: ChatStore, model_id: str | None) -> str:
    if model_id is None:
        return "none"
    known = model_identity(store, model_id)
    return f"{_line(known['name'] or '')} (`{model_id}`)" if known else f"`{model_id}`"


def _line(text: str) -> str:
    return " ".join(text.split())
