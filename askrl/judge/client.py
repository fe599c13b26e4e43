"""The async judge client: verdict calls over several OpenAI-compatible endpoints, with every failure explicit.

Who uses it: ``LLMJudge`` (``askrl/judge/llm.py``); one client per process and event loop. It imports
``openai`` and pydantic only.

Contract: ``complete(messages, schema)`` sends a chat request to the endpoint with the fewest outstanding
requests (a global and a per-endpoint ``asyncio.Semaphore``, optional RPM/TPM buckets), asks for ``schema`` with
``response_format`` where the endpoint supports it, extracts and strictly validates the verdict, and returns a
``JudgeResult``. Each endpoint has one shared ``AsyncOpenAI`` with ``max_retries=0``: this client owns retries.

How it fails: never raises into the caller (except ``CancelledError``, which always propagates) and never invents
a verdict. Transport failures (timeouts, refused connections, 408/409/429/5xx) are retried with exponential
backoff and jitter, failing over to an endpoint not yet tried in this call (immediately while one is left);
another 4xx is final. A reply that is not the schema is re-asked up to ``parse_retries`` times with a repair note
and a slightly higher temperature. An endpoint that fails ``failure_threshold`` times in a row is left out by its
circuit breaker. When the budget is spent the result names the failure (``FailureKind``); every retry and
failure is logged here and counted in ``metrics()``.

Outages: every call has a deadline, ``call_timeout_s`` (default 300 s), that covers queueing for a concurrency slot,
attempts, backoff and waits. Within it, a call that finds every breaker open waits (holding no slot) for a cooldown
to end and a probe to settle instead of failing at once, and refused or dropped connections (an endpoint that is
down or restarting) do not use the transport budget: such a call fails only at its deadline, so a judge that goes
away for less than the deadline costs latency, not masked episodes. A call that ran out of its deadline without
reaching any endpoint (refused connections from its first attempt, at least half the deadline) means the judge is
not coming back: its error begins with ``UNAVAILABLE`` and names the endpoints in one line; the trainer stops the
run on it (``JudgeUnavailableError``) instead of masking every episode. ``call_timeout_s=None`` keeps the old bounds:
the retry budget alone, and ``no_endpoint`` at once when every breaker is open.

    async with JudgeClient(cfg) as client:
        result = await client.complete([{"role": "user", "content": prompt}], FinalVerdict)
        if result.ok: use(result.verdict)
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import openai
from pydantic import BaseModel

from askrl.errors import ConfigError, JudgeError
from askrl.judge import constants as C
from askrl.judge.attempt_errors import (
    JudgeAttemptError,
    JudgeParseError,
    JudgeTimeoutError,
    JudgeTransportError,
)
from askrl.judge.breaker import CircuitBreaker
from askrl.judge.cache import VerdictCache, cache_key
from askrl.judge.config import EndpointConfig, JudgeClientConfig
from askrl.judge.rate_limit import TokenBucket
from askrl.judge.retry import parse_retry_after, retry_delay, should_retry
from askrl.judge.stats import JudgeStats
from askrl.judge.types import FailureKind, JudgeResult
from askrl.judge.verdict_parsing import parse_verdict, truncate

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
Message = Mapping[str, str]

_REPAIR_NOTE = (
    "Your previous reply could not be used: {error}. Reply again with exactly one JSON object that follows the "
    "requested schema, with JSON booleans (true/false, not strings) and no other text."
)


class _Endpoint:
    """One endpoint's shared client, limits, breaker and load (mutable instance state of ``JudgeClient``)."""

    def __init__(self, cfg: EndpointConfig, client_cfg: JudgeClientConfig, index: int) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.index = index
        self.response_format = cfg.response_format
        self.outstanding = 0
        self.down_since: float | None = None  # first refused connection since the endpoint last answered
        self.semaphore = asyncio.Semaphore(cfg.max_concurrency)
        self.breaker = CircuitBreaker(client_cfg.breaker.failure_threshold, client_cfg.breaker.cooldown_s)
        self.rpm = TokenBucket(cfg.requests_per_min) if cfg.requests_per_min else None
        self.tpm = TokenBucket(cfg.tokens_per_min) if cfg.tokens_per_min else None
        self.client = openai.AsyncOpenAI(
            api_key=_api_key(cfg),
            base_url=cfg.base_url,
            max_retries=0,
            timeout=openai.Timeout(client_cfg.request_timeout_s, connect=client_cfg.connect_timeout_s),
        )


