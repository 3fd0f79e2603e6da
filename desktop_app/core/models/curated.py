"""The curated models: small instruct GGUFs on the Hugging Face Hub that work well for teaching, some of
them thinking models (their reply thinks between ``<think>`` and ``</think>`` before it answers)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CuratedModel:
    repo_id: str
    filename: str  # the recommended file
    size_bytes: int  # as published on the hub for that file
    parameters: str
    licence: str
    reason: str
    thinks: bool = False  # a thinking model: its reply opens with <think> (see core/engine/thinking.py)
    sha256: str | None = None  # the file's SHA-256 (64 lowercase hex digits), where a lesson gives it


#: Small instruct models that work well for teaching, smallest first (by file size). Every repository is
#: public (not gated). The sizes are the hub's byte counts for these files (their LFS pointers); Qwen's
#: own Qwen3 repositories publish only a Q8_0 file for the 0.6B and the 1.7B.
CURATED: tuple[CuratedModel, ...] = (
    CuratedModel(
        "HuggingFaceTB/SmolLM2-360M-Instruct-GGUF",
        "smollm2-360m-instruct-q8_0.gguf",
        386_404_352,
        "360M",
        "Apache-2.0",
        "Tiny and fast on any laptop; English only, good for showing distributions step by step.",
    ),
    CuratedModel(
        "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
        "qwen2.5-0.5b-instruct-q4_k_m.gguf",
        491_400_032,
        "0.5B",
        "Apache-2.0",
        "Smallest multilingual chat model that follows instructions; a 151k-token vocabulary.",
    ),
    CuratedModel(
        "Qwen/Qwen3-0.6B-GGUF",
        "Qwen3-0.6B-Q8_0.gguf",
        639_446_688,
        "0.6B",
        "Apache-2.0",
        "The smallest thinking model: it thinks out loud before it answers.",
        thinks=True,
    ),
    CuratedModel(
        "ggml-org/gemma-3-1b-it-GGUF",
        "gemma-3-1b-it-Q4_K_M.gguf",
        806_058_240,
        "1B",
        "Gemma Terms of Use",
        "Google's small chat model: a 262k vocabulary and sliding-window attention (5 local : 1 global).",
    ),
    CuratedModel(
        "bartowski/Llama-3.2-1B-Instruct-GGUF",
        "Llama-3.2-1B-Instruct-Q4_K_M.gguf",
        807_694_464,
        "1.2B",
        "Llama 3.2 Community License",
        "Meta's smallest Llama: the chat template most tutorials show.",
    ),
    CuratedModel(
        "bartowski/SmolLM2-1.7B-Instruct-GGUF",
        "SmolLM2-1.7B-Instruct-Q4_K_M.gguf",
        1_055_609_824,
        "1.7B",
        "Apache-2.0",
        "The bundled model's big sibling: same tokenizer and template, much better answers.",
    ),
    CuratedModel(
        "Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        "qwen2.5-1.5b-instruct-q4_k_m.gguf",
        1_117_320_736,
        "1.5B",
        "Apache-2.0",
        "Good answers for its size in many languages, still quick on a CPU.",
    ),
    CuratedModel(
        "bartowski/DeepSeek-R1-Distill-Qwen-1.5B-GGUF",
        "DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf",
        1_117_320_800,
        "1.5B",
        "MIT",
        "DeepSeek-R1's reasoning taught to a small Qwen: it thinks before answering, often at length.",
        thinks=True,
    ),
    CuratedModel(
        "Qwen/Qwen3-1.7B-GGUF",
        "Qwen3-1.7B-Q8_0.gguf",
        1_834_426_016,
        "1.7B",
        "Apache-2.0",
        "Thinks before answering, and answers better than the 0.6B; /no_think in a message skips it.",
        thinks=True,
    ),
    CuratedModel(
        "bartowski/Llama-3.2-3B-Instruct-GGUF",
        "Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        2_019_377_696,
        "3.2B",
        "Llama 3.2 Community License",
        "A capable assistant for 8 GB machines; clear contrast with the 1B.",
    ),
    CuratedModel(
        "bartowski/Phi-3.5-mini-instruct-GGUF",
        "Phi-3.5-mini-instruct-Q4_K_M.gguf",
        2_393_232_672,
        "3.8B",
        "MIT",
        "Strong reasoning for a small model; long 128k context, no grouped-query attention.",
    ),
)

#: The curated model to suggest for Chinese when the loaded one spells it in bytes: the smallest
#: multilingual one.
FOR_CHINESE: CuratedModel = next(c for c in CURATED if c.repo_id == "Qwen/Qwen2.5-0.5B-Instruct-GGUF")

#: The thinking models, smallest first; the first is the one to suggest for a lesson about thinking.
THINKING: tuple[CuratedModel, ...] = tuple(c for c in CURATED if c.thinks)
FOR_THINKING: CuratedModel = THINKING[0]
