"""Metrics export (key pattern, per-endpoint variants, reset), config validation and the sqlite verdict cache."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from askrl.errors import ConfigError
from askrl.judge.build import build_judge
from askrl.judge.cache import VerdictCache, cache_key
from askrl.judge.client import JudgeClient
from askrl.judge.config import EndpointConfig, JudgeClientConfig, JudgeConfig
from askrl.judge.lexical import LexicalJudge
from askrl.judge.llm import LLMJudge
from askrl.judge.stats import JudgeStats, percentile
from askrl.judge.types import FailureKind, JudgeResult

KEY = re.compile(r"^judge(/[a-z0-9_]+)+$")


def endpoint(name: str = "a", **kw: object) -> EndpointConfig:
    return EndpointConfig(name=name, base_url="http://127.0.0.1:9/v1", model="m", **kw)  # type: ignore[arg-type]


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([3.0], 95) == 3.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_stats_keys_and_values() -> None:
    stats = JudgeStats("llm", ["a", "b"])
    stats.record_attempt("a", latency_s=0.1, is_retry=False, failure=FailureKind.TIMEOUT)
    stats.record_attempt("b", latency_s=0.2, is_retry=True, failure=None, prompt_tokens=10, completion_tokens=3)
    stats.record_call(JudgeResult(verdict=object(), attempts=2, latency_s=0.3))
    stats.record_call(JudgeResult(failure=FailureKind.HTTP_ERROR, attempts=1, latency_s=0.5))
    metrics = stats.metrics()
    assert all(KEY.match(key) for key in metrics), [k for k in metrics if not KEY.match(k)]
    assert metrics["judge/calls"] == 2
    assert metrics["judge/retries"] == 1
    assert metrics["judge/failures"] == 1
    assert metrics["judge/failures/http_error"] == 1
    assert metrics["judge/failures/timeout"] == 0  # attempt failures are per endpoint, call failures are global
    assert metrics["judge/tokens_in"] == 10 and metrics["judge/tokens_out"] == 3
    assert metrics["judge/latency_s/p50"] == 0.3 and metrics["judge/latency_s/p95"] == 0.5
    assert metrics["judge/endpoint/a/failures/timeout"] == 1
    assert metrics["judge/endpoint/b/retries"] == 1
    assert metrics["judge/endpoint/b/tokens_in"] == 10
    assert metrics["judge/backend_llm"] == 1
    # the http_error call got no reply: the one call that did parsed; endpoint a never got a reply
    assert metrics["judge/parse_ok_frac"] == 1.0
    assert metrics["judge/endpoint/b/parse_ok_frac"] == 1.0 and "judge/endpoint/a/parse_ok_frac" not in metrics
    stats.metrics(reset=True)
    after = stats.metrics()
    assert after["judge/calls"] == 0 and "judge/latency_s/p50" not in after and "judge/parse_ok_frac" not in after


def test_parse_ok_frac_counts_garbage_replies_not_missing_ones() -> None:
    stats = JudgeStats("llm", ["a"])
    for failure in (None, FailureKind.INVALID_JSON, FailureKind.SCHEMA_MISMATCH, FailureKind.TIMEOUT, None):
        stats.record_attempt("a", latency_s=0.1, is_retry=False, failure=failure)
        stats.record_call(JudgeResult(verdict=object()) if failure is None else JudgeResult(failure=failure))
    metrics = stats.metrics()
    assert metrics["judge/parse_ok_frac"] == pytest.approx(2 / 4)  # 4 replies (the timeout got none), 2 parsed
    assert metrics["judge/endpoint/a/parse_ok_frac"] == pytest.approx(2 / 4)


def test_llm_backend_needs_endpoints() -> None:
    with pytest.raises(ConfigError, match="askrl.judge.backend=llm"):
        JudgeConfig(backend="llm")


@pytest.mark.parametrize("name", ["Bad-Name", "1st", "with space"])
def test_endpoint_names_must_be_metric_safe(name: str) -> None:
    with pytest.raises(ConfigError, match="snake_case"):
        endpoint(name)


def test_endpoint_names_unique_and_config_closed() -> None:
    with pytest.raises(ConfigError, match="unique"):
        JudgeClientConfig(endpoints=[endpoint("a"), endpoint("a")])
    with pytest.raises(ValidationError):
        JudgeClientConfig(endpoints=[endpoint()], max_concurency=3)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        JudgeClientConfig(endpoints=[])


def test_missing_api_key_variable_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASKRL_TEST_JUDGE_KEY", raising=False)
    cfg = JudgeClientConfig(endpoints=[endpoint(api_key_env="ASKRL_TEST_JUDGE_KEY")])
    with pytest.raises(ConfigError, match="ASKRL_TEST_JUDGE_KEY"):
        JudgeClient(cfg)


async def test_build_judge_picks_the_backend() -> None:
    assert isinstance(build_judge(JudgeConfig()), LexicalJudge)
    judge = build_judge(JudgeConfig(backend="llm", client=JudgeClientConfig(endpoints=[endpoint()])))
    assert isinstance(judge, LLMJudge) and judge.name == "llm"
    assert set(judge.prompt_hashes) >= {"turn_askmind", "final", "user_askmind"}
    await judge.aclose()


def test_cache_key_is_canonical() -> None:
    assert cache_key({"a": 1, "b": [1, 2]}) == cache_key({"b": [1, 2], "a": 1})
    assert cache_key({"a": 1}) != cache_key({"a": 2})


async def test_verdict_cache_concurrent_use(tmp_path: Path) -> None:
    cache = VerdictCache(tmp_path / "cache")
    keys = [cache_key({"i": i}) for i in range(50)]
    await asyncio.gather(*(cache.put(k, "FinalVerdict", f'{{"i": {i}}}') for i, k in enumerate(keys)))
    values = await asyncio.gather(*(cache.get(k) for k in keys))
    assert values == [f'{{"i": {i}}}' for i in range(50)]
    assert await cache.get(cache_key({"i": "missing"})) is None
    cache.close()
    reopened = VerdictCache(tmp_path / "cache")
    assert await reopened.get(keys[7]) == '{"i": 7}'
    reopened.close()
