"""Generation on a server, in TokenDice's two ways.

* **Steps with TokenDice's die** (:meth:`RemoteSession.step`, :meth:`RemoteSession.generate`): each
  token is one request for one token with as many candidates as the server reports, before any of its
  samplers; TokenDice's own stages and die pick it (:mod:`reported`), and the next request carries it.
  With llama-server's prompt cache a step costs about one token. Needs token ids: llama-server's
  native API.
* **Streamed, sampled on the server** (:meth:`RemoteSession.stream`): a chat reply as the server
  generates it with the same settings, each token with the candidates it reports. Every server.

A step's Distribution keeps the server's view honest: the candidates it reported, the rest as one mass
(``rest_p_raw``), NaN where a number is not known.
"""

from __future__ import annotations

import random
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop_app.core.engine.distribution import Distribution
from desktop_app.core.remote.connection import Connection, RemoteError
from desktop_app.core.remote.remote_generation import RemoteGeneration
from desktop_app.core.remote.reported import REST, Judged, Reported, judge
from desktop_app.core.remote.server_info import NEEDS_IDS, NO_TEMPLATE, ServerInfo
from desktop_app.core.remote.streamed import StreamedReply, stream_reply
from desktop_app.core.sampler_settings import SamplerSettings

#: Ids for the candidates of a server that names tokens only by their text (one per distinct text).
_TEXT_IDS_FROM = -2
#: Steps whose report is kept for a slider re-run (as many as the local engine keeps logits for).
KEPT_STEPS = 256


@dataclass(frozen=True)
class RemotePrompt:
    """What the model reads: its text, and its token ids where the server gives them (native API)."""

    text: str
    tokens: tuple[int, ...] | None = None


