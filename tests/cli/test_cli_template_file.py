"""``tokendice template --template FILE``: render with a template of one's own, and never hang on one."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.cli.test_cli_basics import assert_one_line_error
from tests.helpers import run_cli

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def test_template_file_renders_instead_of_the_models(tmp_path: Path):
    template = tmp_path / "chatml.jinja"
    template.write_text("[custom]" + CHATML, encoding="utf-8")
    proc = run_cli(["template", "--template", str(template), "--json", "Hello"])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["template_source"] == "override"
    assert data["prompt"] == "[custom]<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n"


def test_runaway_template_file_ends_with_one_line(tmp_path: Path):
    template = tmp_path / "forever.jinja"
    template.write_text(
        "{% for m in messages %}\n{% for i in range(100000) %}{% for j in range(100000) %}"
        "{% endfor %}{% endfor %}{% endfor %}",
        encoding="utf-8",
    )
    start = time.monotonic()
    proc = run_cli(["template", "--template", str(template), "Hello"], timeout=120)
    assert time.monotonic() - start < 120
    assert_one_line_error(
        proc,
        "Chat template error on line 2: rendering did not finish within 2 s",
        "reset it in the Template inspector",
    )


def test_huge_template_output_ends_with_one_line(tmp_path: Path):
    template = tmp_path / "huge.jinja"
    template.write_text("{{ 'x' * 10**10 }}", encoding="utf-8")
    assert_one_line_error(
        run_cli(["template", "--template", str(template), "Hello"], timeout=120),
        "the template built a text or list of more than 16,777,216 characters",
    )


def test_unreadable_or_broken_template_file_is_one_line(tmp_path: Path):
    assert_one_line_error(
        run_cli(["template", "--template", str(tmp_path / "missing.jinja"), "Hello"]), "cannot read"
    )
    broken = tmp_path / "broken.jinja"
    broken.write_text("{% for m in messages %}\n{{ m['content'] }", encoding="utf-8")
    assert_one_line_error(run_cli(["template", "--template", str(broken), "Hello"]), "on line 2")
