"""Chat templates that never end, grow without bound or do not compile, given to the command line as a
template file: one line naming the limit or the line, exit 1, within the bound; never a hang, a traceback
or a prompt of gigabytes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.reliability.cli_bytes import assert_clean, run

TOO_LONG = "the template built a text or list of more than 16,777,216 characters"
TOO_SLOW = "rendering did not finish within 2 s"

CASES = [
    ("a string multiplied to a gigabyte", "{{ 'x' * 10**9 }}", TOO_LONG),
    ("a list multiplied to a gigabyte", "{{ ([1] * 10**9) | length }}", TOO_LONG),
    ("a join of a huge range", "{{ range(10**8) | join(',') }}", None),
    (
        "nested loops of ten billion steps",
        "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}",
        TOO_SLOW,
    ),
    ("a recursive macro", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", None),
    ("a syntax error", "{% for m in messages %}{{ m.content }", "line 1"),
    ("an unknown filter", "{{ messages | frobnicate }}", "frobnicate"),
    ("a raise_exception of the template's own", "{{ raise_exception('no system messages') }}", "no system"),
]


@pytest.mark.parametrize(("template", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_template_file_is_one_line_and_exit_1_in_bounded_time(tmp_path: Path, template: str, needle):
    path = tmp_path / "template.jinja"
    path.write_text(template, encoding="utf-8")
    start = time.monotonic()
    ran = run(["template", "--template", str(path), "hello"], timeout=60)
    took = time.monotonic() - start
    assert_clean(ran)
    err = ran.stderr.decode("utf-8").strip()
    assert ran.returncode == 1, (ran.returncode, err)
    assert len(err.splitlines()) == 1 and err.startswith("tokendice: error: "), err
    assert "template" in err.lower()
    if needle is not None:
        assert needle in err, err
    assert took < 30  # the bound is 2 s of rendering; the rest is the interpreter and the model's header
    assert len(ran.stdout) < 1_000_000  # no runaway prompt printed
