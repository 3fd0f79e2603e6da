"""Thinking models and budget forcing (s1): the end of the thinking taken back and " Wait" written instead,
N times, never shown; a thinking budget that writes the close for the model; where a reply's thinking
is. Over the real SmolLM2 (its vocabulary writes ``</think>`` as three tokens), with a few-shot prompt
that makes it close its thinking, and a chat template whose assistant turn opens ``<think>``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from desktop_app.core.engine.chat import chat_prompt
from desktop_app.core.engine.chat_template import ChatTemplate
from desktop_app.core.engine.engine import Engine, EngineConfig
from desktop_app.core.engine.session import Generation, Session
from desktop_app.core.engine.thinking import (
    CLOSE,
    ThinkingState,
    prompt_opens_thinking,
    split_thinking,
    thinking_range,
)
from desktop_app.core.sampler_settings import SamplerSettings
from tests.helpers import run_cli

#: Two worked examples, then a question whose thinking the prompt opens: greedy SmolLM2 thinks one
#: sentence, closes its thinking with ``</think>`` and answers.
FEW_SHOT = (
    "Q: 2+2?\n<think>Two plus two is four.</think>\nA: 4\n\n"
    "Q: 3+3?\n<think>Three plus three is six.</think>\nA: 6\n\n"
    "Q: 5+1?\n<think>"
)
GREEDY = SamplerSettings(temperature=0)
#: SmolLM2's template with the assistant's turn opened on a thinking, as DeepSeek-R1's template does.
THINKING_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}"
)


@pytest.fixture(scope="module")
def engine(smollm2_path):
    with Engine(smollm2_path, EngineConfig(n_ctx=2048)) as e:
        yield e


def _run(engine: Engine, settings: SamplerSettings, max_tokens: int = 40, prompt: str = FEW_SHOT):
    tokens = engine.tokenize(prompt, add_bos=engine.add_bos)
    session = Session(engine)
    gen = session.generate(tokens, settings, max_tokens=max_tokens)
    steps = list(gen)
    return session, tokens, gen, steps


def test_split_thinking():
    assert split_thinking("Hello") == split_thinking("Hello", False)
    assert split_thinking("Hello").thinking is None and split_thinking("Hello").answer == "Hello"
    t = split_thinking("  <think>\nhmm\n</think>\n\nYes.")
    assert (t.thinking, t.answer, t.closed) == ("hmm", "Yes.", True)
    t = split_thinking("still going", opened=True)
    assert (t.thinking, t.answer, t.closed) == ("still going", "", False)
    t = split_thinking("a</think>b</think>c", opened=True)  # only the first close ends the thinking
    assert (t.thinking, t.answer) == ("a", "b</think>c")
    assert prompt_opens_thinking("<|im_start|>assistant\n<think>\n") and not prompt_opens_thinking("<think>a")


@pytest.mark.parametrize(
    ("texts", "opened", "span"),
    [
        (["<", "think", ">", "a", "</", "think", ">", "b"], False, (0, 7, True)),
        (["a", "</think>", "b"], True, (0, 2, True)),
        (["Hello"], False, None),
        ([" ", "<think>", "x"], False, (0, 3, False)),
        (["<think></think>", "Yes"], False, (0, 1, True)),  # opened and closed by one token
        (["<think>a</th", "ink>"], False, (0, 2, True)),  # a close across two tokens
        (["word "] * 5000, True, (0, 5000, False)),
    ],
)
def test_where_a_reply_s_thinking_is_among_its_tokens(texts, opened, span):
    assert thinking_range(texts, opened) == span


def test_the_model_closes_its_thinking_by_itself(engine):
    _s, _t, gen, steps = _run(engine, GREEDY)
    t = split_thinking(gen.result.text, opened=gen.opened_thinking)
    assert gen.opened_thinking and t.closed and t.thinking == "Five plus one is eight."
    assert not any(s.inserted for s in steps)
    assert gen.thinking.ended_at is not None and gen.thinking.thought == gen.thinking.ended_at


def test_wait_takes_the_close_back_n_times_and_the_taken_back_tokens_are_never_shown(engine):
    session, prompt, gen, steps = _run(engine, GREEDY.replace(think_wait=2))
    text = gen.result.text
    t = split_thinking(text, opened=True)
    assert t.closed and t.thinking is not None and t.thinking.count(" Wait") == 2
    # The close appears once: the third time, when no Wait is left.
    assert text.count(CLOSE) == 1 and text.index(" Wait") < text.index(CLOSE)
    waits = [s for s in steps if s.inserted]
    assert len(waits) == 2 and all(s.token.piece == b" Wait" for s in waits)
    assert all(s.distribution is not None for s in waits)  # each keeps the step where the model closed
    # What was shown is exactly what the model read: the steps are the session's tokens after the prompt.
    assert [s.token.id for s in steps] == session.tokens[len(prompt) : len(prompt) + len(steps)]
    assert "".join(s.text for s in steps) == text
    # The cache held those tokens and no close taken back: the last step's numbers are those of the
    # prompt and the shown tokens decoded one by one, as the reply was (a batch rounds differently).
    last = steps[-1]
    engine.reset()
    engine.sync(prompt)
    for token in session.tokens[len(prompt) : last.position]:
        engine.append(token)
    logits = engine.logits(None).astype(np.float64)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    ids = last.distribution.candidates[:5]
    np.testing.assert_allclose(p[ids], last.distribution.p_raw[:5], rtol=1e-5)


def test_a_budget_writes_the_close_after_n_thinking_tokens(engine):
    _s, _p, gen, steps = _run(engine, GREEDY.replace(think_budget=3))
    assert [s.inserted for s in steps[:3]] == [False] * 3
    written = [s for s in steps[3:] if s.inserted]
    assert "".join(s.text for s in written) == "\n</think>\n\n"
    assert all(not s.inserted for s in steps[3 + len(written) :])  # then the answer, the model's own
    t = split_thinking(gen.result.text, opened=True)
    assert t.closed and t.thinking == "".join(s.text for s in steps[:3]).strip("\n") and t.answer
    assert gen.thinking.ended_at == 3 + len(written)


def test_a_template_that_opens_the_thinking_starts_the_reply_inside_it(engine):
    template = ChatTemplate(THINKING_TEMPLATE, origin="override")
    prompt = chat_prompt(engine, [{"role": "user", "content": "What is 5+1?"}], template=template)
    assert prompt.rendered.text.endswith("<think>\n")
    gen = Session(engine).generate(prompt.tokens, GREEDY.replace(think_budget=5, think_wait=1), max_tokens=30)
    steps = list(gen)
    assert gen.opened_thinking
    written = "".join(s.text for s in steps if s.inserted and s.token.piece != b" Wait")
    assert "</think>" in written  # the budget ended it (the model did not close it in 5 tokens)
    t = split_thinking(gen.result.text, opened=True)
    assert t.closed and t.answer is not None


def test_the_single_token_close_is_taken_back_by_its_id(engine, monkeypatch):
    """A vocabulary with ``</think>`` as one token (Qwen3's): the close is known by its id. Neither test
    model has one, so the close here is "." (one token of SmolLM2's), which the few-shot answer writes."""
    dot = engine.tokenize(".", add_bos=False)
    assert len(dot) == 1
    original = Generation._thinking

    def with_dot_close(self, engine_, kept_text):
        state = original(self, engine_, kept_text)
        return ThinkingState(state.inside, state.waits_left, state.budget, close_id=dot[0])

    monkeypatch.setattr(Generation, "_thinking", with_dot_close)
    _s, _p, gen, steps = _run(engine, GREEDY.replace(think_wait=1), max_tokens=40)
    first_wait = next(i for i, s in enumerate(steps) if s.inserted)
    assert steps[first_wait].replaced == dot[0] and steps[first_wait].token.piece == b" Wait"
    assert dot[0] not in [s.token.id for s in steps[:first_wait]]
    assert gen.thinking.waits_left == 0 and gen.thinking.ended_at is not None
    # Then the next close ends the thinking: a "." (by its id) or the text of </think>.
    closed_by = steps[gen.thinking.ended_at - 1]
    assert closed_by.token.id == dot[0] or closed_by.token.piece == b">"  # the end of </think>


def test_generate_json_gives_the_thinking_and_the_answer_apart(smollm2_path):
    out = run_cli(["generate", FEW_SHOT, "--model", str(smollm2_path), "--temperature", "0",
                   "--think-wait", "1", "--max-tokens", "30", "--json"])  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["thinking"].startswith("Five plus one is eight. Wait") and data["answer"].startswith("A:")
    assert data["settings"]["think_wait"] == 1
    assert data["text"].count("</think>") >= 1


def test_a_server_model_refuses_thinking_budgets_with_a_sentence():
    out = run_cli(["generate", "Hi", "--server", "http://127.0.0.1:9", "--think-budget", "5"])
    assert out.returncode != 0 and "--think-budget are for a model loaded here" in out.stderr


def test_a_reply_made_a_step_at_a_time_spends_one_budget_across_its_steps(engine):
    """Step mode asks for one token at a time, the reply's kept tokens after the prompt: the thinking tokens
    already kept count against the budget, so the close is written after the budget's N, not never."""
    prompt = engine.tokenize(FEW_SHOT, add_bos=engine.add_bos)
    session, tokens = Session(engine), list(prompt)
    settings = GREEDY.replace(think_budget=3)
    steps = []
    for _ in range(12):
        gen = session.generate(tokens, settings, max_tokens=1, reply_start=len(prompt))
        made = list(gen)
        steps += made
        tokens += [s.token.id for s in made]
    assert [s.inserted for s in steps[:3]] == [False, False, False]
    text = "".join(s.text for s in steps)
    t = split_thinking(text, opened=True)
    assert t.closed and t.thinking == "".join(s.text for s in steps[:3]).strip("\n")
    assert all(s.inserted for s in steps[3 : 3 + len(engine.tokenize("\n</think>\n\n", add_bos=False))])
