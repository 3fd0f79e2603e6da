"""``tokendice chat``: a multi-turn chat in the terminal, streamed, saved in the window's database.

It drives the same :class:`~desktop_app.core.conversation.conversation.Conversation` as the window, over
a model in this process (:class:`~desktop_app.core.conversation.local.LocalChat`), so a chat made here
opens in the window with the same tree, and the other way round. Each input line is a message, or one
of the commands in :data:`HELP`. With ``--json`` every line on stdin is read the same way and every
event is one JSON object on one line of stdout; without it the reply streams as text and everything
else (the chat's number, a command's answer, an error) goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from desktop_app.cli.args import whole
from desktop_app.cli.errors import CliError
from desktop_app.cli.step_json import step_data
from desktop_app.core.conversation.reports import (
    REFUSED_BUSY,
    REFUSED_NO_MODEL,
    REFUSED_NOTHING,
    REFUSED_READ_ONLY,
    REFUSED_STORE,
    Listener,
    ReplyDone,
)
from desktop_app.core.engine.session import Step

HELP = """commands:
  /regen            a new reply to the last question (the old one stays as another version)
  /back             take the last token of the reply back
  /step             one token more (of the reply, or the first of a reply to the last question)
  /branch N [K]     the last reply again from its token N (1 is the first): the die rolls there
                    anew, or with K the K-th most likely token there is taken
  /prev, /next      the previous / next version of the last reply
  /system TEXT      the system prompt (/system alone clears it)
  /probs [N]        the distribution of the last reply's token N (default: its last token)
  /new              a new chat
  /help             this list
  /quit             leave (so does the end of the input)"""

REFUSALS = {
    REFUSED_BUSY: "a reply is being generated",
    REFUSED_NO_MODEL: "no model is loaded",
    REFUSED_READ_ONLY: "another TokenDice window holds the data folder: chats cannot be saved from here",
    REFUSED_NOTHING: "there is nothing to do that to",
    REFUSED_STORE: "the database could not save it",
}


def register(sub: Any, json_flag: Callable[[argparse.ArgumentParser], None]) -> dict[str, Callable]:
    from desktop_app.cli.args import add_sampling_flags
    from desktop_app.cli.engine import add_model_flags

    chat = sub.add_parser(
        "chat",
        help="chat in the terminal, streamed and saved with the window's chats",
        description="Chat with a model in the terminal. Each line is a message or a command "
        "(/help lists them). With --json, stdin is read line by line and every event is one JSON "
        "object per line on stdout.",
    )
    add_model_flags(chat)  # (includes --json and --server)
    which = chat.add_mutually_exclusive_group()
    which.add_argument("--resume", type=whole(1), metavar="ID", help="go on with saved chat ID")
    which.add_argument("--new", action="store_true", help="start a new chat (the default)")
    chat.add_argument("--system", metavar="TEXT", help="the system prompt of a new chat")
    chat.add_argument("--max-tokens", type=whole(1), default=512, metavar="N", help="a reply's length (512)")
    add_sampling_flags(chat)
    return {"chat": cmd_chat}


# --- output -----------------------------------------------------------------------------------------


class _Output(Listener):
    """Writes what the conversation reports: text to a terminal, or one JSON object per event."""

    def __init__(self, as_json: bool) -> None:
        self.json = as_json
        self.tokens = 0  # of the reply being streamed
        self.saved: Callable[[], int] = lambda: 0  # how many messages the chat shown holds

    def event(self, kind: str, **data: Any) -> None:
        if self.json:
            sys.stdout.write(json.dumps({"event": kind, **data}, ensure_ascii=False) + "\n")
            sys.stdout.flush()

    def say(self, text: str) -> None:
        """A line for the person at the terminal (stderr: stdout is the conversation)."""
        if not self.json:
            print(text, file=sys.stderr, flush=True)

    def error(self, message: str) -> None:
        if self.json:
            self.event("error", message=message)
        else:
            print(f"tokendice: {message}", file=sys.stderr, flush=True)

    def reply_started(self, index: int, kept: list) -> None:
        self.tokens = len(kept)
        if not self.json and kept:
            sys.stdout.write("".join(t.text for t in kept))
        self.event("reply_started", kept_tokens=len(kept))

    def streamed(self, index: int, steps: list[Step], latest: object) -> None:
        for step in steps:
            self.tokens += 1
            if self.json:
                self.event("token", token=self.tokens, **step_data(step))
            else:
                sys.stdout.write(step.text)
        sys.stdout.flush()

    def reply_done(self, done: ReplyDone) -> None:
        result = done.event.result
        message = done.message
        if self.json:
            self.event(
                "reply",
                message_id=message.id if message else None,
                text=message.content if message else "".join(t.text for t in done.tokens),
                stop_reason=done.stop_reason,
                tokens=len(done.tokens),
                decode_tokens_per_s=None if done.one_step else round(result.decode_tokens_per_s, 3),
                saved=done.unsaved is None,
            )
            return
        sys.stdout.write("\n")
        sys.stdout.flush()
        speed = "" if done.one_step else f", {result.decode_tokens_per_s:.1f} tokens/s"
        self.say(f"[{done.stop_reason}: {len(done.tokens)} tokens{speed}]")

    def reply_failed(self, index: int, message: str) -> None:
        if not self.json:
            sys.stdout.write("\n")
        self.error(f"no reply: {message}")

    def store_failed(self, sentence: str) -> None:
        self.error(f"not saved: {sentence}")

    def chat_opened(self, chat_id: int | None) -> None:
        if chat_id is not None:
            self.event("chat", chat_id=chat_id, messages=self.saved())
            self.say(f"[chat {chat_id}: {self.saved()} messages]")


# --- the loop ---------------------------------------------------------------------------------------


def _lines() -> Iterator[str]:
    """Input lines (not UTF-8 bytes become U+FFFD); a prompt on stderr when a person types them."""
    from desktop_app.core.safe_text import decoded

    stream = getattr(sys.stdin, "buffer", None)
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            print("you> ", end="", file=sys.stderr, flush=True)
        raw = stream.readline() if stream is not None else sys.stdin.readline().encode()
        if not raw:
            return
        yield decoded(raw).rstrip("\r\n")


class _Interrupts:
    """Ctrl+C stops the reply being generated (it is saved as stopped); at the prompt it ends the chat.
    The copy of the signal that ``tokendice``'s guard relays is ignored."""

    def __init__(self, conversation) -> None:
        self.conversation = conversation
        self.stopped_at = 0.0
        self.previous = signal.signal(signal.SIGINT, self)

    def __call__(self, signum: int, frame: object) -> None:
        now = time.monotonic()
        if self.conversation.busy:
            self.stopped_at = now
            self.conversation.stop()
        elif now - self.stopped_at > 0.5:
            raise KeyboardInterrupt

    def close(self) -> None:
        signal.signal(signal.SIGINT, self.previous)


