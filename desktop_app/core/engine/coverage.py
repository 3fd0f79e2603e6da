"""How well a model's vocabulary covers a language: the share of its common characters that are whole
tokens. A vocabulary that lacks a character spells it in byte tokens (SmolLM2 needs two or three for
most Chinese characters): the model then writes that language poorly and slowly, and the window says
which model to use instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

#: 188 of the most frequent characters of Traditional Chinese text.
COMMON_ZH_TW = (
    "的一是不了人我在有他這中大來上國個到說們為子和你地出道也時年得就那要下以生會自著去之過家學對可"
    "她裡後小麼心多天而能好都然沒日於起還發成事只作當想看文無開手十用主行方又如前所本見經頭面公同三"
    "已老從動兩長知民樣現分將外但身些與高意進把法此實回二理美點月明其種聲全工己話兒者向情部正名定女"
    "問力機給等幾很業最間新什打便位因重被走電四第門相次東政海口使教西再平真聽世氣信北少關並內加化由"
)
#: Below this share of whole characters, a model is not one to use for the language.
POOR_SHARE = 0.5


def whole_share(tokenize: Callable[[str], Sequence[int]], chars: str = COMMON_ZH_TW) -> float:
    """The share of ``chars`` that ``tokenize`` (text → token ids, without BOS) makes one token each."""
    if not chars:
        return 1.0
    return sum(1 for ch in chars if len(tokenize(ch)) == 1) / len(chars)