def _api_key(cfg: EndpointConfig) -> str:
    """The key from the environment variable the config names; local keyless servers get a placeholder."""
    if cfg.api_key_env is None:
        return "EMPTY"
    key = os.environ.get(cfg.api_key_env)
    if not key:
        raise ConfigError(
            f"askrl.judge.client.endpoints[{cfg.name}].api_key_env={cfg.api_key_env!r}: that environment variable "
            "is not set; export it or set api_key_env: null for a keyless server"
        )
    return key


class JudgeClient:
    """Verdict calls over a pool of endpoints. Belongs to the event loop it is first used on."""

    def __init__(self, cfg: JudgeClientConfig, *, rng: random.Random | None = None) -> None:
        self.cfg = cfg
        self._endpoints = [_Endpoint(ep, cfg, i) for i, ep in enumerate(cfg.endpoints)]
        self._global = asyncio.Semaphore(cfg.max_concurrency)
        self._rng = rng or random.Random()
        self._turn = 0
        self._stats = JudgeStats("llm", [ep.name for ep in self._endpoints])
        self._cache = VerdictCache(cfg.cache_dir) if cfg.cache_dir is not None else None
        self._models = sorted({ep.model for ep in cfg.endpoints})
        self._settled = asyncio.Event()  # set (and replaced) whenever an attempt ends: breaker waiters re-check

    async def __aenter__(self) -> JudgeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every endpoint's HTTP pool and the cache."""
        for ep in self._endpoints:
            await ep.client.close()
        if self._cache is not None:
            self._cache.close()

    def metrics(self, reset: bool = False) -> dict[str, float]:
        """Flat ``judge/...`` metrics (see ``askrl/judge/stats.py``) plus each endpoint's breaker state."""
        extra: dict[str, float] = {}
        for ep in self._endpoints:
            extra[f"judge/endpoint/{ep.name}/circuit_open"] = float(ep.breaker.state != "closed")
            extra[f"judge/endpoint/{ep.name}/circuit_opened"] = float(ep.breaker.times_opened)
        return self._stats.metrics(reset=reset, extra=extra)

    async def complete(
        self,
        messages: Sequence[Message],
        schema: type[M],
        *,
        check: Callable[[M], None] | None = None,
        json_schema: dict[str, Any] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        use_cache: bool = True,
    ) -> JudgeResult[M]:
        """One verdict call.

        Args:
            messages: the chat messages (``role``/``content``) of the request.
            schema: the pydantic verdict model the reply must validate against.
            check: an invariant beyond the schema (raises ``ValueError``), e.g. one hit per checklist item.
            json_schema: the JSON schema sent in ``response_format`` (default: ``schema``'s own); lets the
                caller pin list lengths for guided decoding.
            temperature: sampling temperature of the first attempt (repair re-asks add a small step).
            max_tokens: completion cap (default ``cfg.max_tokens``).
            use_cache: read and write the on-disk cache when one is configured.

        Returns:
            A ``JudgeResult`` with the verdict, or with the ``FailureKind`` of the last failed attempt
            (``NO_ENDPOINT`` when every breaker was open before any attempt).
        """
        start = time.monotonic()
        max_tokens = max_tokens or self.cfg.max_tokens
        json_schema = json_schema or _json_schema(schema)
        key = None
        if self._cache is not None and use_cache:
            key = cache_key(
                {
                    "models": self._models,
                    "messages": [dict(m) for m in messages],
                    "schema": schema.__name__,
                    "json_schema": json_schema,
                    "temperature": temperature,
                    "max_tokens": max_tokens,
                    "seed": self.cfg.seed,
                }
            )
            cached = await self._cache_lookup(key, schema, check, start)
            if cached is not None:
                return cached
        result = await self._call(list(messages), schema, check, json_schema, temperature, max_tokens, start)
        self._stats.record_call(result)
        if result.verdict is not None and key is not None and self._cache is not None:
            await self._cache.put(key, schema.__name__, result.verdict.model_dump_json())
        return result

    async def _cache_lookup(
        self, key: str, schema: type[M], check: Callable[[M], None] | None, start: float
    ) -> JudgeResult[M] | None:
        assert self._cache is not None
        stored = await self._cache.get(key)
        if stored is None:
            return None
        try:
            verdict = parse_verdict(stored, schema, check)
        except JudgeParseError as err:
            logger.warning("judge cache entry %s no longer validates (%s); calling the judge", key[:12], err)
            return None
        result: JudgeResult[M] = JudgeResult(
            verdict=verdict, attempts=0, latency_s=time.monotonic() - start, endpoint="cache", cached=True
        )
        self._stats.record_call(result)
        return result

    async def _call(
        self,
        messages: list[Message],
        schema: type[M],
        check: Callable[[M], None] | None,
        json_schema: dict[str, Any],
        temperature: float,
        max_tokens: int,
        start: float,
    ) -> JudgeResult[M]:
        """The retry loop: transport budget ``max_attempts``, parse budget ``1 + parse_retries``, all within the
        call deadline (see the module docstring for what waits instead of failing when a deadline is set).

        A call that ran out of its deadline reaching no endpoint gets the ``UNAVAILABLE`` error text (see
        ``_unavailable``).
        """
        retry_cfg = self.cfg.retry
        deadline = start + self.cfg.call_timeout_s if self.cfg.call_timeout_s else None
        conversation, temp = messages, temperature
        attempts = transport_failures = parse_failures = backoffs = 0
        tried: set[str] = set()
        prompt_tokens = completion_tokens = 0
        last: JudgeAttemptError | None = None
        last_endpoint: str | None = None
        last_raw: str | None = None
        retry_after: float | None = None
        first_attempt_at: float | None = None
        only_refused = True  # every attempt so far found no endpoint listening
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                last = last or JudgeTimeoutError(f"call_timeout_s={self.cfg.call_timeout_s} passed")
                break
            if not any(ep.breaker.available() for ep in self._endpoints):
                if remaining is None:  # no deadline to wait within: fail now
                    last = last or _NoEndpoint("every endpoint's circuit breaker is open")
                    break
                await self._wait_for_breaker(remaining)
                tried.clear()
                continue
            try:
                async with asyncio.timeout(remaining):  # queueing for a slot counts against the deadline
                    await self._global.acquire()
            except TimeoutError:
                last = last or JudgeTimeoutError(f"queued past call_timeout_s={self.cfg.call_timeout_s}")
                break
            try:
                ep = self._pick(tried)
                if ep is None:  # another call took the last probe while this one queued
                    continue
                attempts += 1
                first_attempt_at = first_attempt_at or time.monotonic()
                last_endpoint = ep.name
                try:
                    verdict, usage = await self._attempt(
                        ep, conversation, schema, check, json_schema, temp, max_tokens, remaining, attempts > 1
                    )
                except JudgeParseError as err:
                    only_refused = False
                    prompt_tokens += err.prompt_tokens
                    completion_tokens += err.completion_tokens
                    last, last_raw = err, err.raw
                    parse_failures += 1
                    if parse_failures > retry_cfg.parse_retries:
                        break
                    logger.info(
                        "judge reply from %s failed validation (%s: %s); re-asking (%d/%d)",
                        ep.name, err.kind.value, err, parse_failures, retry_cfg.parse_retries,
                    )  # fmt: skip
                    conversation = [
                        *messages,
                        {"role": "assistant", "content": err.raw},
                        {"role": "user", "content": _REPAIR_NOTE.format(error=err)},
                    ]
                    temp = min(temperature + parse_failures * retry_cfg.repair_temperature_step, 1.0)
                    continue
                except JudgeAttemptError as err:
                    last, last_raw = err, None
                    only_refused = only_refused and _unreachable(err)
                    tried.add(ep.name)
                    # An endpoint that is down (refused or dropped connection) is the breaker's and the deadline's
                    # business: with a deadline, waiting for it to come back does not use the transport budget.
                    if deadline is None or not _unreachable(err):
                        transport_failures += 1
                    retry_after = err.retry_after_s if isinstance(err, JudgeTransportError) else None
                    if transport_failures >= retry_cfg.max_attempts or not should_retry(
                        err, retry_after_s=retry_after, max_retry_after_s=retry_cfg.max_retry_after_s
                    ):
                        break
                else:
                    prompt_tokens += usage[0]
                    completion_tokens += usage[1]
                    return JudgeResult(
                        verdict=verdict,
                        attempts=attempts,
                        latency_s=time.monotonic() - start,
                        endpoint=ep.cfg.base_url,
                        prompt_tokens=prompt_tokens,
                        completion_tokens=completion_tokens,
                    )
            finally:
                self._global.release()
            # A transport failure with budget left: fail over now while an untried endpoint is up, else back off.
            if any(e.name not in tried and e.breaker.available() for e in self._endpoints):
                delay = 0.0
            else:
                backoffs += 1
                delay = retry_delay(
                    backoffs,
                    retry_after,
                    initial_s=retry_cfg.initial_delay_s,
                    max_s=retry_cfg.max_delay_s,
                    jitter_ratio=retry_cfg.jitter_ratio,
                    max_retry_after_s=retry_cfg.max_retry_after_s,
                    rand=self._rng.random,
                )
                tried.clear()
            logger.info(
                "judge attempt %d on %s failed (%s: %s); retrying in %.3f s",
                attempts, last_endpoint, last.kind.value, last, delay,
            )  # fmt: skip
            if deadline is not None and time.monotonic() + delay >= deadline:
                break
            await asyncio.sleep(delay)
        assert last is not None
        gone = self._unavailable(first_attempt_at if only_refused else None)
        ep_url = next((e.cfg.base_url for e in self._endpoints if e.name == last_endpoint), None)
        logger.warning(
            "judge call failed after %d attempt(s): %s (%s)%s",
            attempts, last.kind.value, gone or last, f"; raw reply: {truncate(last_raw, 300)!r}" if last_raw else "",
        )  # fmt: skip
        return JudgeResult(
            failure=last.kind,
            error=gone or str(last),
            raw=last_raw,
            attempts=attempts,
            latency_s=time.monotonic() - start,
            endpoint=ep_url,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )

    async def _wait_for_breaker(self, remaining_s: float) -> None:
        """Sleep (holding no concurrency slot) until an endpoint's cooldown ends, an attempt settles (a probe
        that may have closed a breaker), or ``remaining_s`` passes."""
        settled = self._settled
        wait_s = min([remaining_s, *(ep.breaker.cooldown_left_s() for ep in self._endpoints)])
        if wait_s <= 0:  # cooled down, but a probe is in flight: wait for it to settle
            wait_s = remaining_s
        try:
            async with asyncio.timeout(wait_s):
                await settled.wait()
        except TimeoutError:
            pass

    def _unavailable(self, refused_since: float | None) -> str | None:
        """The judge is not coming back when a call that reached no endpoint from its first attempt (at
        ``refused_since``; None: some attempt got an answer) ran out of its deadline with at least half of it spent
        that way, and every endpoint is still down: the failed call's error then says so in one line naming the
        endpoints (it starts with ``UNAVAILABLE``; the trainer stops the run on it instead of masking every
        episode). None otherwise. (With a deadline, refused connections use no retry budget, so such a call can
        only have ended at its deadline.)"""
        timeout_s = self.cfg.call_timeout_s
        now = time.monotonic()
        if timeout_s is None or refused_since is None or now - refused_since < timeout_s / 2:
            return None
        if any(ep.down_since is None for ep in self._endpoints):
            return None
        names = ", ".join(
            f"{ep.name} ({ep.cfg.base_url}, unreachable for {now - (ep.down_since or now):.0f} s)"
            for ep in self._endpoints
        )
        return (
            f"{UNAVAILABLE}endpoint(s) {names}: no reply within askrl.judge.client.call_timeout_s={timeout_s:g}; "
            "start the judge server or fix askrl.judge.client.endpoints"
        )

    def _pick(self, tried: set[str]) -> _Endpoint | None:
        """The available endpoint with the fewest outstanding requests, preferring ones not tried in this call."""
        available = [ep for ep in self._endpoints if ep.breaker.available()]
        if not available:
            return None
        fresh = [ep for ep in available if ep.name not in tried] or available
        turn, n = self._turn, len(self._endpoints)
        self._turn += 1
        return min(fresh, key=lambda ep: (ep.outstanding, (ep.index - turn) % n))

    async def _attempt(
        self,
        ep: _Endpoint,
        messages: list[Message],
        schema: type[M],
        check: Callable[[M], None] | None,
        json_schema: dict[str, Any],
        temperature: float,
        max_tokens: int,
        remaining_s: float | None,
        is_retry: bool,
    ) -> tuple[M, tuple[int, int]]:
        """One request to ``ep`` and the validation of its reply; records the attempt and the breaker outcome.

        Raises:
            JudgeAttemptError: a transport failure, a timeout, or a reply that is not the schema (the parse error
                carries the attempt's token usage as ``prompt_tokens``/``completion_tokens`` attributes).
        """
        ep.outstanding += 1
        ep.breaker.on_send()
        settled = False
        t0 = time.monotonic()
        failure: FailureKind | None = None
        usage = (0, 0)
        try:
            if ep.rpm is not None:
                await ep.rpm.acquire(1)
            estimate = 0.0
            if ep.tpm is not None:
                # Reserve the prompt's estimated size now; the reply's real usage settles the difference below.
                estimate = sum(len(m.get("content", "")) for m in messages) / C.CHARS_PER_TOKEN_ESTIMATE
                await ep.tpm.acquire(estimate)
            async with ep.semaphore:
                t0 = time.monotonic()
                timeout_s = self.cfg.request_timeout_s
                if remaining_s is not None:
                    timeout_s = min(timeout_s, remaining_s)
                try:
                    text, usage = await asyncio.wait_for(
                        self._send(ep, messages, schema, json_schema, temperature, max_tokens), timeout_s
                    )
                except JudgeAttemptError as err:
                    failure, settled = err.kind, True
                    if _unreachable(err):
                        ep.down_since = ep.down_since or time.monotonic()
                    else:
                        ep.down_since = None
                    if isinstance(err, JudgeParseError):
                        usage = (err.prompt_tokens, err.completion_tokens)
                    if not should_retry(err):  # the endpoint answered (a 4xx, an unreadable body): it is up
                        ep.breaker.record_success()
                    elif ep.breaker.record_failure():
                        logger.warning(
                            "judge endpoint %s (%s): circuit breaker opened after repeated failures (%s)",
                            ep.name, ep.cfg.base_url, err,
                        )  # fmt: skip
                    raise
                except asyncio.TimeoutError as err:
                    failure = FailureKind.TIMEOUT
                    settled = True
                    if ep.breaker.record_failure():
                        logger.warning("judge endpoint %s: circuit breaker opened after a timeout", ep.name)
                    raise JudgeTimeoutError(f"{ep.name}: no reply within {timeout_s:.3f} s") from err
                settled = True
                ep.down_since = None
                ep.breaker.record_success()
            if ep.tpm is not None:
                ep.tpm.adjust(usage[0] + usage[1] - estimate)
            try:
                verdict = parse_verdict(text, schema, check)
            except JudgeParseError as err:
                failure = err.kind
                err.prompt_tokens, err.completion_tokens = usage
                raise
            return verdict, usage
        finally:
            ep.outstanding -= 1
            if not settled:
                ep.breaker.release()
            self._settled.set()
            self._settled = asyncio.Event()
            if settled or failure is not None:
                self._stats.record_attempt(
                    ep.name,
                    latency_s=time.monotonic() - t0,
                    is_retry=is_retry,
                    failure=failure,
                    prompt_tokens=usage[0],
                    completion_tokens=usage[1],
                )

    async def _send(
        self,
        ep: _Endpoint,
        messages: list[Message],
        schema: type[BaseModel],
        json_schema: dict[str, Any],
        temperature: float,
        max_tokens: int,
    ) -> tuple[str, tuple[int, int]]:
        """POST one chat completion; on a 400 to ``response_format`` resend once without it and remember."""
        fmt = response_format(ep.response_format, schema.__name__, json_schema)
        try:
            return await self._post(ep, messages, temperature, max_tokens, fmt)
        except JudgeTransportError as err:
            if err.status_code != 400 or fmt is None:
                raise
            text_usage = await self._post(ep, messages, temperature, max_tokens, None)
            logger.warning(
                "judge endpoint %s rejected response_format=%s for schema %s (%s); sending without it from now on",
                ep.name, ep.response_format, schema.__name__, err,
            )  # fmt: skip
            ep.response_format = "none"
            return text_usage

    async def _post(
        self,
        ep: _Endpoint,
        messages: list[Message],
        temperature: float,
        max_tokens: int,
        response_format: dict[str, Any] | None,
    ) -> tuple[str, tuple[int, int]]:
        body: dict[str, Any] = {
            "model": ep.cfg.model,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        if response_format is not None:
            body["response_format"] = response_format
        if self.cfg.seed is not None:
            body["seed"] = self.cfg.seed
        try:
            # The SDK's raw ``post`` (its documented route for arbitrary requests): same auth, timeouts and typed
            # errors as ``chat.completions.create``, without re-walking the params and building a ChatCompletion
            # model per call (about 1.5 ms of CPU each, a quarter of the client's cost at 300 calls/s).
            data = await ep.client.post("/chat/completions", body=body, cast_to=object)
        except openai.APITimeoutError as err:
            raise JudgeTimeoutError(f"{ep.name}: {err}") from err
        except openai.APIStatusError as err:
            raise JudgeTransportError(
                f"{ep.name}: HTTP {err.status_code}: {truncate(str(err), 300)}",
                status_code=err.status_code,
                retry_after_s=parse_retry_after(err.response.headers),
            ) from err
        except openai.APIConnectionError as err:
            raise JudgeTransportError(f"{ep.name}: connection failed: {err}", status_code=None) from err
        except (openai.APIError, ValueError) as err:  # a 2xx body the SDK could not decode (e.g. broken JSON)
            raise JudgeParseError(f"{ep.name}: unreadable response body: {err}", raw=truncate(str(err))) from err
        usage = _completion_usage(data)
        try:
            content = data["choices"][0]["message"]["content"]  # type: ignore[index]
        except (KeyError, IndexError, TypeError) as err:  # not a chat completion (e.g. a proxy's HTML page)
            parse_err = JudgeParseError(f"{ep.name}: the 2xx body is not a chat completion", raw=truncate(str(data)))
            parse_err.prompt_tokens, parse_err.completion_tokens = usage
            raise parse_err from err
        return (content if isinstance(content, str) else ""), usage


def _completion_usage(data: object) -> tuple[int, int]:
    """``(prompt_tokens, completion_tokens)`` of a chat-completion body; zeros when the server reports none."""
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        return 0, 0
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return (prompt if isinstance(prompt, int) else 0), (completion if isinstance(completion, int) else 0)


#: How the error of a call that failed because the judge is gone begins (every endpoint unreachable for a whole
#: call deadline); ``JudgeUnavailableError`` carries such a message where a caller stops on it.
UNAVAILABLE = "judge unavailable: "


class JudgeUnavailableError(JudgeError):
    """Every judge endpoint stayed unreachable for a whole call deadline: the run cannot go on."""


def _unreachable(err: JudgeAttemptError) -> bool:
    """A refused or dropped connection: the endpoint is down or restarting (no HTTP status came back)."""
    return isinstance(err, JudgeTransportError) and err.status_code is None


class _NoEndpoint(JudgeAttemptError):
    """No attempt could be made: every endpoint's breaker was open."""

    kind = FailureKind.NO_ENDPOINT


@functools.cache
def _json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """A verdict model's JSON schema, built once (pydantic takes about a millisecond per build). Do not mutate."""
    return schema.model_json_schema()


def response_format(mode: str, name: str, json_schema: dict[str, Any]) -> dict[str, Any] | None:
    """The ``response_format`` body field of endpoint mode ``mode`` for schema ``name`` (None: send none)."""
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": name, "schema": json_schema, "strict": False}}
    if mode == "json_object":
        return {"type": "json_object"}
    return None
