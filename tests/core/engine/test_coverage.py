"""How well a vocabulary covers Chinese, measured on the real models."""

from __future__ import annotations

from desktop_app.core.engine.coverage import COMMON_ZH_TW, POOR_SHARE, whole_share
from desktop_app.core.engine.engine import Engine


def test_smollm2_spells_most_chinese_in_bytes_and_gemma_does_not(
    smollm2_engine: Engine, gemma_engine: Engine
):
    def share(engine: Engine) -> float:
        return whole_share(lambda text: engine.tokenize(text, add_bos=False))

    smol, gemma = share(smollm2_engine), share(gemma_engine)
    assert smol < POOR_SHARE <= gemma and gemma > 0.9
    assert len(set(COMMON_ZH_TW)) == len(COMMON_ZH_TW)
    assert whole_share(lambda text: [1] * len(text.encode()), "的a") == 0.5  # bytes: 3 tokens, 1 token
