"""Typed configuration of the judge: which backend, which endpoints, and every limit, retry and timeout.

Who uses it: ``askrl.train`` parses the ``askrl.judge`` YAML block into ``JudgeConfig`` once; ``build_judge``
(``askrl/judge/build.py``) and ``JudgeClient`` take the typed models, never a ``DictConfig``.

Contract: every model is frozen and forbids unknown keys; units are in field names (``_s``, ``_per_min``).
How it fails: a bad value raises pydantic's ``ValidationError`` naming the field; an unsupported combination
raises ``ConfigError`` naming the full YAML key and the fix.

    cfg = JudgeConfig(backend="llm", client=JudgeClientConfig(endpoints=[
        EndpointConfig(name="vllm0", base_url="http://127.0.0.1:8012/v1", model="judge")]))
    judge = build_judge(cfg)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from askrl.errors import ConfigError
from askrl.judge import constants as C

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class EndpointConfig(_Config):
    """One OpenAI-compatible server (a vLLM replica, a hosted API) the judge may send requests to."""

    name: str
    """Short snake_case label used in metric keys (``judge/endpoint/<name>/calls``) and logs."""
    base_url: str
    """Base URL including ``/v1``, e.g. ``http://127.0.0.1:8012/v1``."""
    model: str
    """Model name the endpoint serves (sent as ``model``)."""
    api_key_env: str | None = None
    """Name of the environment variable holding the API key; ``None`` for keyless local servers."""
    max_concurrency: int = Field(C.ENDPOINT_MAX_CONCURRENCY, ge=1)
    """Requests in flight to this endpoint."""
    requests_per_min: float | None = Field(None, gt=0)
    """Optional request-rate limit (token bucket, bursts up to one minute's worth)."""
    tokens_per_min: float | None = Field(None, gt=0)
    """Optional prompt+completion token-rate limit; prompt size is estimated before sending, then corrected."""
    response_format: Literal["json_schema", "json_object", "none"] = "json_schema"
    """How to ask for structured output. A 400 answer to it switches this endpoint to ``none`` for the run."""

    @model_validator(mode="after")
    def _check(self) -> EndpointConfig:
        if not _NAME.match(self.name):
            raise ConfigError(
                f"askrl.judge.client.endpoints[].name={self.name!r} must be snake_case (it is a metric key part)"
            )
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"askrl.judge.client.endpoints[{self.name}].base_url={self.base_url!r} needs http(s)://")
        return self


class RetryConfig(_Config):
    """Retry budget and backoff. Tests set ``initial_delay_s`` near zero here, never by patching."""

    max_attempts: int = Field(C.MAX_ATTEMPTS, ge=1)
    """Attempts a transport failure may use per call, the first included (each retry may go to another endpoint)."""
    parse_retries: int = Field(C.PARSE_RETRIES, ge=0)
    """Re-asks per call for a reply that is not JSON or not the schema."""
    initial_delay_s: float = Field(C.INITIAL_RETRY_DELAY_S, ge=0)
    """First backoff delay; doubles each retry."""
    max_delay_s: float = Field(C.MAX_RETRY_DELAY_S, ge=0)
    """Backoff ceiling."""
    jitter_ratio: float = Field(C.RETRY_JITTER_RATIO, ge=0, le=1)
    """Fraction of each delay removed at random."""
    max_retry_after_s: float = Field(C.MAX_RETRY_AFTER_S, ge=0)
    """A ``Retry-After`` longer than this means the call gives up instead of waiting."""
    repair_temperature_step: float = Field(C.REPAIR_TEMPERATURE_STEP, ge=0, le=1)
    """Temperature added on a repair re-ask (capped at 1.0)."""


class BreakerConfig(_Config):
    """Circuit breaker: an endpoint that keeps failing is left out for a while, then probed with one request."""

    failure_threshold: int = Field(C.BREAKER_FAILURES, ge=1)
    """Consecutive transport failures (timeouts, refused connections, 5xx, 429) that open the breaker."""
    cooldown_s: float = Field(C.BREAKER_COOLDOWN_S, ge=0)
    """Seconds the breaker stays open before one probe request may pass."""


