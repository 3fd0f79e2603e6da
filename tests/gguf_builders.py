"""Tiny real GGUF files that llama.cpp refuses, or aborts on, while reading a vocabulary."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np


def tiny_gguf(path: Path, arch: str = "llama", tokens: tuple[bytes, ...] = (b"a", b"b", b"c")) -> Path:
    """A one-layer model of ``arch`` with a three-token GPT-2 vocabulary (and one merge)."""
    w = gguf.GGUFWriter(str(path), arch)
    w.add_block_count(1)
    w.add_context_length(128)
    w.add_embedding_length(8)
    w.add_head_count(1)
    w.add_tokenizer_model("gpt2")
    w.add_token_list(list(tokens))
    w.add_token_types([1] * len(tokens))
    w.add_token_merges([b"a c"])
    w.add_tensor("token_embd.weight", np.zeros((len(tokens), 8), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def vocabulary_aborting_gguf(path: Path) -> Path:
    """A GGUF whose vocabulary holds one token twice: llama.cpp (llama-cpp-python 0.3.36) aborts the whole
    process while reading it, on ``llama-vocab.cpp: GGML_ASSERT(id_to_token.size() ==
    token_to_id.size()) failed`` (SIGABRT). (tests/helpers.py's ``asserting_gguf`` aborts later, at the
    first evaluation: its vocabulary reads fine.)"""
    return tiny_gguf(path, "llama", (b"a", b"a", b"c"))
