"""Fixtures for ``tokendice serve``: one real server per test module, serving the bundled SmolLM2 on a
free loopback port (see tests/serve/serving.py), and the official OpenAI client pointed at it."""

from __future__ import annotations

import pytest

from tests.serve.serving import Served, serving


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, smollm2_path) -> Served:
    """``tokendice serve --model default`` (the bundled SmolLM2), ready: /health answered 200. It is
    stopped with SIGINT after the module's tests and must exit with status 0."""
    with serving(tmp_path_factory.mktemp("serve-home")) as server:
        yield server


@pytest.fixture
def client(served: Served):
    """The official OpenAI client on the served model (no retries: a refusal is seen as it comes)."""
    from openai import OpenAI

    with OpenAI(base_url=served.v1, api_key="unused", max_retries=0, timeout=120) as c:
        yield c
