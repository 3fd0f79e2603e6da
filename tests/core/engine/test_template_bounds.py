"""A chat template can never hang or exhaust the engine: time and size bounds on rendering.

Every runaway template here would, without the bounds, run for hours or ask for gigabytes; each test
renders it for real (real Jinja, the real sandbox) and checks that it ends quickly with a TemplateError
that says what happened, and that the real templates of SmolLM2 and Gemma 3 render as before.
"""

from __future__ import annotations

import pathlib
import re
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from desktop_app.core.engine.chat_template import ChatTemplate, TemplateError
from desktop_app.core.engine.template_bounds import MIN_SIZE_LIMIT, RENDER_TIME_LIMIT_S, size_limit
from tests.core.engine.test_chat_template import (
    CHATML,
    CHATML_SPECIALS,
    GEMMA3_LIKE,
    GEMMA_SPECIALS,
    LLAMA3,
    MULTI_TURN,
)

HELLO = [{"role": "user", "content": "Hello!"}]
SHORT = 0.5  # seconds: the time limit of most tests here (the default, 2 s, is tested once)
ENDS_WITHIN = 10.0  # seconds a bounded render may take, with a loaded machine's slack
TOO_SLOW = "did not finish within"
TOO_LARGE = f"more than {MIN_SIZE_LIMIT:,} characters"
TOO_BIG_NUMBER = "a number of more than"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def render_error(source: str, messages: list[dict[str, Any]] = HELLO, **options: Any) -> tuple[str, float]:
    """Render ``source``; return the TemplateError's text and the seconds it took (fails if it renders)."""
    template = ChatTemplate(source, **options)
    start = time.monotonic()
    with pytest.raises(TemplateError) as caught:
        template.render(messages)
    return str(caught.value), time.monotonic() - start


# ---------------------------------------------------------------------------------------------- time

RUNAWAY = {
    "nested-loops-no-output": (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    ),
    "loop-computing-in-a-namespace": (
        "{% set ns = namespace(n=0) %}{% for i in range(100000) %}{% for j in range(100000) %}"
        "{% set ns.n = ns.n + i * j %}{% endfor %}{% endfor %}{{ ns.n }}"
    ),
    "exponential-macro-recursion": (
        "{% macro m(n) %}{% if n < 64 %}{{ m(n + 1) }}{{ m(n + 1) }}{% endif %}{% endmacro %}{{ m(0) }}"
    ),
    "caller-recursion": (
        "{% macro twice() %}{{ caller() }}{{ caller() }}{% endmacro %}"
        "{% macro m(n) %}{% if n < 30 %}{% call twice() %}{{ m(n + 1) }}{% endcall %}{% endif %}"
        "{% endmacro %}"
        "{{ m(0) }}"
    ),
    "recursive-for-loop": (
        "{% for n in [0] recursive %}{% if n < 64 %}{{ loop([n + 1, n + 1]) }}{% endif %}{% endfor %}"
    ),
    # The inner loop's filter runs without entering any block: only the outer loop's blocks can stop it.
    "filtered-inner-loop": (
        "{% for i in range(100000) %}{% for j in range(100000) if j < 0 %}{% endfor %}{% endfor %}"
    ),
    "loop-over-messages-and-ranges": (
        "{% for m in messages %}{% for i in range(100000) %}{% for j in range(100000) %}"
        "{{ m['content'][:0] }}{% endfor %}{% endfor %}{% endfor %}"
    ),
}


@pytest.mark.parametrize("source", RUNAWAY.values(), ids=RUNAWAY.keys())
def test_runaway_template_ends_with_a_clear_error(source: str) -> None:
    message, seconds = render_error(source, time_limit_s=SHORT)
    assert seconds < ENDS_WITHIN
    assert TOO_SLOW in message and f"{SHORT:g} s" in message, message
    assert "Template inspector" in message
    assert message.startswith("Chat template error on line 1:")


