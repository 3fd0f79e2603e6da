"""The Engine owns one llama.cpp model and context, and keeps the KV cache in step with a token list.

It is not thread-safe (nor is ``Llama``): one owner thread calls it. Cancellation is the one exception:
any thread may set the ``threading.Event`` passed to :meth:`Engine.sync`, which is checked between chunks.
"""

from __future__ import annotations

import ctypes
import io
import os
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

import numpy as np

from desktop_app.core.engine import cpu_quirks, gpu, gpu_layers, llama_loader, llama_log
from desktop_app.core.engine.llama_path import openable_name
from desktop_app.core.engine.tokens import TokenView, token_piece
from desktop_app.core.models.gguf_meta import GGUFError, read_header, read_metadata

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_cpp import llama_memory_t


class EngineError(RuntimeError):
    """llama.cpp could not do what was asked; the message says why and what to try."""


class ContextFull(EngineError):
    """The tokens do not fit in the context window."""


class Cancelled(Exception):
    """Raised inside the owner thread when a cancel was requested mid-work."""


@dataclass(frozen=True)
class EngineConfig:
    n_ctx: int = 4096
    n_threads: int | None = None
    n_gpu_layers: int | str = 0  # a count, -1 / "all", or "auto"
    n_batch: int = 512
    seed: int | None = None
    # Sliding-window models (Gemma 3): a full-size window cache can be trimmed anywhere; a small one
    # (False) saves memory on long contexts but forgets old positions, so a deep rewind re-evaluates.
    swa_full: bool = True
    # llama.cpp's extra buffer types (weight repacking): "auto" (off on Intel AMX CPUs, where they crash
    # llama.cpp on batches), "on" or "off"; TOKENDICE_EXTRA_BUFFERS overrides it (see cpu_quirks).
    extra_buffers: str = "auto"


