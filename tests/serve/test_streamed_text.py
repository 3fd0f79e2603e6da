"""A streamed reply's text never shows a stop string, wherever the tokens split it, and loses nothing
that is not one (the held-back text comes out when the next token, or the end, says it is not)."""

from __future__ import annotations

import pytest

from desktop_app.core.engine.session import STOP_MAX_TOKENS, STOP_STRING
from desktop_app.core.serve.protocol import StreamedText


def _stream(pieces: list[str], stops: tuple[str, ...], reason: str) -> tuple[str, list[str]]:
    text = StreamedText(stops)
    sent = [text.feed(p) for p in pieces]
    sent.append(text.finish(reason))
    return "".join(sent), sent


@pytest.mark.parametrize(
    ("pieces", "stops", "want"),
    [
        ([" 5", ",", " 6", ",", " 7", ",", " 8", ","], (" 7, 8",), " 5, 6,"),  # across tokens
        (["Hello<|", "im_end|>more"], ("<|im_end|>",), "Hello"),  # inside a token
        (["ab", "cX", "YZ"], ("cXY", "bcX"), "a"),  # the earliest of two
    ],
)
def test_a_stop_string_is_never_sent(pieces, stops, want):
    out, _sent = _stream(pieces, stops, STOP_STRING)
    assert out == want


def test_text_held_back_for_a_possible_stop_comes_out_when_it_is_not_one():
    out, sent = _stream(["ab", "cx", "yq"], ("xyz",), STOP_MAX_TOKENS)
    assert out == "abcxyq"
    assert sent[1] == "c"  # "x" waited: it could have begun "xyz"
    assert sent[2] == "xyq"


def test_nothing_is_sent_after_the_stop():
    text = StreamedText(("END",))
    assert text.feed("fooEND") == "foo"
    assert text.feed("bar") == "" and text.finish(STOP_MAX_TOKENS) == ""
    assert text.sent == 3
