"""Session: the generation loop on real models — end tokens, Wait, stop strings, seeds, chat turns."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.core.engine.chat import build_messages, chat_prompt
from desktop_app.core.engine.engine import Engine
from desktop_app.core.engine.sampler import Sampler
from desktop_app.core.engine.session import Session
from desktop_app.core.engine.tokens import TextAssembler
from desktop_app.core.sampler_settings import SamplerSettings

CHINESE = "臺灣最高的山是哪座？玉山，海拔3952公尺。"


def test_forced_chinese_tokens_reassemble_exactly(engine: Engine):
    ids = engine.tokenize(CHINESE)
    assert len(ids) > len(CHINESE) // 2
    prompt = engine.tokenize("Q:", add_bos=engine.add_bos)
    gen = Session(engine).generate(prompt, SamplerSettings(), max_tokens=len(ids), forced=ids)
    steps = list(gen)
    assert [s.token.id for s in steps] == ids
    assert gen.result.text == CHINESE
    assert "".join(s.text for s in steps) == CHINESE
    assert all(s.distribution.forced for s in steps)
    assert all("\ufffd" not in s.token.label for s in steps)
    partial = [s for s in steps if s.text == ""]
    if engine.n_vocab == 49152:  # SmolLM2's byte-level vocabulary splits 臺 into several byte tokens
        assert partial and all(s.token.label.startswith("<") for s in partial)


def test_text_assembler_handles_split_characters():
    data = CHINESE.encode()
    assembler = TextAssembler()
    deltas = [assembler.feed(data[i : i + 1]) for i in range(len(data))]
    assert "".join(deltas) == CHINESE == assembler.text
    assert deltas[0] == "" and deltas[2] == "臺"


def test_chat_reply_ends_on_the_end_token(smollm2_engine: Engine):
    smollm2_engine.reset()
    prompt = chat_prompt(smollm2_engine, build_messages("Say hello in one word."))
    result = (
        Session(smollm2_engine).generate(prompt.tokens, SamplerSettings(temperature=0), max_tokens=64).run()
    )
    assert result.stop_reason == "eog"
    last = result.steps[-1]
    assert last.end and last.token.id in smollm2_engine.eog_ids and last.text == ""
    assert result.text.strip() and "<|im_end|>" not in result.text
    assert last.distribution.eos_p_raw > 0


def test_ban_eos_keeps_going(smollm2_engine: Engine):
    smollm2_engine.reset()
    prompt = chat_prompt(smollm2_engine, build_messages("Say hello in one word."))
    settings = SamplerSettings(temperature=0, ban_eos=True)
    result = Session(smollm2_engine).generate(prompt.tokens, settings, max_tokens=40).run()
    assert result.stop_reason == "max_tokens" and result.generated == 40
    assert not any(s.token.id in smollm2_engine.eog_ids for s in result.steps)


def test_wait_replaces_the_end_token(smollm2_engine: Engine):
    smollm2_engine.reset()
    prompt = chat_prompt(smollm2_engine, build_messages("Say hello in one word."))
    settings = SamplerSettings(temperature=0, wait_count=2, wait_text=" Wait")
    result = Session(smollm2_engine).generate(prompt.tokens, settings, max_tokens=200).run()
    inserted = [s for s in result.steps if s.inserted]
    wait_ids = smollm2_engine.tokenize(" Wait")
    firsts = [s for s in inserted if s.distribution is not None]
    assert len(firsts) == 2 and len(inserted) == 2 * len(wait_ids)
    assert all(s.replaced in smollm2_engine.eog_ids for s in inserted)
    assert all(s.distribution.chosen in smollm2_engine.eog_ids for s in firsts)
    assert result.text.count(" Wait") >= 2
    assert result.stop_reason in ("eog", "max_tokens")


def test_stop_string_cuts_the_text(smollm2_engine: Engine):
    smollm2_engine.reset()
    prompt = smollm2_engine.tokenize("1, 2, 3, 4, 5,")
    result = (
        Session(smollm2_engine)
        .generate(prompt, SamplerSettings(temperature=0), max_tokens=40, stop=["8"])
        .run()
    )
    assert result.stop_reason == "stop_string"
    assert "8" not in result.text and result.text.strip().startswith("6")


def test_same_seed_same_tokens_and_different_seed_differs(smollm2_engine: Engine):
    prompt = smollm2_engine.tokenize("Once upon a time")

    def run(seed: int) -> list[int]:
        smollm2_engine.reset()
        settings = SamplerSettings(seed=seed, temperature=1.2, top_k=0, top_p=1.0, min_p=0.0, ban_eos=True)
        return [s.token.id for s in Session(smollm2_engine).generate(prompt, settings, max_tokens=30)]

    assert run(11) == run(11)
    assert run(11) != run(12)


def test_second_chat_turn_decodes_only_what_is_new(smollm2_engine: Engine):
    smollm2_engine.reset()
    session = Session(smollm2_engine)
    messages = build_messages("Name a colour.", system="You are brief.")
    first = chat_prompt(smollm2_engine, messages)
    reply = session.generate(first.tokens, SamplerSettings(temperature=0), max_tokens=30).run()
    assert reply.prompt_evaluated == len(first.tokens)
    messages += [{"role": "assistant", "content": reply.text}, {"role": "user", "content": "Another one?"}]
    second = chat_prompt(smollm2_engine, messages)
    cached = smollm2_engine.kv_tokens
    common = next(
        (i for i, (a, b) in enumerate(zip(cached, second.tokens, strict=False)) if a != b), len(cached)
    )
    result = session.generate(second.tokens, SamplerSettings(temperature=0), max_tokens=5).run()
    assert result.prompt_evaluated == len(second.tokens) - common
    assert common >= len(first.tokens)  # the whole first turn came from the cache
    assert result.prompt_evaluated < len(second.tokens) // 2


def test_redistribute_reuses_the_stored_step_and_roll(gemma_engine: Engine):
    gemma_engine.reset()
    session = Session(gemma_engine)
    prompt = gemma_engine.tokenize("The tallest mountain in Taiwan is", add_bos=True)
    settings = SamplerSettings(seed=5)
    steps = list(session.generate(prompt, settings, max_tokens=3))
    step = steps[1]
    again = session.redistribute(step.position, settings)
    assert again.chosen == step.token.id and again.u == step.distribution.u
    hotter = session.redistribute(
        step.position, settings.replace(temperature=2.0, top_k=0, top_p=1.0, min_p=0)
    )
    assert hotter.u == step.distribution.u
    assert hotter.n_alive > step.distribution.n_alive
    session.rewind(step.position)
    with pytest.raises(KeyError):
        session.redistribute(step.position + 1, settings)


def test_recycled_logits_never_change_a_step_that_is_still_held(smollm2_engine: Engine):
    """A later reply reuses the logits arrays of forgotten steps, but never one a Distribution still
    reads: a step kept from the first reply materializes to exactly what it would have given at once."""
    smollm2_engine.reset()
    session = Session(smollm2_engine)
    prompt = smollm2_engine.tokenize("The tallest mountain in Taiwan is", add_bos=smollm2_engine.add_bos)
    settings = SamplerSettings(seed=7)
    first = list(session.generate(prompt, settings, max_tokens=12))
    kept = first[5].distribution  # still lazy: it reads its step's logits when first asked
    assert not kept.is_materialized
    expected = Sampler(settings, eog_ids=smollm2_engine.eog_ids).full_distribution(
        session.stored_logits(first[5].position).copy(),
        session.tokens[: first[5].position],
        u=kept.u,
    )
    held = id(session.stored_logits(first[5].position))  # only the Distribution references it now
    before = {id(session.stored_logits(s.position)) for s in first}
    del first
    other = SamplerSettings(seed=99, temperature=1.5, ban_eos=True)
    second = list(session.generate(smollm2_engine.tokenize("Water boils at"), other, max_tokens=12))
    assert len(second) == 12
    after = {id(session.stored_logits(s.position)) for s in second}
    assert len(after & before) == 11  # every array of the first reply was reused, but the held one
    assert held not in after
    assert kept.chosen == expected.chosen
    assert np.array_equal(kept.candidates, expected.candidates)
    assert np.array_equal(kept.p_raw, expected.p_raw)
    assert np.array_equal(kept.p_final, expected.p_final)


def test_a_second_reply_reuses_the_first_replys_logits_arrays(smollm2_engine: Engine):
    smollm2_engine.reset()
    session = Session(smollm2_engine)
    prompt = smollm2_engine.tokenize("Once upon a time", add_bos=smollm2_engine.add_bos)
    for step in session.generate(prompt, SamplerSettings(seed=1), max_tokens=8):
        step.distribution.release()  # nothing reads the logits any more
    arrays = {id(session.stored_logits(p)) for p in range(len(prompt), len(prompt) + 8)}
    for step in session.generate(prompt, SamplerSettings(seed=2), max_tokens=8):
        step.distribution.release()
    again = {id(session.stored_logits(p)) for p in range(len(prompt), len(prompt) + 8)}
    assert again == arrays


def test_full_steps_give_the_same_reply_with_every_step_computed_at_once(smollm2_engine: Engine):
    """The engine process computes each step whole (it sends each one): the same seed gives the same
    tokens, rolls and distributions as the lazy steps the command line reads."""
    prompt = smollm2_engine.tokenize("The tallest mountain in Taiwan is", add_bos=smollm2_engine.add_bos)
    settings = SamplerSettings(seed=11, temperature=1.0)
    replies = []
    for full in (False, True):
        smollm2_engine.reset()
        steps = list(Session(smollm2_engine, full_steps=full).generate(prompt, settings, max_tokens=10))
        assert all(s.distribution.is_materialized == full for s in steps)
        replies.append(steps)
    lazy, whole = replies
    assert [s.token.id for s in lazy] == [s.token.id for s in whole]
    for a, b in zip(lazy, whole, strict=True):
        assert a.distribution.u == b.distribution.u
        assert np.array_equal(a.distribution.candidates, b.distribution.candidates)
        assert np.array_equal(a.distribution.p_final, b.distribution.p_final)
        assert a.distribution.entropy_bits == b.distribution.entropy_bits


def test_a_reply_stepped_token_by_token_rolls_what_it_rolls_generated_at_once(smollm2_engine: Engine):
    """Under a fixed seed the roll of step k depends on the seed and k alone: stepping a reply one token
    at a time (each step a new generation, the reply so far kept) rolls, and picks, exactly what the
    reply generated at once does, and every step rolls anew (it rolled the same u at every step)."""
    prompt = smollm2_engine.tokenize("Once upon a time", add_bos=smollm2_engine.add_bos)
    settings = SamplerSettings(seed=21, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, ban_eos=True)
    session = Session(smollm2_engine)
    at_once = list(session.generate(prompt, settings, max_tokens=12))
    stepped: list = []
    for _ in range(12):
        kept = [s.token.id for s in stepped]
        (step,) = session.generate(prompt + kept, settings, max_tokens=1, reply_start=len(prompt))
        stepped.append(step)
    rolls = [s.distribution.u for s in at_once]
    assert [s.distribution.u for s in stepped] == rolls
    assert [s.token.id for s in stepped] == [s.token.id for s in at_once]
    assert len(set(rolls)) == len(rolls)  # a new roll at every step

    # A branch from step 5 (a token picked by hand) rolls what the reply rolled after it.
    forced = at_once[5].distribution.candidates[1]
    branch = list(
        session.generate(prompt + [s.token.id for s in at_once[:5]], settings, max_tokens=4,
                         forced=[int(forced)], reply_start=len(prompt))
    )  # fmt: skip
    assert [s.distribution.u for s in branch[1:]] == rolls[6:9]

    # A random seed: each step of a stepped reply draws its own, so the rolls differ too.
    free = settings.replace(seed=None)
    us = [
        next(iter(session.generate(prompt, free, max_tokens=1, reply_start=len(prompt)))).distribution.u
        for _ in range(4)
    ]
    assert len(set(us)) == 4
