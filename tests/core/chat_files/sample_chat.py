"""A chat written straight into the store with known tokens: every kind of message a chat file carries
(versions, a branch at a token, a thinking reply, a reply stopped at the length limit, a step-mode reply, an
edited question), the same text every time."""

from __future__ import annotations

import numpy as np

from desktop_app.core.store.chats import ChatStore
from desktop_app.core.store.reply_tokens import Candidates, ReplyToken

MODEL = "someone/Model-GGUF"


def token(token_id: int, text: str, p: float, *, picked: bool = False, u: float | None = 0.1) -> ReplyToken:
    """A token whose candidates are itself and the next two ids (probabilities that float32 rounds)."""
    ids = np.array([token_id, token_id + 1, token_id + 2])
    p_raw = np.array([p, (1 - p) * 0.7, (1 - p) * 0.3])
    p_final = np.array([min(1.0, p * 1.1), (1 - p) * 0.6, 0.0])
    if picked:
        return ReplyToken(token_id, text.encode(), p, None, None, True, Candidates(ids, p_raw, p_final), True)
    return ReplyToken(
        token_id, text.encode(), p, float(p_final[0]), u, False, Candidates(ids, p_raw, p_final)
    )


def reply_tokens(text: str, first_id: int) -> list[ReplyToken]:
    """One token per word of ``text`` (the space kept with the word after it)."""
    words = text.split(" ")
    pieces = [words[0]] + [" " + w for w in words[1:]]
    return [
        token(first_id + 10 * i, piece, 0.9 - 0.05 * i, u=0.1 + 0.03 * i) for i, piece in enumerate(pieces)
    ]


def build_sample_chat(store: ChatStore) -> int:
    chat = store.create_chat(
        "Capitals", model_id=MODEL, system_prompt="Answer in a few words.", settings={"plain": False}
    )
    settings = {"settings": {"temperature": 0.8, "seed": 7}, "model_id": MODEL}
    question = store.add_message(chat.id, "user", "What is the capital of France?")
    first = store.save_reply(
        chat.id, "Paris.", reply_tokens("Paris.", 100), parent_id=question.id, stop_reason="eog",
        template_source="gguf", metadata=settings,
    )  # fmt: skip
    # a branch at token 0: another token picked there, the rest rolled again
    picked = [token(101, "Lyon", 0.05, picked=True), token(300, "?", 0.6)]
    store.save_reply(
        chat.id, "Lyon?", picked, parent_id=question.id, stop_reason="eog", metadata=settings,
        branch_from=(first.id, 0),
    )  # fmt: skip
    thinking = "<think>\nThe user asks about France.\nIts capital is Paris.\n</think>\n\nIt is Paris."
    regenerated = store.save_reply(
        chat.id, thinking, reply_tokens(thinking, 400), parent_id=question.id, stop_reason="eog",
        metadata={**settings, "model_id": "other/Thinker-GGUF"},
    )  # fmt: skip
    italy = store.add_message(chat.id, "user", "And of Italy?", parent_id=regenerated.id)
    opened = "Italy's capital is well known.\n</think>\n\nRome is the capital of"
    cut = store.save_reply(
        chat.id, opened, reply_tokens(opened, 600), parent_id=italy.id, stop_reason="max_tokens",
        metadata={**settings, "thinking_opened": True},
    )  # fmt: skip
    count = store.add_message(chat.id, "user", "Count to three.", parent_id=cut.id)
    store.edit_message(count.id, "Count to three, please.")
    stepped = store.path(chat.id)[-1]
    store.save_reply(
        chat.id,
        "1, 2",
        reply_tokens("1, 2", 800),
        parent_id=stepped.id,
        stop_reason="step",
        metadata=settings,
    )
    return chat.id
