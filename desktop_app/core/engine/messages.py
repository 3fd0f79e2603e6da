"""The messages between the app and a model's backend: requests in, events out, all plain picklable data.

A request (:class:`LoadRequest`, :class:`GenerateRequest`, :class:`CompareRequest`) names what to do; an
event (the kinds of :data:`EVENTS`, carrying :class:`LoadedModel`, :class:`StepEvent`,
:class:`FinishedEvent`, …) reports what happened. They cross a process boundary as they are (pickled), so
nothing in them holds llama.cpp, the logits or a compiled template: a step's Distribution is computed
whole, a template travels as :class:`TemplateInfo`, and a loaded model's pieces as one
:class:`Vocabulary`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from desktop_app.core.engine.chat import ChatPrompt
from desktop_app.core.engine.engine import EngineConfig
from desktop_app.core.engine.gpu import LoadReport
from desktop_app.core.engine.session import GenerationResult, Step
from desktop_app.core.engine.tokens import token_piece
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.store.reply_tokens import ReplyToken

if TYPE_CHECKING:
    from desktop_app.core.engine.engine import Engine

#: Candidates kept per saved token (the chart shows at most 50).
SAVED_TOP_N = 50
_REQUEST_IDS = itertools.count(1)  # one sequence for every kind of request, so ids never collide

#: Every kind of event a backend reports, with its arguments.
EVENTS = (
    "probed",  # BackendInfo: the devices llama.cpp can use
    "loaded",  # LoadedModel
    "load_failed",  # sentence
    "unloaded",  # —
    "prompt_ready",  # PromptEvent
    "step",  # StepEvent
    "finished",  # FinishedEvent
    "failed",  # request id, sentence
    "redistributed",  # position, Distribution
    "rendered",  # PromptEvent (request id 0): the prompt of a conversation, not generated
    "compare_step",  # CompareStep
    "compared",  # request id, Comparison
    "tokenized",  # the text, its token ids, their pieces (bytes)
    "template_failed",  # the template's error sentence, its line (int or None)
    "busy",  # bool
    "stats",  # dict: what the engine has done (tokens decoded, cache rebuilds)
    "incoming",  # IncomingEvent: a served request from another program starts (its steps follow)
)

# Sentences the window translates (it knows them by these keys).
NO_MODEL = "no model is loaded: load one on the Models page"


# --- requests --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadRequest:
    path: Path
    config: EngineConfig
    model_id: str
    display_name: str
    template_override: str | None = None


@dataclass(frozen=True)
class GenerateRequest:
    messages: tuple[dict, ...]  # the conversation so far, ending with the user's message
    settings: SamplerSettings
    max_tokens: int = 512
    forced: tuple[int, ...] = ()  # tokens to take instead of rolls (picking a bar in the chart)
    prefix: tuple[int, ...] = ()  # reply tokens kept before forced ones (branching mid-reply)
    plain: bool = False  # no chat template: the model continues the joined texts
    request_id: int = field(default_factory=lambda: next(_REQUEST_IDS))


@dataclass(frozen=True)
class CompareRequest:
    messages: tuple[dict, ...]
    settings: SamplerSettings
    answers: int = 3
    max_tokens: int = 48
    plain: bool = False
    request_id: int = field(default_factory=lambda: next(_REQUEST_IDS))


# --- events ----------------------------------------------------------------------------------------
class Vocabulary:
    """Every token's bytes, in one blob with offsets: the window's copy of the model's pieces (a few MB
    even for a 262,144-token vocabulary, and one buffer to send, not a dict of a quarter million)."""

    __slots__ = ("_blob", "_offsets")

    def __init__(self, blob: bytes, offsets: np.ndarray) -> None:
        self._blob = blob
        self._offsets = offsets

    @classmethod
    def of(cls, engine: Engine) -> Vocabulary:
        # Straight from llama.cpp: Engine.piece would also keep every piece in its own cache.
        pieces = [token_piece(engine.vocab, t, special=True) for t in range(engine.n_vocab)]
        offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in pieces], out=offsets[1:])
        return cls(b"".join(pieces), offsets)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def piece(self, token: int) -> bytes:
        """The bytes of ``token`` (empty for an id outside the vocabulary)."""
        if not 0 <= token < len(self):
            return b""
        return self._blob[self._offsets[token] : self._offsets[token + 1]]

    def __reduce__(self):
        return (Vocabulary, (self._blob, self._offsets))


class Pieces(Protocol):
    """Where the window finds a token's bytes: a local model's whole :class:`Vocabulary`, or the
    pieces a server has shown so far."""

    def __len__(self) -> int: ...
    def piece(self, token: int) -> bytes: ...


@dataclass(frozen=True)
class TemplateInfo:
    """What the window shows of a chat template (the compiled template stays with the engine)."""

    source_text: str
    origin: str


@dataclass(frozen=True)
class LoadedModel:
    model_id: str
    display_name: str
    path: Path | None  # the GGUF file (None: the model runs on a server)
    n_ctx: int
    n_vocab: int
    eog_ids: frozenset[int]
    report: LoadReport | None  # how llama.cpp loaded it here (None: on a server)
    template_source: str
    template_origin: str
    has_template: bool
    vocab: Pieces | None = None  # the pieces, for labels in the window
    pid: int | None = None  # the engine process that holds the model (None: in this process)
    zh_share: float | None = None  # common Chinese characters that are whole tokens (coverage.py)
    server: str | None = None  # the server's address when the model runs on one
    # What the server cannot give, and why: ("step" | "branch" | "template" | "tokens", sentence) pairs.
    unavailable: tuple[tuple[str, str], ...] = ()
    # The close of a thinking (</think>) as this vocabulary writes it: one token, or several.
    think_close_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class CompareStep:
    request_id: int
    answer: int
    step: Step


@dataclass(frozen=True)
class StepEvent:
    request_id: int
    step: Step


@dataclass(frozen=True)
class PromptEvent:
    request_id: int
    prompt: ChatPrompt
    previous_tokens: tuple[int, ...]


@dataclass(frozen=True)
class FinishedEvent:
    request_id: int
    result: GenerationResult
    prompt_tokens: int
    tokens: tuple[ReplyToken, ...]  # the reply's tokens with their candidates, ready to be saved
    template_origin: str


@dataclass(frozen=True)
class IncomingEvent:
    """A request another program sent to the served model starts being answered, shown in the window as
    it generates (the projector). Its ``prompt_ready`` (for a chat), ``step`` and ``finished`` (or
    ``failed``) events follow with the same ``request_id``, which is negative: never one of the
    window's own."""

    request_id: int
    source: str  # the client's address, e.g. "127.0.0.1"
    messages: tuple[dict, ...]  # a chat's messages as sent; a completion's prompt as one user message
    plain: bool  # a completion: the prompt is continued as it is, no chat template
    settings: SamplerSettings
    max_tokens: int
    # A completion's prompt as tokens (a chat's is rendered from its messages): a client that continues
    # its own text a token at a time (TokenDice's die on a server) sends each time the last prompt and
    # the tokens it chose since.
    prompt_ids: tuple[int, ...] = ()

    def as_request(self) -> GenerateRequest:
        """The request, as the window's own reply requests are (what it streams and saves)."""
        return GenerateRequest(
            self.messages, self.settings, self.max_tokens, plain=self.plain, request_id=self.request_id
        )


def portable(prompt: ChatPrompt) -> ChatPrompt:
    """``prompt`` with its compiled template replaced by what the window shows of it."""
    return replace(prompt, template=TemplateInfo(prompt.template.source_text, prompt.template.origin))


def saved_tokens(steps: list[Step]) -> tuple[ReplyToken, ...]:
    """The reply's tokens with their candidates for the database; each step's logits reference dropped."""
    saved = []
    for step in steps:
        saved.append(ReplyToken.from_step(step, SAVED_TOP_N))
        if step.distribution is not None:
            step.distribution.release()
    return tuple(saved)
