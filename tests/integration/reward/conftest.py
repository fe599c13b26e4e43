"""Fixtures for the reward integration tests: the real ``LLMJudge`` over HTTP to the scripted judge server.

Fakes: only the judge model (the scripted OpenAI-compatible server on 127.0.0.1, the shared ``judge_server``
fixture, one fresh server per test); the client, retries, prompts and verdict parsing are the real ones. Retries are
made fast through ``RetryConfig``, never by patching.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from askrl.judge.build import build_judge
from askrl.judge.config import EndpointConfig, JudgeClientConfig, JudgeConfig, RetryConfig
from askrl.judge.llm import LLMJudge


@pytest.fixture
async def llm_judge(judge_server) -> AsyncIterator[LLMJudge]:  # noqa: ANN001
    """An LLMJudge on the scripted server: two attempts per call, one parse re-ask, millisecond backoff."""
    cfg = JudgeConfig(
        backend="llm",
        client=JudgeClientConfig(
            endpoints=[EndpointConfig(name="scripted", base_url=judge_server.base_url, model="scripted")],
            retry=RetryConfig(max_attempts=2, parse_retries=1, initial_delay_s=0.001, max_delay_s=0.002),
            request_timeout_s=5.0,
        ),
        prompt_version="v1",  # the tests here script v1 verdicts; v2 has its own (test_prompts_v2.py)
    )
    judge = build_judge(cfg)
    assert isinstance(judge, LLMJudge)
    yield judge
    await judge.aclose()