class JudgeClientConfig(_Config):
    """The async client over a list of endpoints."""

    endpoints: list[EndpointConfig] = Field(min_length=1)
    """Endpoints to balance over (fewest outstanding requests first)."""
    max_concurrency: int = Field(C.MAX_CONCURRENCY, ge=1)
    """Requests in flight over all endpoints."""
    connect_timeout_s: float = Field(C.CONNECT_TIMEOUT_S, gt=0)
    """TCP connect timeout per attempt."""
    request_timeout_s: float = Field(C.REQUEST_TIMEOUT_S, gt=0)
    """Total time one attempt may take."""
    call_timeout_s: float | None = Field(C.CALL_TIMEOUT_S, gt=0)
    """Deadline of a whole call: queueing, attempts, backoff and waiting for a down endpoint to come back. Within it
    an outage costs time, not a masked episode; ``None``: bounded by the retry budget alone, and a call that finds
    every circuit breaker open fails at once."""
    max_tokens: int = Field(C.MAX_TOKENS, ge=1)
    """Completion-token cap per request."""
    seed: int | None = None
    """Sampling seed sent with every request (recorded for reproducibility; servers may ignore it)."""
    retry: RetryConfig = RetryConfig()
    """Retry budget and backoff."""
    breaker: BreakerConfig = BreakerConfig()
    """Per-endpoint circuit breaker."""
    cache_dir: Path | None = None
    """Folder of the on-disk verdict cache (sqlite); ``None`` disables caching."""

    @model_validator(mode="after")
    def _unique_names(self) -> JudgeClientConfig:
        names = [e.name for e in self.endpoints]
        if len(set(names)) != len(names):
            raise ConfigError(f"askrl.judge.client.endpoints: names must be unique, got {names}")
        return self


class LexicalConfig(_Config):
    """Thresholds of the offline ``lexical`` judge (token overlap, no LLM)."""

    hit_threshold: float = Field(0.5, gt=0, le=1)
    """Share of a checklist item's content words a question (or correction) must contain to hit it."""
    user_max_sentences: int = Field(2, ge=1)
    """Hidden-information sentences the simulated user reveals per reply at most."""
    math_verify_timeout_s: float = Field(5.0, gt=0)
    """Deadline of the ``math_verify`` equivalence check of a final answer; past it the call fails as a timeout."""


class SamplingConfig(_Config):
    """Sampling temperature per judge role (spec §2.3: grading at 0, the simulated users at 0.5 / 0.3)."""

    grade_temperature: float = Field(C.GRADE_TEMPERATURE, ge=0, le=2)
    """Turn and final grading."""
    user_temperature_askmind: float = Field(C.USER_TEMPERATURE_ASKMIND, ge=0, le=2)
    """The AskMind simulated user."""
    user_temperature_overconfidence: float = Field(C.USER_TEMPERATURE_OVERCONFIDENCE, ge=0, le=2)
    """The AskOverconfidence simulated user."""
    cache_user_replies: bool = False
    """Cache simulated-user replies too (off: a sampled reply should not be frozen across rollouts)."""


class JudgeConfig(_Config):
    """The ``askrl.judge`` block: which backend grades turns and plays the user."""

    backend: Literal["lexical", "llm"] = "lexical"
    """``lexical``: offline token-overlap judge (tests, CPU smoke runs); ``llm``: a judge model behind endpoints."""
    client: JudgeClientConfig | None = None
    """Endpoints and limits; required by the ``llm`` backend."""
    lexical: LexicalConfig = LexicalConfig()
    """Thresholds of the ``lexical`` backend (ignored by ``llm``)."""
    sampling: SamplingConfig = SamplingConfig()
    """Temperatures of the ``llm`` backend's grading and simulated-user calls."""
    prompt_version: Literal["v1", "v2", "v3"] = "v3"
    """Prompt template set (``askrl/judge/prompts/<name>_<version>.txt``). ``v3`` (new runs): v2 plus the count of
    irrelevant questions in a turn verdict and the simulated user's report of which checklist items its reply
    supplied (what resolves an item, ``reward.episode``). ``v2``: reasoning-first verdicts, "final answer" and
    "facts missing" reported separately (a timely answer ends the episode), strict templates; its replies carry no
    report, so an item resolves when a turn asks for it. ``v1``: the first release, kept for runs that must stay
    comparable with it. The reward fingerprint includes the version's prompt hashes."""

    @model_validator(mode="after")
    def _backend_needs(self) -> JudgeConfig:
        if self.backend == "llm" and self.client is None:
            raise ConfigError("askrl.judge.backend=llm needs askrl.judge.client.endpoints (at least one endpoint)")
        return self
