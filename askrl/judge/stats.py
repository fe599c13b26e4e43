"""Judge call statistics, exported as flat ``judge/...`` metrics for wandb.

Who uses it: ``JudgeClient`` (records every call and every attempt) and the ``lexical`` judge (calls only).
Keys (style §3.7): ``judge/calls`` (logical calls), ``judge/retries`` (attempts beyond the first),
``judge/failures`` and ``judge/failures/<kind>`` (calls that ended in a failure, every kind always present),
``judge/latency_s/p50|p95|mean`` (per call, retries and backoff included; absent before the first call),
``judge/tokens_in`` / ``judge/tokens_out`` (usage summed over every attempt), ``judge/parse_ok_frac`` (of the calls
that got a reply, the share whose reply parsed into its schema: a judge that answers garbage shows here, apart
from one that is down; absent while no call got a reply), ``judge/cache_hits``,
``judge/backend_<name>`` = 1, and per endpoint ``judge/endpoint/<name>/{calls,retries,failures/<kind>,
latency_s/p50,latency_s/p95,tokens_in,tokens_out,parse_ok_frac}`` where ``calls`` counts HTTP attempts sent to it.
Counts are since the last ``metrics(reset=True)``. Nothing here raises or does I/O.

    stats = JudgeStats(backend="llm", endpoints=["vllm0"]); stats.record_call(result)
    wandb.log(stats.metrics(reset=True))
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable

from askrl.judge import constants as C
from askrl.judge.types import FailureKind, JudgeResult


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in [0, 100]) of a non-empty sample."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of an empty sample")
    rank = max(math.ceil(q / 100.0 * len(ordered)), 1)
    return ordered[rank - 1]


#: Failures of a reply that came back but did not parse (the others mean no reply came).
PARSE_FAILURES = (FailureKind.INVALID_JSON, FailureKind.SCHEMA_MISMATCH)


class _Tally:
    """Counters of one scope (the whole judge, or one endpoint)."""

    def __init__(self) -> None:
        self.calls = 0
        self.retries = 0
        self.failures: Counter[FailureKind] = Counter()
        self.tokens_in = 0
        self.tokens_out = 0
        self.latencies: deque[float] = deque(maxlen=C.LATENCY_WINDOW)

    def export(self, prefix: str) -> dict[str, float]:
        out = {
            f"{prefix}/calls": float(self.calls),
            f"{prefix}/retries": float(self.retries),
            f"{prefix}/failures": float(sum(self.failures.values())),
            f"{prefix}/tokens_in": float(self.tokens_in),
            f"{prefix}/tokens_out": float(self.tokens_out),
        }
        for kind in FailureKind:
            out[f"{prefix}/failures/{kind.value}"] = float(self.failures[kind])
        unparsed = sum(self.failures[kind] for kind in PARSE_FAILURES)
        replied = self.calls - sum(self.failures.values()) + unparsed
        if replied > 0:
            out[f"{prefix}/parse_ok_frac"] = (replied - unparsed) / replied
        if self.latencies:
            out[f"{prefix}/latency_s/p50"] = percentile(self.latencies, 50)
            out[f"{prefix}/latency_s/p95"] = percentile(self.latencies, 95)
            out[f"{prefix}/latency_s/mean"] = sum(self.latencies) / len(self.latencies)
        return out


class JudgeStats:
    """Everything ``metrics()`` reports, for one judge instance."""

    def __init__(self, backend: str, endpoints: Iterable[str] = ()) -> None:
        self._backend = backend
        self._endpoint_names = tuple(endpoints)
        self._reset()

    def _reset(self) -> None:
        self._total = _Tally()
        self._cache_hits = 0
        self._endpoints = {name: _Tally() for name in self._endpoint_names}

    def record_call(self, result: JudgeResult[object]) -> None:
        """One logical call finished (verdict or failure); its tokens were recorded per attempt already."""
        self._total.calls += 1
        self._total.retries += max(result.attempts - 1, 0)
        self._total.latencies.append(result.latency_s)
        if result.failure is not None:
            self._total.failures[result.failure] += 1
        if result.cached:
            self._cache_hits += 1
        if not self._endpoint_names:  # no attempts are recorded separately (lexical): count usage here
            self._total.tokens_in += result.prompt_tokens
            self._total.tokens_out += result.completion_tokens

    def record_attempt(
        self,
        endpoint: str,
        *,
        latency_s: float,
        is_retry: bool,
        failure: FailureKind | None,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
    ) -> None:
        """One HTTP attempt to ``endpoint`` ended (``failure`` is ``None`` when it produced a verdict)."""
        tally = self._endpoints[endpoint]
        tally.calls += 1
        tally.retries += int(is_retry)
        tally.latencies.append(latency_s)
        if failure is not None:
            tally.failures[failure] += 1
        for scope in (tally, self._total):
            scope.tokens_in += prompt_tokens
            scope.tokens_out += completion_tokens

    def metrics(self, reset: bool = False, extra: dict[str, float] | None = None) -> dict[str, float]:
        """The flat metrics dict; ``reset`` starts a new window atomically (no ``await`` in between)."""
        out = self._total.export("judge")
        out["judge/cache_hits"] = float(self._cache_hits)
        out[f"judge/backend_{self._backend}"] = 1.0
        for name, tally in self._endpoints.items():
            out.update(tally.export(f"judge/endpoint/{name}"))
        if extra:
            out.update(extra)
        if reset:
            self._reset()
        return out