class RemoteSession:
    """Generation over one connected server (``info`` from :func:`server_info.probe`). Call it from one
    thread; :meth:`cancel` from any."""

    def __init__(self, conn: Connection, info: ServerInfo) -> None:
        self.conn = conn
        self.info = info
        self.cancel_event = threading.Event()
        self._text_ids: dict[str, int] = {}
        self._text_of: dict[int, str] = {}
        self._pieces: dict[int, bytes] = dict(info.special_pieces)  # every token's bytes seen so far
        self._kept: OrderedDict[int, tuple[Reported, tuple[int, ...], float | None, int]] = OrderedDict()
        self.generation = 0  # the generation whose steps are kept (see Session.generation)

    def begin(self, generation: int) -> None:
        """A new reply: the steps kept are its own from now on (as a local session's logits are)."""
        self.generation = generation
        self._kept.clear()

    def cancel(self) -> None:
        self.cancel_event.set()

    def reset_cache(self) -> None:
        """Nothing to empty here: the server keeps its prompt cache for every client, and each step's
        numbers are its report, the same with or without it."""

    def _body(self, **fields: Any) -> dict[str, Any]:
        return ({"model": self.info.model} if self.info.model else {}) | fields

    # --- prompts -----------------------------------------------------------------------------------
    def render(self, messages: Sequence[dict]) -> str:
        """The prompt text the server's chat template makes of ``messages`` (llama-server only)."""
        if not self.info.native:
            raise RemoteError(NO_TEMPLATE[0].upper() + NO_TEMPLATE[1:] + ".", kind="unsupported")
        answer = self.conn.post("/apply-template", {"messages": list(messages)})
        prompt = answer.get("prompt") if isinstance(answer, dict) else None
        if not isinstance(prompt, str):
            raise RemoteError("The server's /apply-template answer has no prompt.", kind="malformed")
        return prompt

    def tokenize(self, text: str, *, special: bool = True, add_bos: bool = False) -> list[int]:
        if not self.info.native:
            raise RemoteError(NEEDS_IDS[0].upper() + NEEDS_IDS[1:] + ".", kind="unsupported")
        answer = self.conn.post(
            "/tokenize",
            {"content": text, "add_special": add_bos, "parse_special": special, "with_pieces": True},
        )
        return [t for t, _ in self._split(answer)]

    def prompt(self, text: str, *, chat: bool) -> RemotePrompt:
        """``text`` as the model reads it: a rendered chat prompt (``chat``: its special tokens parsed)
        or plain text (with the model's BOS, as llama.cpp adds it)."""
        if not self.info.native:
            return RemotePrompt(text)
        return RemotePrompt(
            text, tuple(self.tokenize(text, special=chat, add_bos=self.info.add_bos and not chat))
        )

    # --- one step with TokenDice's die -------------------------------------------------------------
    def reported(self, prompt: RemotePrompt, top_n: int | None = None) -> Reported:
        """The next token's candidates after ``prompt``, before any sampler."""
        want = min(top_n or self.info.max_candidates, self.info.max_candidates)
        if self.info.native:
            assert prompt.tokens is not None
            answer = self.conn.post(
                "/completion",
                self._body(
                    prompt=list(prompt.tokens),
                    n_predict=1,
                    n_probs=want,
                    samplers=["top_k"],  # its own pick is not used: the cheapest one
                    top_k=1,
                    cache_prompt=True,
                    post_sampling_probs=False,
                ),
            )
            probs = _first(answer.get("completion_probabilities"), "completion_probabilities")
            return self._native_candidates(probs.get("top_logprobs"))
        answer = self.conn.post(
            "/v1/completions", self._body(prompt=prompt.text, max_tokens=1, logprobs=want, temperature=0)
        )
        logprobs = _first(answer.get("choices"), "choices").get("logprobs") or {}
        return self._text_candidates(_first(logprobs.get("top_logprobs"), "top_logprobs"))

    def reported_chat(self, messages: Sequence[dict], top_n: int | None = None) -> Reported:
        """The first reply token's candidates for a chat the server formats with its own template
        (OpenAI-compatible ``/v1/chat/completions``, one token)."""
        want = min(top_n or self.info.max_candidates, self.info.max_candidates)
        answer = self.conn.post(
            "/v1/chat/completions",
            self._body(
                messages=list(messages), max_tokens=1, logprobs=True, top_logprobs=want, temperature=0
            ),
        )
        logprobs = _first(answer.get("choices"), "choices").get("logprobs") or {}
        return self._text_candidates(_first(logprobs.get("content"), "logprobs").get("top_logprobs"))

    def tokenize_pieces(self, text: str, *, special: bool = False) -> list[tuple[int, bytes]]:
        """How ``text`` is split into tokens, each with its bytes (llama-server's /tokenize)."""
        if not self.info.native:
            raise RemoteError(NEEDS_IDS[0].upper() + NEEDS_IDS[1:] + ".", kind="unsupported")
        answer = self.conn.post("/tokenize", {"content": text, "parse_special": special, "with_pieces": True})
        return self._split(answer)

    def _split(self, answer: Any) -> list[tuple[int, bytes]]:
        """A /tokenize answer's tokens with their bytes (a piece that is not whole UTF-8 comes as a list
        of byte values), each remembered for the window's labels. Plain ids (a server that ignores
        ``with_pieces``) come with no bytes."""
        tokens = answer.get("tokens") if isinstance(answer, dict) else None
        if not isinstance(tokens, list):
            raise RemoteError("The server's /tokenize answer has no tokens.", kind="malformed")
        out = []
        try:
            for t in tokens:
                if not isinstance(t, dict):
                    out.append((int(t), b""))
                    continue
                piece = t.get("piece", "")
                data = self._special_or(
                    int(t["id"]), bytes(piece) if isinstance(piece, list) else str(piece).encode()
                )
                out.append((int(t["id"]), data))
                self._pieces.setdefault(int(t["id"]), data)
        except (KeyError, TypeError, ValueError) as exc:
            raise RemoteError(f"The server's /tokenize answer is not as llama-server gives it ({exc}).",
                              kind="malformed") from None  # fmt: skip
        return out

    def _special_or(self, token: int, piece: bytes) -> bytes:
        """``piece``, or the text of a special token the server reports without bytes."""
        return piece or self.info.special_pieces.get(token, b"")

    def known_piece(self, token: int) -> bytes | None:
        """The bytes of ``token`` if a step or a prompt has shown them (no request)."""
        if token <= _TEXT_IDS_FROM:
            text = self._text_of.get(token)
            return text.encode() if text is not None else None
        return self._pieces.get(token)

    def step(
        self,
        tokens: Sequence[int],
        settings: SamplerSettings,
        *,
        u: float | None,
        forced: int | None = None,
        top_n: int | None = None,
    ) -> tuple[Judged, Distribution, bytes]:
        """The token after ``tokens`` (ids, native API), picked by TokenDice's die with roll ``u`` (None:
        greedy) or ``forced``: the step's judged candidates, its Distribution and the token's bytes. When
        the roll falls in the mass the server did not itemise, the server picks among those tokens.
        The step is kept (see :meth:`redistribute`)."""
        history = tuple(tokens)  # one copy: the request, the penalties and the kept step share it
        rep = self.reported(RemotePrompt("", history), top_n=top_n)
        judged = judge(
            rep, settings, history=history, eog_ids=self.info.eog_ids, n_vocab=self.info.n_vocab or 0
        )
        u = None if settings.greedy or forced is not None else u
        if forced is not None:
            chosen, piece = forced, self._piece(forced, rep)
        else:
            index = judged.roll(u)
            if index == REST:
                chosen, piece = self._from_rest(history, rep, settings)
            else:
                chosen, piece = int(rep.ids[index]), rep.pieces[index]
        d = judged.distribution(
            chosen, settings=settings, u=u, forced=forced is not None, n_vocab=self.info.n_vocab or 0
        )
        self._remember(len(history), rep, history, u, chosen)
        return judged, d, piece

    def redistribute(
        self, position: int, settings: SamplerSettings, *, generation: int | None = None
    ) -> Distribution:
        """The kept step at ``position`` judged again with new ``settings`` and its own roll (no request:
        the server's report is kept). Raises KeyError when that step is no longer kept (``generation``:
        the step's, as for :meth:`Session.redistribute`)."""
        if generation and generation != self.generation:
            raise KeyError(f"the step at {position} is no longer kept")
        rep, history, u, chosen = self._kept[position]
        judged = judge(
            rep, settings, history=history, eog_ids=self.info.eog_ids, n_vocab=self.info.n_vocab or 0
        )
        index = judged.roll(None if settings.greedy else u)
        pick = int(rep.ids[index]) if index != REST else chosen
        return judged.distribution(pick, settings=settings, u=None if settings.greedy else u,
                                   n_vocab=self.info.n_vocab or 0)  # fmt: skip

    def _remember(
        self, position: int, rep: Reported, history: tuple[int, ...], u: float | None, chosen: int
    ) -> None:
        self._kept[position] = (rep, history, u, chosen)
        self._kept.move_to_end(position)
        while len(self._kept) > KEPT_STEPS:
            self._kept.popitem(last=False)

    def _from_rest(
        self, tokens: Sequence[int], rep: Reported, settings: SamplerSettings
    ) -> tuple[int, bytes]:
        """A token the server did not report, picked by the server with the reported ones banned and
        only the temperature applied: what TokenDice's die asks for when its roll falls in the rest."""
        answer = self.conn.post(
            "/completion",
            self._body(
                prompt=list(tokens),
                n_predict=1,
                n_probs=1,
                samplers=["temperature"],
                temperature=max(settings.temperature, 1e-3),
                logit_bias=[[int(t), False] for t in rep.ids],
                seed=random.getrandbits(31),
                cache_prompt=True,
                return_tokens=True,
            ),
        )
        probs = answer.get("completion_probabilities")
        picked = answer.get("tokens")
        if not probs and isinstance(picked, list) and picked and isinstance(picked[0], int):
            # llama-server holds back a token that ends mid-character, its probabilities with it: the
            # token is known by its id, its bytes where a step reported them (else none: see token_pieces).
            token = int(picked[0])
            return token, self._pieces.get(token, b"")
        first = _first(probs, "completion_probabilities")
        return int(first["id"]), self._special_or(int(first["id"]), _bytes_of(first))

    def _piece(self, token: int, rep: Reported) -> bytes:
        hit = np.flatnonzero(rep.ids == token)
        if hit.size:
            return rep.pieces[int(hit[0])]
        return self.token_pieces([token])[0]

    def token_pieces(self, ids: Sequence[int]) -> list[bytes]:
        """The bytes of tokens: those seen in a step's candidates, else as llama-server detokenizes them
        one by one (whole characters only: a token that ends mid-character loses those bytes)."""
        out = []
        for t in ids:
            piece = self._pieces.get(int(t))
            if piece is None:
                text = self.conn.post("/detokenize", {"tokens": [int(t)]}).get("content", "")
                piece = self._pieces[int(t)] = str(text).encode()
            out.append(piece)
        return out

    # --- a reply step by step ----------------------------------------------------------------------
    def generate(
        self,
        tokens: Sequence[int],
        settings: SamplerSettings,
        *,
        max_tokens: int = 256,
        stop: Sequence[str] = (),
        top_n: int | None = None,
        forced: Sequence[int] = (),
        reply_start: int | None = None,
    ) -> RemoteGeneration:
        """A reply after ``tokens``, one step (one request) per token, every token picked by TokenDice's
        die; the same arguments and stop reasons as the local :meth:`Session.generate`."""
        return RemoteGeneration(self, list(tokens), settings, max_tokens=max_tokens, stop=tuple(stop),
                                top_n=top_n, forced=list(forced), reply_start=reply_start)  # fmt: skip

    # --- streamed, sampled on the server -----------------------------------------------------------
    def stream(
        self,
        settings: SamplerSettings,
        *,
        prompt: RemotePrompt | None = None,
        messages: Sequence[dict] | None = None,
        max_tokens: int = 256,
        stop: Sequence[str] = (),
        top_n: int = 5,
    ) -> StreamedReply:
        """A reply generated by the server with ``settings``, as it streams: each token with the
        candidates it reports. ``messages``: a chat the server formats (OpenAI servers); else
        ``prompt``."""
        return stream_reply(
            self, settings, prompt=prompt, messages=messages, max_tokens=max_tokens, stop=stop, top_n=top_n
        )

    # --- candidates --------------------------------------------------------------------------------
    def _native_candidates(self, top: Any) -> Reported:
        if not isinstance(top, list) or not top:
            raise RemoteError("The server reported no candidates for the step.", kind="malformed")
        try:
            ids = np.array([int(c["id"]) for c in top], dtype=np.int64)
            logprobs = np.array([float(c["logprob"]) for c in top], dtype=np.float64)
            pieces = tuple(self._special_or(int(c["id"]), _bytes_of(c)) for c in top)
        except (KeyError, TypeError, ValueError) as exc:
            raise RemoteError(f"The server's candidates are not as llama-server gives them ({exc}).",
                              kind="malformed") from None  # fmt: skip
        self._pieces.update(zip(ids.tolist(), pieces, strict=True))
        return Reported(ids, logprobs, pieces)

    def _text_candidates(self, top: Any) -> Reported:
        """Candidates named by text (``{text: logprob}`` or ``[{"token", "logprob"}]``): each text gets
        an id of its own, negative, the same for the whole session."""
        named: list[tuple[str, Any]] = []
        if isinstance(top, dict):
            named = [(str(k), v) for k, v in top.items()]
        elif isinstance(top, list):
            named = [(str(c.get("token", "")), c.get("logprob")) for c in top if isinstance(c, dict)]
        try:
            pairs = sorted(((t, float(lp)) for t, lp in named), key=lambda p: -p[1])
        except (TypeError, ValueError):
            pairs = []
        if not pairs:
            raise RemoteError("The server reported no candidates for the step.", kind="malformed")
        ids = np.array([self.text_id(t) for t, _ in pairs], dtype=np.int64)
        logprobs = np.array([lp for _, lp in pairs], dtype=np.float64)
        return Reported(ids, logprobs, tuple(t.encode() for t, _ in pairs))

    def text_id(self, text: str) -> int:
        """The id standing for a token a server named only by ``text``."""
        known = self._text_ids.get(text)
        if known is None:
            known = self._text_ids[text] = _TEXT_IDS_FROM - len(self._text_ids)
            self._text_of[known] = text
        return known


def _first(items: Any, name: str) -> dict:
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        raise RemoteError(f"The server's answer has no {name}.", kind="malformed")
    return items[0]


def _bytes_of(candidate: dict) -> bytes:
    """A native candidate's bytes (its text where the server gives no bytes)."""
    data = candidate.get("bytes")
    return bytes(data) if data else str(candidate.get("token", "")).encode()