def cmd_chat(args: argparse.Namespace) -> int:
    from desktop_app.cli.engine import _settings, engine_config
    from desktop_app.core.conversation.local import LoadFailed, LocalChat
    from desktop_app.core.engine.messages import LoadRequest
    from desktop_app.core.services import Services
    from desktop_app.core.store.chats import ChatNotFound

    settings = _settings(args)
    out = _Output(args.json)
    services = Services.open(read_only_if_locked=True)
    try:
        if services.read_only:
            raise CliError(f"chats cannot be saved from here: {services.read_only_reason}")
        model_spec = args.model
        if args.resume is not None:
            try:
                chat = services.chats.get_chat(args.resume)
            except ChatNotFound:
                raise CliError(f"there is no chat {args.resume} (tokendice chats list shows them)") from None
            if model_spec is None and chat.model_id and _in_library(services.library, chat.model_id):
                model_spec = chat.model_id  # the model it was made with, while it is in the library
        if args.server:
            from desktop_app.cli.remote import server_request
            from desktop_app.core.conversation.remote_chat import RemoteChat

            request, direct = server_request(args), RemoteChat(services.chats, out)
        else:
            entry = services.library.resolve(model_spec)
            if not entry.usable:
                raise CliError(entry.error or f"the model {entry.id} cannot be used")
            config = engine_config(args, services.settings.settings)
            request = LoadRequest(entry.path, config, entry.id, entry.display_name)
            direct = LocalChat(services.chats, out)
        with direct as local:
            try:
                model = local.load(request)
            except LoadFailed as exc:
                raise CliError(str(exc)) from None
            conv = local.conversation
            out.saved = lambda: len(conv.path)
            conv.settings = settings
            conv.max_tokens = args.max_tokens
            out.event("model", id=model.model_id, name=model.display_name, n_vocab=model.n_vocab)
            if args.resume is not None:
                conv.open_chat(args.resume)
            if args.system is not None:
                conv.set_system_prompt(args.system)
            out.say(f"[{model.display_name}; /help lists the commands]")
            interrupts = _Interrupts(conv)
            try:
                for line in _lines():
                    if not _one_line(line, local, out):
                        break
            finally:
                interrupts.close()
    finally:
        services.close()
    return 0


