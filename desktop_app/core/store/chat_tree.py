"""A chat's records as data: chats, messages, branches, search matches, and the message tree.

The store (chats.py) reads and writes them; a :class:`ChatTree` answers paths, siblings and children
from one read of a chat's messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

ROLES = ("system", "user", "assistant")


class ChatNotFound(LookupError):
    """No chat with that id (it may have been deleted)."""


class MessageNotFound(LookupError):
    """No message with that id (it may have been deleted)."""


@dataclass(frozen=True)
class Chat:
    id: int
    title: str
    model_id: str | None
    system_prompt: str
    created_at: str
    updated_at: str
    settings: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class Message:
    id: int
    chat_id: int
    parent_id: int | None
    role: str
    content: str
    created_at: str
    template_source: str | None
    stop_reason: str | None
    metadata: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class Branch:
    """Reply ``child_message_id`` left reply ``message_id`` at ``position`` by taking another token."""

    id: int
    message_id: int
    position: int
    chosen_token_id: int
    child_message_id: int
    created_at: str


@dataclass(frozen=True)
class ChatMatch:
    chat: Chat
    message_id: int | None  # the first message that matched; None when only the title did
    snippet: str


class ChatTree:
    """All messages of one chat, loaded once: paths, siblings and children without more queries."""

    def __init__(self, chat_id: int, messages: Sequence[Message]):
        self.chat_id = chat_id
        self.messages = {m.id: m for m in messages}
        self._children: dict[int | None, list[Message]] = {}
        for m in sorted(messages, key=lambda m: m.id):
            self._children.setdefault(m.parent_id, []).append(m)
        # The newest message in each subtree (children always have higher ids than their parents).
        self._newest = {m.id: m.id for m in messages}
        for m in sorted(messages, key=lambda m: m.id, reverse=True):
            if m.parent_id is not None and m.parent_id in self._newest:
                self._newest[m.parent_id] = max(self._newest[m.parent_id], self._newest[m.id])

    def __len__(self) -> int:
        return len(self.messages)

    def get(self, message_id: int) -> Message:
        try:
            return self.messages[message_id]
        except KeyError:
            raise MessageNotFound(f"message {message_id} is not in chat {self.chat_id}.") from None

    def children(self, message_id: int | None) -> list[Message]:
        """The replies to a message (``None``: the chat's first messages), oldest first."""
        return list(self._children.get(message_id, ()))

    def siblings(self, message_id: int) -> list[Message]:
        """The message and its alternatives (same parent), oldest first: the "‹ i/n ›" switcher."""
        return self.children(self.get(message_id).parent_id)

    def path(self, through: int | None = None) -> list[Message]:
        """Root → leaf through ``through`` (default: the chat's newest message).

        Below ``through`` it follows, at each level, the child whose subtree holds the newest message,
        so switching to an older sibling shows the conversation that was last continued from it.
        """
        if not self.messages:
            return []
        node = self.get(through if through is not None else max(self.messages))
        up = [node]
        while up[-1].parent_id is not None:
            up.append(self.messages[up[-1].parent_id])
        path = up[::-1]
        while kids := self._children.get(path[-1].id):
            path.append(max(kids, key=lambda m: self._newest[m.id]))
        return path
