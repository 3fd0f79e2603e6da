"""The bundle tests build a PyInstaller bundle (a minute or two) or use a built one: opt-in only.

They run with ``-m bundle`` or with ``TOKENDICE_TEST_BUNDLE=1``; otherwise they are reported as skipped.
``TOKENDICE_BUNDLE_DIR=dist/TokenDice`` tests an already built bundle instead of building one.
"""

from __future__ import annotations

import os
import re

import pytest

OPT_IN_ENV = "TOKENDICE_TEST_BUNDLE"


def bundle_tests_requested(config: pytest.Config) -> bool:
    if os.environ.get(OPT_IN_ENV, "").strip() not in ("", "0"):
        return True
    expression = config.getoption("markexpr", default="") or ""
    # "-m bundle", "-m 'bundle or slow'": asked for; "-m 'not bundle'": not.
    return re.search(r"(?<!not )\bbundle\b", expression) is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if bundle_tests_requested(config):
        return
    skip = pytest.mark.skip(
        reason=f"builds a PyInstaller bundle (minutes): run with -m bundle or {OPT_IN_ENV}=1"
    )
    for item in items:
        if item.get_closest_marker("bundle") is not None:
            item.add_marker(skip)