def _in_library(library, model_id: str) -> bool:
    from desktop_app.core.models.library import ModelNotFound

    try:
        return library.get(model_id).usable
    except ModelNotFound:
        return False


def _one_line(line: str, local, out: _Output) -> bool:
    """Act on one input line; False to leave."""
    conv = local.conversation
    if not line.strip():
        return True
    if not line.startswith("/"):
        refused = conv.send(line.strip())
        if refused is not None and refused != REFUSED_STORE:  # (the store's sentence was reported)
            out.error(REFUSALS[refused])
        return True
    command, _, rest = line[1:].partition(" ")
    rest = rest.strip()
    if command in ("quit", "exit", "q"):
        return False
    if command == "help":
        if out.json:
            out.event("help", text=HELP)
        else:
            print(HELP, file=sys.stderr)
        return True
    handler = _COMMANDS.get(command)
    if handler is None:
        out.error(f"unknown command /{command} (/help lists the commands)")
        return True
    try:
        refused = handler(local, rest, out)
    except ValueError as exc:
        out.error(str(exc))
        return True
    if refused is not None and refused != REFUSED_STORE:
        out.error(REFUSALS[refused])
    return True


def _last_reply(conv) -> int:
    """The index of the last reply shown; ValueError when there is none."""
    if not conv.path or conv.path[-1].role != "assistant":
        raise ValueError("there is no reply yet")
    return len(conv.path) - 1


