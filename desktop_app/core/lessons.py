"""Built-in lessons: one click sets up the prompt, the settings and the view for one idea of the lecture.

Each lesson has a title and two or three lines of explanation in English and Traditional Chinese, the
text to send (or to continue), how (through the chat template, or as plain text the model continues),
the sampler settings, the panel to show and which step of the reply it shows. A lesson may instead show
answers side by side, each one to the same question with its own system prompt. ``{today}`` in a system
prompt is replaced by today's date when the lesson opens. A lesson made for a thinking model says how it
changes on one (:class:`ForThinking`), which curated model it recommends, and what it does instead on a
model that does not think. No Qt here: the window applies a lesson.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from desktop_app.core.engine.thinking import CLOSE, OPEN
from desktop_app.core.models.curated import FOR_THINKING, CuratedModel

LANGUAGES = ("en", "zh_TW")
View = Literal["chart", "die", "waterfall", "end", "template", "tokens", "compare", "facts"]
#: Which step of the reply the views show when it is done: its last (what the chart already shows), its
#: first, or the most uncertain of its first ``FIRST_STEPS`` (the highest entropy: where the roll matters).
ShowStep = Literal["last", "first", "most_uncertain"]
FIRST_STEPS = 8


@dataclass(frozen=True)
class Answer:
    """One of the answers a lesson shows side by side: its label and its system prompt (None: none)."""

    label: MappingProxyType  # language → text
    system: MappingProxyType | None = None

    def title(self, language: str) -> str:
        return _pick(self.label, language)

    def system_prompt(self, language: str, today: _dt.date | None = None) -> str:
        return _with_date(self.system, language, today)


@dataclass(frozen=True)
class ForThinking:
    """A lesson made for a thinking model: ``settings`` over the lesson's own and ``max_tokens`` on one
    (a thinking reply is long), the curated ``model`` it recommends, and ``fallback``, the line it shows on
    a model that does not think (language → text; ``{model}`` is that model's name)."""

    settings: MappingProxyType
    max_tokens: int
    model: CuratedModel
    fallback: MappingProxyType


@dataclass(frozen=True)
class Lesson:
    id: str
    title: MappingProxyType  # language → text
    explanation: MappingProxyType
    prompt: MappingProxyType  # what is sent (chat) or continued (plain)
    view: View
    mode: Literal["chat", "plain"] = "chat"  # plain: no chat template, the model continues the text
    system: MappingProxyType | None = None
    history: tuple[tuple[str, MappingProxyType], ...] = ()  # earlier turns: (role, text by language)
    settings: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    max_tokens: int = 48
    step_mode: bool = False  # open in step mode: one token per click
    send: bool = True  # send the prompt at once (False: leave it in the input box)
    show_step: ShowStep = "last"
    side_by_side: tuple[Answer, ...] = ()  # answers to the prompt generated at once, shown side by side
    thinking: ForThinking | None = None  # made for a thinking model (None: any model alike)

    def text(self, what: str, language: str) -> str:
        value = getattr(self, what)
        return _pick(value, language) if value is not None else ""

    def system_prompt(self, language: str, today: _dt.date | None = None) -> str:
        return _with_date(self.system, language, today)

    def sampler_settings(self, thinks: bool = False) -> dict[str, Any]:
        """The settings the lesson sets; ``thinks``: on a thinking model (its own settings for one)."""
        extra = self.thinking.settings if thinks and self.thinking is not None else {}
        return {**self.settings, **extra}

    def reply_length(self, thinks: bool = False) -> int:
        """The reply's length in tokens; ``thinks``: on a thinking model."""
        return self.thinking.max_tokens if thinks and self.thinking is not None else self.max_tokens

    @property
    def recommends(self) -> CuratedModel | None:
        """The curated model the lesson is made for (None: any model does)."""
        return self.thinking.model if self.thinking is not None else None

    def fallback(self, language: str, model: str) -> str:
        """What the lesson does instead on ``model``, which does not think ("" for a lesson for any model)."""
        return _pick(self.thinking.fallback, language).format(model=model) if self.thinking else ""


def template_thinks(template_source: str) -> bool:
    """Whether a chat template is a thinking model's: it mentions ``<think>`` or ``</think>``. Qwen3's
    opens or closes the thinking itself; DeepSeek-R1's cuts earlier replies at ``</think>``; a model that
    does not think has no reason to name either."""
    return OPEN in template_source or CLOSE in template_source


def step_to_show(how: ShowStep, entropies: Sequence[float | None]) -> int | None:
    """Which of a reply's tokens to show when it is done, given each token's entropy (None for a token
    that was not rolled, or an end token: never picked as the most uncertain). None: the last, as shown."""
    rolled = [(i, e) for i, e in enumerate(entropies) if e is not None and not math.isnan(e)]
    if how == "last" or not rolled:
        return None
    if how == "first":
        return rolled[0][0]
    return max(rolled[:FIRST_STEPS], key=lambda ie: ie[1])[0]  # the earliest of equals


def _with_date(texts: MappingProxyType | None, language: str, today: _dt.date | None) -> str:
    if texts is None:
        return ""
    day = today or _dt.date.today()
    stamp = day.strftime("%Y-%m-%d") if language == "en" else f"{day.year}年{day.month}月{day.day}日"
    return _pick(texts, language).replace("{today}", stamp)


def _pick(texts: MappingProxyType, language: str) -> str:
    return texts.get(language) or texts["en"]


def _t(en: str, zh: str) -> MappingProxyType:
    return MappingProxyType({"en": en, "zh_TW": zh})


def _s(**settings: Any) -> MappingProxyType:
    return MappingProxyType(settings)


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "continuation",
        _t("Text continuation, one token at a time", "文字接龍：一次一個 token"),
        _t(
            "A language model only ever does one thing: look at the text so far and guess what comes next. "
            "Press Next token (→) and watch it add one piece, then look at everything again for the next.",
            "語言模型其實只做一件事：看著目前為止的文字，猜下一小段是什麼。按「下一個 token」（→），"
            "看它加上一小段，再把全部重新看一次，猜下一段。",
        ),
        _t("The tallest mountain in Taiwan is", "臺灣最高的山是"),
        "chart",
        mode="plain",
        settings=_s(temperature=0.8, top_k=40, top_p=0.95, min_p=0.05, seed=7),
        max_tokens=24,
        step_mode=True,
        send=False,
    ),
    Lesson(
        "distribution",
        _t("A probability for every token, then a roll of the die", "每個 token 都有機率，再擲一次骰子"),
        _t(
            "At each step the model gives every token of its vocabulary a probability. The app then rolls "
            "a die: a random number between 0 and 1 falls somewhere on the strip, and that token is chosen. "
            "Roll it 1000 times to see the probabilities come back.",
            "每一步，模型替詞彙表中的每個 token 都給一個機率。接著擲骰子：0 到 1 之間的一個亂數落在長條的"
            "某一段，那一段的 token 就被選中。擲 1000 次，就能看到次數和機率對得上。",
        ),
        _t("The tallest mountain in Taiwan is", "臺灣最高的山是"),
        "die",
        mode="plain",
        settings=_s(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, seed=3),
        max_tokens=1,
    ),
    Lesson(
        "temperature",
        _t("Temperature: sharper or flatter", "溫度：更集中或更分散"),
        _t(
            "Temperature reshapes the probabilities before the roll. Below 1 the likely tokens get even "
            "likelier; above 1 the unlikely ones get a chance. Move the Temperature slider and watch every "
            "stage of the sampler change, without asking the model again.",
            "溫度會在擲骰子之前改變機率的形狀。小於 1，原本可能的 token 更可能；大於 1，不太可能的也有機會。"
            "拉動「溫度」滑桿，看取樣的每一個階段跟著變，模型不必重算。",
        ),
        _t("Write one sentence about the sea.", "寫一句關於海的句子。"),
        "waterfall",
        settings=_s(temperature=1.5, top_k=40, top_p=0.95, min_p=0.0, seed=11),
        max_tokens=32,
        show_step="most_uncertain",  # not the last step, where one token may be all but certain
    ),
    Lesson(
        "end-token",
        _t("The end is just one more token", "結束也只是一個 token"),
        _t(
            "A reply does not stop by magic: the model gives a special end token a probability at every "
            "step, like any other token. The lane shows that probability; when the die lands on it, the "
            "reply is over. Ban it and the model has to keep writing.",
            "回答不會自己停下來：每一步，模型也給一個特殊的「結束」token 機率，和其他 token 一樣。"
            "下方的線畫出這個機率；骰子落在它上面，回答就結束。禁止它，模型就只能一直寫下去。",
        ),
        _t("Say hello in three words.", "用三個字打招呼。"),
        "end",
        settings=_s(temperature=0.7, seed=5),
        max_tokens=40,
    ),
    Lesson(
        "template",
        _t("What the model really reads", "模型真正讀到的是什麼"),
        _t(
            "A chat is one long text. The chat template wraps every message in special tokens that mark who "
            "is speaking, and the model simply continues that text. The inspector shows it exactly, token "
            "by token.",
            "一段對話其實是一長串文字。對話樣板用特殊 token 把每則訊息包起來，標明是誰在說話，"
            "模型只是接著這串文字寫下去。檢視器一個 token 一個 token，原原本本地顯示出來。",
        ),
        _t("What is a token?", "什麼是 token？"),
        "template",
        system=_t("You are a friendly teacher.", "你是一位親切的老師。"),
        settings=_s(temperature=0.7, seed=2),
        max_tokens=40,
    ),
    Lesson(
        "multi-turn",
        _t("Every turn, the whole conversation again", "每一輪，整段對話重新讀一次"),
        _t(
            "The model has no memory between turns. To answer the second question it reads the first "
            "question, its own first answer and the new question, all again. The inspector marks what is "
            "new this turn; the rest is fed again.",
            "模型在兩輪之間沒有記憶。要回答第二個問題，它得把第一個問題、自己的第一個回答和新問題全部重讀一次。"
            "檢視器標出這一輪新加的部分，其餘都是重新餵進去的。",
        ),
        _t("And how high is it?", "那它有多高？"),
        "template",
        history=(
            ("user", _t("What is the tallest mountain in Taiwan?", "臺灣最高的山是哪座？")),
            (
                "assistant",
                _t("The tallest mountain in Taiwan is Yushan (Jade Mountain).", "臺灣最高的山是玉山。"),
            ),
        ),
        settings=_s(temperature=0.7, seed=4),
        max_tokens=40,
    ),
    Lesson(
        "hallucination",
        _t("Making things up, and giving the model context", "胡說八道，以及給模型背景資訊"),
        _t(
            "Ask for today's date: the model cannot know it, yet it answers something that sounds right. "
            "That is a hallucination. Side by side, the same question twice: once as it is, once with "
            "today's date in the system prompt. The model can only use what it reads.",
            "問它今天幾號：模型不可能知道，卻會回答一個聽起來合理的日期，這就是「幻覺」。"
            "並排的兩個回答問的是同一個問題：一個照原樣問，一個在系統提示裡放了今天的日期。"
            "模型只能用它讀到的東西。",
        ),
        _t("What is today's date?", "今天是幾年幾月幾日？"),
        "compare",
        # Greedy: no roll tells the two answers apart, only the system prompt (and a small model rolling
        # at 0.7 copies the date it is given a day off).
        settings=_s(temperature=0.0, seed=8),
        max_tokens=32,
        send=False,  # the chat keeps the question; the two answers come side by side
        side_by_side=(
            Answer(_t("Without the date", "不給日期")),
            Answer(_t("With today's date", "給今天的日期"), _t("Today is {today}.", "今天是{today}。")),
        ),
    ),
    Lesson(
        "wait",
        _t("“Wait”: making the model think longer", "「等等」：讓模型想久一點"),
        _t(
            "Test-time scaling (“not deep enough? make it longer”): a thinking model thinks between "
            "<think> and </think>, then answers. Each time it is about to close its thinking, the app takes "
            "the close back and writes “ Wait”: the model goes on, checks its steps again and thinks longer "
            "(the s1 paper's budget forcing). A thinking budget does the opposite: it closes the thinking "
            "for the model. The inserted words are marked in the reply.",
            "測試時擴展（深度不夠，長度來湊）：會思考的模型先在 <think> 和 </think> 之間思考，再回答。"
            "每當它要結束思考，程式就把結束收回，改寫「 Wait」：模型只好繼續，把步驟再檢查一次，"
            "想得更久（s1 論文的 budget forcing）。思考預算則相反：時間到就替模型結束思考。"
            "插入的字在回答中會特別標出。",
        ),
        _t("Is 17 a prime number? Answer briefly.", "17 是質數嗎？簡短回答。"),
        "end",
        settings=_s(temperature=0.6, seed=9, wait_count=2, wait_text=" Wait"),
        max_tokens=96,
        thinking=ForThinking(
            # Qwen3's advice for thinking (temperature 0.6, top-k 20, no min-p); the close replaced, not
            # the end of the reply.
            _s(top_k=20, min_p=0.0, wait_count=0, think_wait=2),
            1024,
            FOR_THINKING,
            _t(
                "{model} does not think (no <think> in its chat template): here “ Wait” replaces its end "
                "token instead, and it writes on where it wanted to stop.",
                "{model} 不會思考（對話樣板裡沒有 <think>）：這裡改把它的結束 token 換成「 Wait」，"
                "它只好在想停的地方繼續寫。",
            ),
        ),
    ),
    Lesson(
        "every-answer",
        _t("Why is every answer different?", "為什麼每次的回答都不一樣？"),
        _t(
            "The same question, the same model, the same settings: only the rolls of the die differ. "
            "Generate several answers side by side and see the first token where each one went its own way.",
            "同一個問題、同一個模型、同樣的設定，只有擲出的骰子不同。並排產生好幾個回答，"
            "看看每個回答是從哪一個 token 開始走上自己的路。",
        ),
        _t("Give me a name for a cat.", "幫貓取一個名字。"),
        "compare",
        settings=_s(temperature=1.0, seed=21),
        max_tokens=24,
        send=False,
    ),
    Lesson(
        "tokens",
        _t("Tokens, and what the model is made of", "token，以及模型由什麼組成"),
        _t(
            "Text is cut into tokens from a fixed vocabulary; a Chinese character is often several byte "
            "tokens. The model's facts card shows its architecture, chosen by people, and its parameters, "
            "learned from data.",
            "文字被切成 token，token 來自固定的詞彙表；一個中文字常常是好幾個位元組 token。"
            "模型資訊卡顯示它的架構（由人設計）和參數（從資料學來）。",
        ),
        _t("臺灣最高的山是玉山。", "臺灣最高的山是玉山。"),
        "tokens",
        send=False,
    ),
)

BY_ID = MappingProxyType({lesson.id: lesson for lesson in LESSONS})
