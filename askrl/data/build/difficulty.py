"""Difficulty buckets (the paper's rejection sampling, spec §4.5): the policy's pass rate on each original question.

Who uses it: ``runner.py`` before generation when ``--pass-rate-samples N`` is set. Each item's original question
goes to the policy (any OpenAI-compatible endpoint, ``--policy-url``) N times at T=0.7; each answer is checked
against the expected answer by ``answers.answer_matches``; the pass rate is correct / answered. Rates stream to
``DIR/pass_rates.jsonl`` and are reused on a re-run. ``--balance`` then keeps an even spread over ``--buckets``
equal-width pass-rate buckets: at most ``--per-bucket`` items each (default: as many as the smallest non-empty
bucket holds), chosen by a seeded order that does not depend on completion order; the others are rejected as
``bucket_full`` before any generation call.

How it fails: samples whose call failed (or whose check timed out) are left out of the rate and counted; an item
with no usable sample is ``Failed`` (step ``pass_rate``) and retried by a re-run; nothing is guessed.

    rate = await sample_pass_rate(llm, qa, samples=8)    # PassRate | Failed
    keep = balance({"a": 0.0, "b": 1.0, "c": 0.9}, buckets=2, per_bucket=None, seed=0)   # {"a", "b" or "c"}
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from askrl.data.build.answers import answer_matches
from askrl.data.build.inputs import QAItem
from askrl.data.build.llm import BuildLLM
from askrl.data.build.outcomes import Failed
from askrl.judge.client import UNAVAILABLE


@dataclass(frozen=True)
class PassRate:
    id: str
    pass_rate: float
    correct: int
    answered: int  # samples with a usable answer
    failed: int  # samples whose call failed or whose check timed out

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def bucket_of(rate: float, buckets: int) -> int:
    """Equal-width bucket index in ``[0, buckets)``; a rate of 1.0 falls in the top bucket."""
    return min(int(rate * buckets), buckets - 1)


async def sample_pass_rate(llm: BuildLLM, qa: QAItem, samples: int) -> PassRate | Failed:
    """``samples`` concurrent policy answers to ``qa.ori_question`` and their pass rate."""
    results = await asyncio.gather(*(llm.policy_answer(qa.ori_question) for _ in range(samples)))
    checks = await asyncio.gather(
        *(answer_matches(qa.expected_answer, r.verdict.final_answer) for r in results if r.verdict is not None)
    )
    usable = [c for c in checks if c is not None]
    failed = samples - len(usable)
    if not usable:
        gone = next((r.error for r in results if r.error and r.error.startswith(UNAVAILABLE)), None)
        kinds = sorted({r.failure.value for r in results if r.failure is not None} or {"timeout"})
        error = gone or f"none of {samples} policy samples was usable ({', '.join(kinds)})"
        return Failed(qa.id, "pass_rate", kinds[0], error)
    correct = sum(usable)
    return PassRate(qa.id, correct / len(usable), correct, len(usable), failed)


def _order_key(item_id: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{item_id}".encode()).hexdigest()


def balance(rates: dict[str, float], buckets: int, per_bucket: int | None, seed: int) -> set[str]:
    """The ids kept for an even spread over ``buckets`` pass-rate buckets (see the module docstring)."""
    by_bucket: defaultdict[int, list[str]] = defaultdict(list)
    for item_id, rate in rates.items():
        by_bucket[bucket_of(rate, buckets)].append(item_id)
    if not by_bucket:
        return set()
    cap = per_bucket if per_bucket is not None else min(len(ids) for ids in by_bucket.values())
    keep: set[str] = set()
    for ids in by_bucket.values():
        keep.update(sorted(ids, key=lambda i: _order_key(i, seed))[:cap])
    return keep


def histogram(rates: dict[str, float], buckets: int) -> dict[str, int]:
    """``{"[0.00, 0.25)": n, ...}`` counts per bucket, for the report."""
    counts = [0] * buckets
    for rate in rates.values():
        counts[bucket_of(rate, buckets)] += 1
    labels = [f"[{i / buckets:.2f}, {(i + 1) / buckets:.2f}{']' if i == buckets - 1 else ')'}" for i in range(buckets)]
    return dict(zip(labels, counts, strict=True))