def test_default_time_limit_is_two_seconds_and_names_the_line() -> None:
    source = (
        "{{ bos_token }}\n{% for m in messages %}\n"
        "{% for i in range(100000) %}{% for j in range(100000) %}\n{% endfor %}{% endfor %}{% endfor %}"
    )
    template = ChatTemplate(source)
    start = time.monotonic()
    with pytest.raises(TemplateError) as caught:
        template.render(HELLO)
    seconds = time.monotonic() - start
    assert RENDER_TIME_LIMIT_S == 2.0
    assert RENDER_TIME_LIMIT_S <= seconds < ENDS_WITHIN
    assert str(caught.value) == (
        "Chat template error on line 3: rendering did not finish within 2 s, so the template may loop "
        "forever; fix the template, or reset it in the Template inspector."
    )
    assert caught.value.lineno == 3


def test_time_limit_covers_all_passes_of_one_render() -> None:
    """render() renders a trimming template three times to find the contents: the clock adds them up."""
    calls: list[float] = []

    def slow_clock() -> datetime:  # 0.4 s inside the template on each pass: 1.2 s in three passes
        calls.append(time.monotonic())
        time.sleep(0.4)
        return datetime(2026, 1, 1)

    source = "{{ strftime_now('%Y') }}{% for m in messages %}{{ m['content'] | trim }}{% endfor %}"
    padded = [{"role": "user", "content": "  padded  "}]
    template = ChatTemplate(source, now=slow_clock, time_limit_s=1.0)
    with pytest.raises(TemplateError, match=TOO_SLOW):
        template.render(padded)
    assert len(calls) == 3  # each pass alone was well within the limit
    calls.clear()
    assert ChatTemplate(source, now=slow_clock, time_limit_s=2.0).render(padded).text.startswith("2026")


def test_rendering_on_another_thread_is_bounded_too() -> None:
    outcome: list[BaseException | str] = []
    template = ChatTemplate(RUNAWAY["nested-loops-no-output"], time_limit_s=SHORT)

    def work() -> None:
        try:
            outcome.append(template.render(HELLO).text)
        except TemplateError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=work, name="engine-like worker", daemon=True)
    start = time.monotonic()
    worker.start()
    worker.join(ENDS_WITHIN)
    assert not worker.is_alive(), "the render on a worker thread did not end"
    assert time.monotonic() - start < ENDS_WITHIN
    assert len(outcome) == 1 and isinstance(outcome[0], TemplateError)
    assert TOO_SLOW in str(outcome[0])


