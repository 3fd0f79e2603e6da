"""K answers to one prompt: the prompt evaluated once, the answers reproducible, their split points."""

from __future__ import annotations

import pytest

from desktop_app.core.engine.chat import build_messages, chat_prompt
from desktop_app.core.engine.compare import answer_seeds, compare_answers, divergence
from desktop_app.core.engine.engine import Engine
from desktop_app.core.engine.session import Session
from desktop_app.core.sampler_settings import SamplerSettings


def test_divergence_by_hand():
    assert divergence([[1, 2, 3], [1, 2, 4], [1, 5]]) == [2, 2, 1]
    assert divergence([[7, 8], [7, 8, 9]]) == [2, 2]  # the shorter one is contained in the longer
    assert divergence([[1], [2], [3]]) == [0, 0, 0]
    assert divergence([[1, 2]]) == [0]


def test_seeds_step_from_a_fixed_seed_or_stay_random():
    assert answer_seeds(SamplerSettings(seed=10), 3) == [10, 11, 12]
    assert answer_seeds(SamplerSettings(seed=None), 2) == [None, None]


def test_three_answers_share_one_prompt_evaluation(engine: Engine):
    prompt = (
        chat_prompt(engine, build_messages("Name an animal.")).tokens
        if engine.n_vocab == 49152
        else (engine.tokenize("My favourite animal is the", add_bos=engine.add_bos))
    )
    settings = SamplerSettings(seed=5, temperature=1.3, top_k=0, top_p=1.0, min_p=0.0, ban_eos=True)
    before = engine.evaluated_tokens
    streamed: list[int] = []
    result = compare_answers(
        Session(engine), prompt, settings, 3, max_tokens=8, on_step=lambda i, _s: streamed.append(i)
    )
    assert len(result.answers) == 3 and all(a.generated == 8 for a in result.answers)
    assert streamed == [0] * 8 + [1] * 8 + [2] * 8
    # the prompt is decoded for the first answer; later ones only decode its last token again
    assert result.prompt_evaluated <= len(prompt) + 2 * 1
    decoded = engine.evaluated_tokens - before
    assert decoded <= len(prompt) + 2 + 3 * 7
    texts = [a.text for a in result.answers]
    assert len(set(texts)) > 1, texts  # different rolls, different answers
    ids = [[s.token.id for s in a.steps] for a in result.answers]
    assert list(result.split_at) == divergence(ids)
    again = compare_answers(Session(engine), prompt, settings, 3, max_tokens=8)
    assert [a.text for a in again.answers] == texts  # a fixed seed repeats the whole comparison


def test_the_number_of_answers_is_checked(smollm2_engine: Engine):
    with pytest.raises(ValueError):
        compare_answers(Session(smollm2_engine), [1, 2], SamplerSettings(), 0)
