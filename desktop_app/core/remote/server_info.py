"""What a server can give, probed when TokenDice connects: which API it speaks, its models, context size,
chat template and tokenizer, and how many candidates a step may report. What it cannot give is named
with the reason (:meth:`ServerInfo.missing`), so the app greys it out instead of faking it."""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop_app.core.remote.connection import Connection, RemoteError

LLAMA_SERVER = "llama-server"  # llama.cpp's own server, native API: token ids, tokenizer, template
OPENAI = "openai"  # any OpenAI-compatible server: candidates named by their text

#: Candidates asked for per step from a server without a known cap (llama-server has none below the
#: vocabulary; the chart shows at most 50).
WANTED_CANDIDATES = 50
#: OpenAI-compatible servers' usual cap on ``top_logprobs`` (vLLM without --max-logprobs, Ollama, the
#: OpenAI API); a larger answer raises it.
OPENAI_CAP = 20

# Why a feature is greyed out (keys of ServerInfo.missing).
NEEDS_IDS = "this server names tokens by their text, not their ids: it needs llama-server's native API"
NO_TEMPLATE = "this server does not show its chat template: the chat is formatted on the server"


@dataclass(frozen=True)
class ServerInfo:
    """A connected server's capabilities. ``model``: the model requests name (None: the server's only
    one); ``max_candidates``: the most candidates one step reports; ``eog_ids``: the end-of-generation
    tokens (native API only)."""

    kind: str
    model: str | None
    models: tuple[str, ...]
    max_candidates: int
    n_ctx: int | None = None
    n_vocab: int | None = None
    chat_template: str | None = None
    eog_ids: frozenset[int] = frozenset()
    bos_text: str = ""
    eos_text: str = ""
    add_bos: bool = False
    missing: dict[str, str] = field(default_factory=dict)
    # The texts of the special tokens the server names (BOS, EOS, end of turn), by id: llama-server
    # reports such a candidate with no bytes, and the chart labels it with these.
    special_pieces: dict[int, bytes] = field(default_factory=dict)

    @property
    def native(self) -> bool:
        return self.kind == LLAMA_SERVER

    @property
    def model_name(self) -> str:
        """The model's name as the server gives it (a file's name, without its folders)."""
        name = self.model or (self.models[0] if self.models else "")
        return name.replace("\\", "/").rsplit("/", 1)[-1] or "its model"

    def describe(self) -> str:
        """One line for the status bar and ``tokendice info``."""
        what = "llama-server" if self.native else "an OpenAI-compatible server"
        ctx = f", context {self.n_ctx:,}" if self.n_ctx else ""
        return f"{self.model_name} on {what}{ctx}, up to {self.max_candidates} candidates a step"


def probe(conn: Connection, model: str | None = None) -> ServerInfo:
    """Ask the server what it is and what it serves. ``model``: the one to use (required when it serves
    several); a name it does not serve is an error that lists those it does."""
    models, meta = _models(conn)
    if model is not None and models and model not in models:
        listed = ", ".join(models[:8]) + (" …" if len(models) > 8 else "")
        raise RemoteError(
            f"{conn.address.base} does not serve a model called {model!r}; it serves: {listed}.",
            kind="not_found",
        )
    if model is None and len(models) > 1:
        model = models[0]  # the first, as the server lists them; --server-model chooses another
    props = _props(conn)
    if props is not None:
        return _native(conn, props, model, models, meta.get(model or (models[0] if models else ""), {}))
    return _openai(conn, model, models, meta)


def _models(conn: Connection) -> tuple[tuple[str, ...], dict[str, dict]]:
    listing = conn.get("/v1/models")
    data = listing.get("data") if isinstance(listing, dict) else None
    if not isinstance(data, list):
        raise RemoteError(
            f"{conn.address.base}/v1/models did not list models: is this a model server?", kind="malformed"
        )
    names = tuple(str(m["id"]) for m in data if isinstance(m, dict) and "id" in m)
    meta = {str(m["id"]): (m.get("meta") or {}) | {"max_model_len": m.get("max_model_len")} for m in data
            if isinstance(m, dict) and "id" in m}  # fmt: skip
    return names, meta