def test_threads_have_their_own_limits() -> None:
    """One template, two threads at once: a slow render on one does not spend the other's time."""
    template = ChatTemplate("{% for m in messages %}{{ m['content'] }}{% endfor %}", time_limit_s=SHORT)
    results: list[str] = []
    runaway = ChatTemplate(RUNAWAY["nested-loops-no-output"], time_limit_s=SHORT)
    errors: list[TemplateError] = []

    def slow() -> None:
        try:
            runaway.render(HELLO)
        except TemplateError as exc:
            errors.append(exc)

    def quick() -> None:
        for _ in range(200):
            results.append(template.render(HELLO).text)

    threads = [threading.Thread(target=slow), threading.Thread(target=quick)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(ENDS_WITHIN)
    assert not any(t.is_alive() for t in threads)
    assert results == ["Hello!"] * 200 and len(errors) == 1


def test_a_trace_function_set_before_rendering_is_kept() -> None:
    """Debuggers and coverage tools trace the thread: the bounds neither replace nor blind them."""
    seen: list[str] = []

    def tracer(frame: Any, event: str, arg: Any) -> Callable[..., Any] | None:
        seen.append(frame.f_code.co_name)
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        with pytest.raises(TemplateError, match=TOO_SLOW):
            ChatTemplate(RUNAWAY["nested-loops-no-output"], time_limit_s=SHORT).render(HELLO)
        assert sys.gettrace() is tracer
        seen.clear()
        text = ChatTemplate(CHATML).render(HELLO).text
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(previous)
    assert text == "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n"
    assert "root" in seen and "render" in seen  # the template's own code and ChatTemplate.render


# ---------------------------------------------------------------------------------------------- size

BIG = {
    "string-repetition": ("{{ 'x' * 10**10 }}", TOO_LARGE),
    "repetition-written-out": ("{{ 'x' * 10000000000 }}", TOO_LARGE),
    "list-repetition": ("{{ (['x'] * 10**10) | length }}", TOO_LARGE),
    "repetition-from-the-left": ("{{ (10**10 * 'ab') | length }}", TOO_LARGE),
    "doubling-with-plus": (
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
        TOO_LARGE,
    ),
    "doubling-with-tilde": (
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        TOO_LARGE,
    ),
    "macro-that-repeats-its-argument": (
        "{% macro m(s) %}{{ s }}{{ s }}{{ s }}{{ s }}{% endmacro %}{% set ns = namespace(s='x') %}"
        "{% for i in range(64) %}{% set ns.s = m(ns.s) %}{% endfor %}",
        TOO_LARGE,
    ),
    "center-filter": ("{{ 'x' | center(10**10) }}", TOO_LARGE),
    "indent-filter-wide-text": ("{{ ('a\\n' * 1000000) | indent('x' * 1000) }}", TOO_LARGE),
    "format-filter-width": ("{{ '%10000000000s' | format('x') }}", TOO_LARGE),
    "percent-star-width": ("{{ '%*d' % (10000000000, 1) }}", TOO_LARGE),
    "str-format-width": ("{{ '{:>10000000000}'.format(1) }}", TOO_LARGE),
    "ljust-method": ("{{ 'x'.ljust(10**10) }}", TOO_LARGE),
    "replace-amplifies": ("{{ ('x' * 1000000) | replace('x', 'y' * 1000) }}", TOO_LARGE),
    "join-of-a-repeated-text": ("{% set l = ['x' * 1000000] * 100000 %}{{ l | join }}", TOO_LARGE),
    "join-method": ("{% set l = ['x' * 1000000] * 100000 %}{{ ''.join(l) }}", TOO_LARGE),
    "printing-a-repeated-list": ("{% set l = ['x' * 1000000] * 100000 %}{{ l }}", TOO_LARGE),
    "tojson-of-a-repeated-list": ("{% set l = ['x' * 1000000] * 100000 %}{{ l | tojson }}", TOO_LARGE),
    "string-filter": ("{% set l = ['x' * 1000000] * 100000 %}{{ l | string | length }}", TOO_LARGE),
    "sum-of-lists": ("{{ ([['x'] * 100000] * 100000) | sum(start=[]) | length }}", TOO_LARGE),
    "lipsum": ("{{ lipsum(n=10**7) }}", TOO_LARGE),
    "huge-power": ("{{ 10 ** 100000000 }}", TOO_BIG_NUMBER),
    "repeated-squaring": (
        "{% set ns = namespace(n=3) %}{% for i in range(64) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
        TOO_BIG_NUMBER,
    ),
}


@pytest.mark.parametrize(("source", "needle"), BIG.values(), ids=BIG.keys())
def test_huge_values_are_refused_before_they_are_built(source: str, needle: str) -> None:
    before = peak_rss_mb()
    message, seconds = render_error(source, time_limit_s=None)  # only the size bound may stop these
    assert seconds < ENDS_WITHIN
    assert needle in message, message
    assert message.startswith("Chat template error on line 1:")
    assert "Template inspector" in message
    assert peak_rss_mb() - before < 1024  # each would take gigabytes if it were built


def test_huge_output_is_refused_as_it_is_written() -> None:
    source = (
        "{% for i in range(100000) %}{% for j in range(100000) %}{{ 'x' * 1000 }}{% endfor %}{% endfor %}"
    )
    message, seconds = render_error(source, time_limit_s=None)
    assert seconds < ENDS_WITHIN
    assert message == (
        f"Chat template error: the template produced more than {MIN_SIZE_LIMIT:,} characters, more than "
        "any prompt needs, so it may repeat itself without end; fix the template, or reset it in the "
        "Template inspector."
    )


def test_the_size_limit_grows_with_the_conversation() -> None:
    """A text longer than the fixed limit is fine when the conversation itself is that long."""
    content = "word " * (MIN_SIZE_LIMIT // 8)  # 10 Mi characters; doubled, more than the fixed limit
    doubled = (
        "{% for m in messages %}{% set both = m['content'] ~ m['content'] %}{{ both | length }}{% endfor %}"
    )
    prompt = ChatTemplate(doubled).render([{"role": "user", "content": content}])
    assert prompt.text == str(2 * len(content)) and 2 * len(content) > MIN_SIZE_LIMIT
    assert size_limit(len(content)) == 4 * len(content)
    assert size_limit(10) == MIN_SIZE_LIMIT
    message, _ = render_error(
        doubled.replace("m['content'] ~ m['content']", "m['content'] * 5"),
        [{"role": "user", "content": content}],
    )
    limit = int(re.search(r"more than ([\d,]+) characters", message)[1].replace(",", ""))
    assert 4 * len(content) <= limit < 4 * len(content) + 100  # four times the conversation's text


def test_ordinary_sizes_and_numbers_still_work() -> None:
    source = (
        "{{ '-' * 80 }}|{{ 'ab' | center(10) }}|{{ '%5.1f' % 3.14159 }}|{{ '{:>6}'.format('r') }}|"
        "{{ 2 ** 64 }}|{{ ['a', 'b'] | join(', ') }}|{{ 'x y' | replace(' ', '__') }}|"
        "{{ [1, [2]] | tojson }}|"
        "{{ (['a'] * 3) | length }}|{{ 'a' ~ 1 ~ none }}|{{ 'q'.zfill(3) }}|{{ '%s-%s' | format('a', 'b') }}"
    )
    text = ChatTemplate(source).render(HELLO).text
    assert text == (
        "-" * 80 + "|    ab    |  3.1|     r|18446744073709551616|a, b|x__y|[1, [2]]|3|a1None|00q|a-b"
    )


# -------------------------------------------------------------------------------- real templates


@pytest.fixture(scope="module")
def model_templates(smollm2_path: pathlib.Path, gemma_path: pathlib.Path) -> Iterator[dict[str, Any]]:
    """SmolLM2's template from its GGUF file, and Gemma 3 270M's (its GGUF has none: the fallback)."""
    llama_cpp = pytest.importorskip("llama_cpp")
    found = {}
    for name, path in (("smollm2", smollm2_path), ("gemma3-270m", gemma_path)):
        llm = llama_cpp.Llama(str(path), vocab_only=True, verbose=False)
        found[name] = dict(llm.metadata)
        llm.close()
    yield found


def long_conversation(turns: int) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": " You answer briefly. "}]
    for i in range(turns):
        messages.append({"role": "user", "content": f"Question {i}: what is {i} + {i}?\n"})
        messages.append({"role": "assistant", "content": f"It is {2 * i}. <|im_end|> {{{{ not code }}}}"})
    return messages


@pytest.mark.parametrize("model", ["smollm2", "gemma3-270m"])
def test_real_templates_render_as_llama_cpp_renders_them(model_templates: dict, model: str) -> None:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    metadata = model_templates[model]
    template = ChatTemplate.for_model(
        metadata, bos_token="<s>", eos_token="</s>", special_tokens=CHATML_SPECIALS
    )
    assert template.origin == ("gguf" if model == "smollm2" else "fallback")
    for messages in (HELLO, MULTI_TURN, long_conversation(500)):
        expected = Jinja2ChatFormatter(template.source_text, "</s>", "<s>")(messages=messages).prompt
        prompt = template.render(messages)
        assert prompt.text == expected
        assert [prompt.text_of(s) for s in prompt.content_spans()] == [m["content"] for m in messages]


@pytest.mark.parametrize(
    ("source", "bos", "specials"),
    [
        (GEMMA3_LIKE, "<bos>", GEMMA_SPECIALS),
        (LLAMA3, "<|begin_of_text|>", ()),
        (CHATML, "", CHATML_SPECIALS),
    ],
    ids=["gemma3-instruct", "llama3", "chatml"],
)
def test_instruct_templates_render_as_before(source: str, bos: str, specials: tuple[str, ...]) -> None:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    messages = long_conversation(500)[1:]  # Gemma 3 folds a system message; start with the user
    expected = Jinja2ChatFormatter(source, "<eos>", bos)(messages=messages).prompt
    prompt = ChatTemplate(source, bos_token=bos, eos_token="<eos>", special_tokens=specials).render(messages)
    assert prompt.text == expected
    assert len(prompt.content_spans()) == len(messages)