class Engine:
    """One loaded GGUF model (``Llama``) plus the bookkeeping TokenDice needs."""

    def __init__(
        self, path: str | Path, config: EngineConfig | None = None, *, log_echo: TextIO | None = None
    ):
        # llama_cpp is imported here, by the thread that loads a model (not with this module: 0.15 s
        # that the window's start would pay before it is shown).
        import llama_cpp

        self.path = Path(path)
        self.config = config or EngineConfig()
        try:
            self.metadata = read_metadata(self.path)
        except GGUFError as exc:
            raise EngineError(str(exc)) from exc
        self.log = llama_log.LlamaLog(echo=log_echo)
        self._log_callback = llama_log.install_log_callback(self.log)
        # llama.cpp keeps a bare pointer to the callback: hand logging back before it can be freed.
        self._release_log = weakref.finalize(self, _release_log_callback, self._log_callback)
        self.backends = gpu.probe_backends()
        n_gpu_layers = gpu_layers.plan_gpu_layers(
            read_header(self.path), self.config.n_ctx, self.backends, self.config.n_gpu_layers
        )
        n_threads = self.config.n_threads or max(1, min(8, os.cpu_count() or 1))
        try:
            self.extra_buffers = cpu_quirks.decide_extra_buffers(
                self.backends.system_info, self.config.extra_buffers, os.environ
            )
        except ValueError as exc:
            raise EngineError(f"{exc}: choose auto, on or off") from exc
        printed = io.StringIO()
        try:
            # verbose=True keeps llama-cpp-python from redirecting the process's stdout/stderr descriptors;
            # llama.cpp's own log goes to our callback, and this thread's Python-level prints are captured
            # (only this thread's: another thread printing meanwhile still reaches the terminal).
            # A file whose name is not UTF-8 is opened through a second name (llama_path).
            with llama_log.capture_python_output(printed), openable_name(self.path) as name:
                self.llama = llama_loader.load_llama(
                    name,
                    extra_buffers=self.extra_buffers.enabled,
                    n_ctx=self.config.n_ctx,
                    n_batch=min(self.config.n_batch, self.config.n_ctx),
                    n_threads=n_threads,
                    n_threads_batch=n_threads,
                    n_gpu_layers=n_gpu_layers,
                    seed=self.config.seed if self.config.seed is not None else llama_cpp.LLAMA_DEFAULT_SEED,
                    logits_all=False,
                    swa_full=self.config.swa_full,
                    verbose=True,
                )
        except llama_loader.ExtraBuffersNotApplied as exc:
            raise EngineError(str(exc)) from exc
        except (ValueError, RuntimeError, OSError) as exc:
            raise EngineError(self._load_failure(exc)) from exc
        finally:
            if printed.getvalue():
                self.log.handle(1, printed.getvalue())
        self.load_report = gpu.LoadReport(
            requested_gpu_layers=self.config.n_gpu_layers,
            offload=llama_log.parse_offload(self.log.text()),
            backends=self.backends,
            extra_buffers=self.extra_buffers,
        )
        model = self.llama.model
        vocab = llama_cpp.llama_model_get_vocab(model)
        assert vocab is not None, "llama.cpp gives every loaded model a vocabulary"
        self.vocab = vocab
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(self.vocab))
        # llama.cpp may round the context up; llama-cpp-python's token buffer keeps the size asked for.
        self.n_ctx = min(int(self.llama.n_ctx()), len(self.llama.input_ids))
        self.n_batch = int(self.llama.n_batch)
        self.n_swa = int(llama_cpp.llama_model_n_swa(model))
        self.recurrent = bool(
            llama_cpp.llama_model_is_recurrent(model) or llama_cpp.llama_model_is_hybrid(model)
        )
        self.eog_ids = frozenset(
            i for i in range(self.n_vocab) if llama_cpp.llama_vocab_is_eog(self.vocab, i)
        )
        self.control_ids = frozenset(
            i
            for i in range(self.n_vocab)
            if llama_cpp.llama_vocab_get_attr(self.vocab, i) & llama_cpp.LLAMA_TOKEN_ATTR_CONTROL
        )
        self.bos_id = int(llama_cpp.llama_vocab_bos(self.vocab))
        self.eos_id = int(llama_cpp.llama_vocab_eos(self.vocab))
        self.add_bos = bool(llama_cpp.llama_vocab_get_add_bos(self.vocab))
        self._logits_type = ctypes.c_float * self.n_vocab
        self._pieces: dict[int, bytes] = {}
        self._kv: list[int] = []  # the tokens whose keys and values are in the cache, in order
        self._logits_ready = False  # the context's last logits belong to the last token of _kv
        self.evaluated_tokens = 0  # every token ever decoded: lets tests prove cache reuse
        self.full_reevaluations = 0  # times the cache could not be trimmed and was rebuilt

    @property
    def open_llama(self) -> Llama:
        """:attr:`llama` while the engine is open (using the engine after :meth:`close` is a bug)."""
        llama = self.llama
        assert llama is not None, "the engine is closed"
        return llama

    # --- text ------------------------------------------------------------------------------------
    def piece(self, token: int) -> bytes:
        """The bytes of a token (cached). Safe to call from another thread; after close, cached only."""
        cached = self._pieces.get(token)
        if cached is None:
            if self.llama is None:  # closed: the vocabulary is gone
                return b""
            cached = self._pieces[token] = token_piece(self.vocab, token, special=True)
        return cached

    def token_view(self, token: int) -> TokenView:
        return TokenView(token, self.piece(token), token in self.control_ids)

    def token_text(self, token: int) -> str:
        """The text of a special token (e.g. ``<|im_end|>``), empty for an invalid id."""
        if token < 0 or token >= self.n_vocab:
            return ""
        return self.piece(token).decode("utf-8", errors="replace")

    def special_texts(self) -> list[str]:
        """The texts of all control tokens, longest first (for marking them in rendered prompts)."""
        texts = {self.token_text(i) for i in self.control_ids}
        return sorted((t for t in texts if t), key=len, reverse=True)

    def tokenize(self, text: str | bytes, *, add_bos: bool = False, special: bool = False) -> list[int]:
        data = text.encode("utf-8") if isinstance(text, str) else text
        if not data:
            return [self.bos_id] if add_bos and self.bos_id >= 0 else []
        return self.open_llama.tokenize(data, add_bos=add_bos, special=special)

    def detokenize(self, tokens: Sequence[int]) -> bytes:
        return b"".join(self.piece(t) for t in tokens)

    # --- the cache --------------------------------------------------------------------------------
    @property
    def kv_tokens(self) -> tuple[int, ...]:
        return tuple(self._kv)

    def _memory(self) -> llama_memory_t:
        import llama_cpp

        # Null for a model without a memory, which llama.cpp's memory functions accept (they do nothing
        # with it); the bindings type their argument as never null.
        return cast("llama_memory_t", llama_cpp.llama_get_memory(self.open_llama.ctx))

    def _trim(self, keep: int) -> int:
        """Drop cached positions ≥ keep; return how many positions really remain (0 after a rebuild)."""
        import llama_cpp

        if keep >= len(self._kv):
            return len(self._kv)
        ok = False
        if keep > 0 and not self.recurrent:
            mem = self._memory()
            window_kept = True
            if self.n_swa > 0:
                # A small sliding-window cache forgets old positions: it must still hold the window
                # that ends at `keep`, or the positions after it would attend to nothing.
                pos_min = int(llama_cpp.llama_memory_seq_pos_min(mem, 0))
                window_kept = 0 <= pos_min <= max(0, keep - self.n_swa)
            ok = window_kept and bool(llama_cpp.llama_memory_seq_rm(mem, 0, keep, -1))
        if not ok:
            llama_cpp.llama_memory_clear(self._memory(), True)
            if keep > 0:
                self.full_reevaluations += 1
            keep = 0
        del self._kv[keep:]
        self.open_llama.n_tokens = keep
        self._logits_ready = False
        return keep

    def sync(self, tokens: Sequence[int], cancel: threading.Event | None = None) -> int:
        """Make the cache hold exactly ``tokens`` with the logits of the last one ready.

        Only tokens after the longest common prefix with the cache are decoded, in chunks of ``n_batch``
        so that ``cancel`` is honoured during a long prompt. Returns how many tokens were decoded.
        """
        tokens = list(tokens)
        if not tokens:
            raise EngineError("there is nothing to evaluate: the prompt is empty")
        if len(tokens) > self.n_ctx:
            raise ContextFull(
                f"the prompt has {len(tokens):,} tokens but the context holds {self.n_ctx:,}: "
                "shorten the conversation or load the model with a larger context"
            )
        common = 0
        for a, b in zip(self._kv, tokens, strict=False):
            if a != b:
                break
            common += 1
        if common == len(tokens) == len(self._kv) and self._logits_ready:
            return 0
        # The last token is always decoded again if needed, so its logits are fresh.
        start = self._trim(min(common, len(tokens) - 1))
        return self._decode(tokens[start:], cancel)

    def _decode(self, tokens: Sequence[int], cancel: threading.Event | None) -> int:
        done = 0
        for i in range(0, len(tokens), self.n_batch):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            chunk = list(tokens[i : i + self.n_batch])
            try:
                self.open_llama.eval(chunk)
            except RuntimeError as exc:
                # Keep our bookkeeping true to what llama.cpp holds, then explain.
                self._trim(len(self._kv))
                raise EngineError(
                    f"llama.cpp could not evaluate {len(chunk)} tokens at position {len(self._kv)} ({exc}); "
                    "the context may be full or the model may not support this input"
                ) from exc
            self._kv.extend(chunk)
            self.evaluated_tokens += len(chunk)
            done += len(chunk)
        self._logits_ready = bool(tokens) or self._logits_ready
        return done

    def append(self, token: int) -> None:
        """Decode one more token after the cache (a generation step)."""
        if len(self._kv) >= self.n_ctx:
            raise ContextFull(f"the context of {self.n_ctx:,} tokens is full")
        self._decode([token], None)

    def logits(self, out: np.ndarray | None = None) -> np.ndarray:
        """A copy of the last position's logits (float32, n_vocab): into ``out`` when given (a float32
        array of n_vocab, reused: fresh memory costs a page fault every 4 KiB), else a new array."""
        if not self._logits_ready:
            raise EngineError("no logits yet: evaluate a prompt first")
        import llama_cpp

        ptr = llama_cpp.llama_get_logits_ith(self.open_llama.ctx, -1)
        if not ptr:
            raise EngineError("llama.cpp returned no logits for the last position")
        # The bindings type the returned float pointer as an array, which has no .contents.
        address = ctypes.addressof(ptr.contents)  # pyright: ignore[reportAttributeAccessIssue]
        # A cached ctypes array type over the address is ~10× cheaper than np.ctypeslib.as_array. numpy's
        # stubs take ctypes arrays as buffers only on Python 3.12 and later.
        logits = self._logits_type.from_address(address)
        view = np.frombuffer(logits, np.float32)  # pyright: ignore[reportCallIssue, reportArgumentType]
        if out is None:
            return view.copy()
        np.copyto(out, view)
        return out

    def reset(self) -> None:
        self._trim(0)

    # --- life cycle ------------------------------------------------------------------------------
    def _load_failure(self, exc: BaseException) -> str:
        tail = [ln for ln in self.log.lines() if "error" in ln.lower() or "failed" in ln.lower()]
        reason = tail[-1].strip() if tail else str(exc)
        arch = self.metadata.architecture
        return f"llama.cpp could not load {self.path.name} (architecture {arch}): {reason}"

    def close(self) -> None:
        llama = getattr(self, "llama", None)
        if llama is not None:
            llama.close()
            self.llama = None
        self._release_log()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _release_log_callback(callback: object) -> None:
    """Give llama.cpp back llama-cpp-python's own log callback.

    ``callback`` is an argument only to keep our ctypes callback alive until this has run.
    """
    llama_log.restore_default_log_callback()
