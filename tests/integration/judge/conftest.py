"""Fixtures for the judge integration tests: clients wired to scripted servers with near-zero backoff.

What is faked: only the judge model, by the scripted OpenAI-compatible server (``judge_server`` fixtures in
``tests/conftest.py``) on 127.0.0.1. The client, openai SDK, HTTP stack, retries and parsing are real.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from askrl.judge.client import JudgeClient
from askrl.judge.config import BreakerConfig, EndpointConfig, JudgeClientConfig, RetryConfig

FAST_RETRY = RetryConfig(initial_delay_s=0.001, max_delay_s=0.005, jitter_ratio=0.0)


def client_config(*base_urls: str, endpoint: dict[str, Any] | None = None, **overrides: Any) -> JudgeClientConfig:
    """Endpoints ``ep0, ep1, ...`` for ``base_urls``; backoff near zero unless ``retry`` is overridden."""
    endpoints = [
        EndpointConfig(name=f"ep{i}", base_url=url, model="judge", **(endpoint or {}))
        for i, url in enumerate(base_urls)
    ]
    settings: dict[str, Any] = {"retry": FAST_RETRY, "request_timeout_s": 5.0, "breaker": BreakerConfig()}
    settings.update(overrides)
    return JudgeClientConfig(endpoints=endpoints, **settings)


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., JudgeClient]]:
    """``make_client(*base_urls, **config_overrides)``; every client is closed at teardown."""
    clients: list[JudgeClient] = []

    def make(*base_urls: str, **overrides: Any) -> JudgeClient:
        client = JudgeClient(client_config(*base_urls, **overrides))
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def fast_retry() -> RetryConfig:
    """The retry settings ``make_client`` uses by default (backoff near zero, no jitter)."""
    return FAST_RETRY


@pytest.fixture
def dead_url() -> str:
    """A 127.0.0.1 URL nothing listens on (connections are refused)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/v1"
