"""Characters whose bytes lie in several tokens: grouped, labelled, and never shown as "�"."""

from __future__ import annotations

from desktop_app.core.engine.engine import Engine
from desktop_app.core.engine.tokens import (
    SplitChar,
    TextAssembler,
    continuation_label,
    decode_shown,
    split_chars,
)


def test_split_characters_are_grouped_with_their_bytes_and_the_character_they_make():
    pieces = [b"\xe8\x87", b"\xba", b"\xe7", b"\x81\xa3", b"a\xe6", b"\x9c", b"\x80", b"!"]
    groups = split_chars(pieces)
    assert [(g.first, g.last, g.label()) for g in groups] == [
        (0, 1, "<E8><87> + <BA> = 臺"),
        (2, 3, "<E7> + <81><A3> = 灣"),
        (4, 6, "<E6> + <9C> + <80> = 最"),
    ]
    assert split_chars([b"\xe8\x87\xba", b"ok"]) == []  # a whole character in one token is no split
    # the text ends, or another character begins, before it is complete
    assert [g.label() for g in split_chars([b"x", b"\xe8\x87"])] == ["<E8><87> …"]
    assert split_chars([b"\xe8\x87", b"A"]) == [SplitChar(0, (b"\xe8\x87",), "")]


def test_a_candidate_after_an_unfinished_character_says_what_it_makes():
    assert continuation_label(b"\xe8\x87", b"\xba") == "<BA> → 臺"
    assert continuation_label(b"\xe8", b"\x87") == "<87> …"  # still a byte short
    assert continuation_label(b"", b"\xe8\x87") == "<E8><87> …"  # the start of one
    assert continuation_label(b"\xe8\x87", b" A") == "·A"  # it breaks the character off
    assert continuation_label(b"", b" the") == "·the"


def test_text_never_shows_a_replacement_character():
    reply = TextAssembler()
    assert reply.feed(b"\xe8\x87") == ""
    assert reply.finish() == "<E8><87>" and reply.text == "<E8><87>"  # not empty, not "�"
    broken = TextAssembler()
    assert broken.feed(b"\xe8") == "" and broken.feed(b"A\xe7\x81") == "<E8>A"
    assert broken.feed(b"\xa3") == "灣" and "\ufffd" not in broken.text
    assert decode_shown(b"ok\xff") == "ok<FF>"


def test_smollm2_spells_taiwan_in_bytes_and_the_groups_make_it_whole(smollm2_engine: Engine):
    ids = smollm2_engine.tokenize("臺灣最高的山", add_bos=False)
    pieces = [smollm2_engine.piece(t) for t in ids]
    groups = split_chars(pieces)
    assert groups  # it splits characters into bytes
    assert groups[0].char == "臺" and groups[0].first == 0 and len(groups[0].parts) >= 2
    made = "".join(g.char for g in groups)
    assert set(made) <= set("臺灣最高的山") and "臺" in made
    assert TextAssembler().feed(b"".join(pieces)) == "臺灣最高的山"


def test_a_reply_continued_mid_character_completes_it(smollm2_engine: Engine):
    """Step mode and branches continue a reply from its kept tokens: after half a character the next
    token showed "�" (the new text started from nothing); it completes the character."""
    from desktop_app.core.engine.session import Session
    from desktop_app.core.sampler_settings import SamplerSettings

    ids = smollm2_engine.tokenize("臺", add_bos=False)
    pieces = [smollm2_engine.piece(t) for t in ids]
    prompt = smollm2_engine.tokenize("Taiwan:", add_bos=smollm2_engine.add_bos)
    session = Session(smollm2_engine)
    gen = session.generate(
        prompt + ids[:-1], SamplerSettings(seed=1), max_tokens=1, forced=ids[-1:], reply_start=len(prompt)
    )
    (step,) = gen
    assert step.text == "臺" and step.pending == b"".join(pieces[:-1])
    assert gen.result.text == "臺"
