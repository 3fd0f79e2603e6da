"""The curated list's thinking models: listed with their published files and marked as thinking."""

from __future__ import annotations

from desktop_app.core.models.curated import CURATED, FOR_THINKING, THINKING


def test_the_thinking_models_are_listed_and_marked():
    thinking = {(c.repo_id, c.filename, c.size_bytes) for c in CURATED if c.thinks}
    assert thinking == {
        ("Qwen/Qwen3-0.6B-GGUF", "Qwen3-0.6B-Q8_0.gguf", 639_446_688),
        ("Qwen/Qwen3-1.7B-GGUF", "Qwen3-1.7B-Q8_0.gguf", 1_834_426_016),
        (
            "bartowski/DeepSeek-R1-Distill-Qwen-1.5B-GGUF",
            "DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf",
            1_117_320_800,
        ),
    }
    for c in CURATED:
        assert ("thinks" in c.reason.lower()) == c.thinks, c.repo_id  # it thinks before answering
    assert [c.repo_id for c in THINKING] == [c.repo_id for c in CURATED if c.thinks]
    assert FOR_THINKING.repo_id == "Qwen/Qwen3-0.6B-GGUF"  # the smallest, the one a lesson suggests
    assert FOR_THINKING.size_bytes == min(c.size_bytes for c in THINKING)