def _number(text: str, what: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise ValueError(f"{what} must be a whole number, not {text!r}") from None
    if n < 1:
        raise ValueError(f"{what} must be 1 or more")
    return n


def _regen(local, rest: str, out: _Output):
    return local.conversation.regenerate()


def _back(local, rest: str, out: _Output):
    conv = local.conversation
    refused = conv.step_back()
    if refused is None:
        left = len(conv.messages[-1].tokens) if conv.path and conv.path[-1].role == "assistant" else 0
        out.event("back", tokens=left, text=conv.messages[-1].content if left else "")
        out.say(f"[{left} tokens] {conv.messages[-1].content if left else '(the reply is gone)'}")
    return refused


def _step(local, rest: str, out: _Output):
    return local.conversation.step_next(rest)


def _branch(local, rest: str, out: _Output):
    conv = local.conversation
    parts = rest.split()
    if not 1 <= len(parts) <= 2:
        raise ValueError("/branch takes a token's number and, if you like, a candidate's rank: /branch 3 2")
    index = _last_reply(conv)
    n = _number(parts[0], "the token's number")
    tokens = conv.messages[index].tokens
    if n > len(tokens):
        raise ValueError(f"the last reply has {len(tokens)} tokens")
    token = None
    if len(parts) == 2:
        k = _number(parts[1], "the candidate's rank")
        candidates = _distribution(local, index, n - 1)
        if candidates is None:
            raise ValueError(f"token {n} has no stored distribution to choose from")
        ids = [int(t) for t in candidates.candidates[:k]]  # by the model's own probability
        if k > len(ids):
            raise ValueError(f"token {n} has {len(ids)} stored candidates")
        token = ids[k - 1]
    return conv.pick_token(index, n - 1, token)


def _switch(delta: int):
    def switch(local, rest: str, out: _Output):
        conv = local.conversation
        index = _last_reply(conv)
        refused = conv.switch_sibling(index, delta)
        if refused is None:
            m = conv.messages[index]
            out.event("version", index=m.sibling_index + 1, of=m.sibling_count, text=m.content)
            out.say(f"[version {m.sibling_index + 1} of {m.sibling_count}] {m.content}")
        return refused

    return switch


def _system(local, rest: str, out: _Output):
    local.conversation.set_system_prompt(rest)
    out.event("system", text=rest)
    out.say("[system prompt cleared]" if not rest else "[system prompt set]")


def _new(local, rest: str, out: _Output):
    refused = local.conversation.new_chat()
    if refused is None:
        out.event("chat", chat_id=None)
        out.say("[a new chat: it is saved with its first message]")
    return refused


def _distribution(local, index: int, position: int):
    model = local.model
    t = local.conversation.messages[index].tokens[position]
    return t.distribution(model.n_vocab, model.eog_ids)


def _probs(local, rest: str, out: _Output, top: int = 10):
    conv = local.conversation
    index = _last_reply(conv)
    tokens = conv.messages[index].tokens
    if not tokens:
        raise ValueError("the last reply has no tokens")
    n = _number(rest, "the token's number") if rest else len(tokens)
    if n > len(tokens):
        raise ValueError(f"the last reply has {len(tokens)} tokens")
    d = _distribution(local, index, n - 1)
    if d is None:
        raise ValueError(f"token {n} was put in, not rolled: it has no distribution")
    chosen = tokens[n - 1]

    def candidate(i: int) -> dict[str, Any]:
        token = int(d.candidates[i])
        view = local.token_view(token)
        end = token in local.model.eog_ids
        p_raw, p_final = float(d.p_raw[i]), float(d.p_final[i])
        return {
            "id": token,
            "label": view.label,
            "piece": view.text,
            "p_raw": p_raw,
            "p_final": p_final,
            "end": end,
        }

    ranked = [candidate(i) for i in range(min(top, len(d.candidates)))]  # by the model's own probability
    picked = candidate(int(np.flatnonzero(d.candidates == chosen.token_id)[0]))
    data = {"token": n, "chosen": picked, "u": chosen.u, "candidates": ranked}
    if out.json:
        out.event("probs", **data)
        return None
    print(f"token {n}: {chosen.label!r}" + (f", the die rolled u = {chosen.u:.4f}" if chosen.u else ""))
    print(f"{'token':>24}  {'id':>7}  {'p(model)':>9}  {'p(final)':>9}")
    rows = ranked if picked in ranked else [*ranked, picked]
    for c in rows:
        mark = "  ← chosen" if c["id"] == chosen.token_id else ("  ← end" if c["end"] else "")
        print(f"{c['label'][:24]:>24}  {c['id']:>7}  {c['p_raw']:9.2%}  {c['p_final']:9.2%}{mark}")
    return None


_COMMANDS: dict[str, Callable[..., str | None]] = {
    "regen": _regen,
    "back": _back,
    "step": _step,
    "branch": _branch,
    "prev": _switch(-1),
    "next": _switch(+1),
    "system": _system,
    "new": _new,
    "probs": _probs,
}