def _props(conn: Connection) -> dict | None:
    """llama-server's /props (None on a server without it)."""
    try:
        props = conn.get("/props")
    except RemoteError as exc:
        if exc.status in (404, 405) or exc.kind == "malformed":
            return None
        raise
    return props if isinstance(props, dict) and "default_generation_settings" in props else None


def _native(
    conn: Connection, props: dict, model: str | None, models: tuple[str, ...], meta: dict
) -> ServerInfo:
    settings = props.get("default_generation_settings") or {}
    n_ctx = settings.get("n_ctx") or props.get("n_ctx")
    eog: set[int] = set()
    specials: dict[int, bytes] = {}
    for name in ("bos_token", "eos_token", "eot_token"):
        text = props.get(name)
        if isinstance(text, str) and text:
            ids = conn.post("/tokenize", {"content": text, "parse_special": True}).get("tokens", [])
            if len(ids) == 1:
                specials[int(ids[0])] = text.encode()
                if name != "bos_token":
                    eog.add(int(ids[0]))
    bos = props.get("bos_token") if isinstance(props.get("bos_token"), str) else ""
    with_bos = conn.post("/tokenize", {"content": "a", "add_special": True}).get("tokens", [])
    without = conn.post("/tokenize", {"content": "a", "add_special": False}).get("tokens", [])
    template = props.get("chat_template") if isinstance(props.get("chat_template"), str) else None
    return ServerInfo(
        kind=LLAMA_SERVER,
        model=model,
        models=models,
        max_candidates=WANTED_CANDIDATES,
        n_ctx=int(n_ctx) if n_ctx else None,
        n_vocab=int(meta["n_vocab"]) if meta.get("n_vocab") else None,
        chat_template=template,
        eog_ids=frozenset(eog),
        bos_text=bos or "",
        eos_text=props["eos_token"] if isinstance(props.get("eos_token"), str) else "",
        add_bos=len(with_bos) > len(without),
        missing={} if template else {"template": NO_TEMPLATE},
        special_pieces=specials,
    )


def _openai(conn: Connection, model: str | None, models: tuple[str, ...], meta: dict) -> ServerInfo:
    cap = _candidate_cap(conn, model or (models[0] if models else None))
    length = (meta.get(model or (models[0] if models else ""), {}) or {}).get("max_model_len")
    return ServerInfo(
        kind=OPENAI,
        model=model,
        models=models,
        max_candidates=cap,
        n_ctx=int(length) if length else None,
        missing={"step": NEEDS_IDS, "branch": NEEDS_IDS, "template": NO_TEMPLATE, "tokens": NEEDS_IDS},
    )


def _candidate_cap(conn: Connection, model: str | None) -> int:
    """How many candidates a step may report: ask for the chart's worth in one token and count what
    comes back; a server that refuses that many (vLLM's cap, for one) is asked for its usual cap."""
    body = {"prompt": "The", "max_tokens": 1, "temperature": 0}
    if model:
        body["model"] = model
    for asked in (WANTED_CANDIDATES, OPENAI_CAP, 5):
        try:
            answer = conn.post("/v1/completions", body | {"logprobs": asked})
        except RemoteError as exc:
            if exc.kind == "refused":
                continue
            raise
        try:
            top = answer["choices"][0]["logprobs"]["top_logprobs"][0]
        except (KeyError, IndexError, TypeError):
            raise RemoteError(
                f"{conn.address.base} does not report token probabilities (logprobs): TokenDice needs them.",
                kind="unsupported",
            ) from None
        return max(1, min(asked, len(top)))
    raise RemoteError(
        f"{conn.address.base} refuses every request for token probabilities (logprobs).", kind="unsupported"
    )
