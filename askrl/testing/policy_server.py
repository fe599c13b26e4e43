"""A latency-modelled policy server for the rollout benchmark: scripted turns, timed like a serving engine.

Why: the rollout benchmark measures how the agent loop, the judge client and the judge overlap, not a model; the
policy therefore answers from scripts (so episodes have realistic shapes: direct answers, one or two questions,
long and short turns) but takes as long as a serving engine would: ``prefill_ms_per_1k`` per thousand prompt
tokens plus ``per_token_ms`` per generated token, with at most ``slots`` requests in service at once (a
continuous-batching engine's running batch).

Contract: ``generate(request_id, prompt_ids=..., sampling_params=...)`` is what VERL's agent loops call on their
``server_manager`` and returns VERL's ``TokenOutput``. The first request of an episode finds its record from the
decoded prompt; the k-th episode seen of a record plays variant ``k`` of ``policy_turns``. Every turn's text ends
with the marker ``[ep E turn T]`` so the judge's request log can be mapped back to episode and turn. Each served
request is kept as a ``PolicyCall`` (service time and wall-clock interval).

How it fails: ``EvalError`` when a prompt matches no record (the rows and the records differ).

    server = LatencyPolicy(tokenizer, records, per_token_ms=5.0)
    out = await server.generate("req-1", prompt_ids=ids, sampling_params={"max_tokens": 256})
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from askrl import _verl
from askrl.data.records import AskMindRecord
from askrl.errors import EvalError

MARKER = re.compile(r"\[ep (\d+) turn (\d+)\]")
_FILLER = "Let me work out which facts the question leaves open before I commit to anything. "


@dataclass(frozen=True)
class PolicyCall:
    """One served policy request."""

    episode: int
    turn: int
    service_s: float
    start: float  # unix seconds, service began (after waiting for a slot)
    end: float


def policy_turns(record: AskMindRecord, variant: int) -> list[str]:
    """The scripted turns of episode ``variant`` of ``record`` (no markers): 0, 1 or 2 questions about the
    record's required points, then the expected answer, with a preamble whose length grows with ``variant``."""
    points = list(record.required_points)
    asks = variant % 3
    preamble = _FILLER * (1 + 2 * variant)
    turns = []
    for k in range(asks):
        chosen = points[k::asks] or points
        turns.append(preamble + "Could you tell me " + "; and ".join(p.rstrip("?.") for p in chosen) + "?")
    turns.append(preamble + f"Thanks. Based on what you told me: {record.expected_answer}")
    return turns


class LatencyPolicy:
    """The benchmark's ``server_manager``; see the module docstring."""

    def __init__(
        self,
        tokenizer: Any,
        records: Sequence[AskMindRecord],
        *,
        per_token_ms: float,
        prefill_ms_per_1k: float,
        slots: int,
    ) -> None:
        self.tokenizer = tokenizer
        self.records = list(records)
        self.per_token_ms = per_token_ms
        self.prefill_ms_per_1k = prefill_ms_per_1k
        self.calls: list[PolicyCall] = []
        self._slots = asyncio.Semaphore(slots)
        self._episode_of: dict[str, tuple[int, list[str]]] = {}
        self._turn_count: Counter[str] = Counter()
        self._variants: Counter[int] = Counter()
        self._im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
        self._keys = [r.degraded_question[:160] for r in self.records]

    def _episode(self, request_id: str, prompt_ids: Sequence[int]) -> tuple[int, list[str]]:
        known = self._episode_of.get(request_id)
        if known is not None:
            return known
        text = self.tokenizer.decode(list(prompt_ids), skip_special_tokens=True)
        index = next((i for i, key in enumerate(self._keys) if key in text), None)
        if index is None:
            raise EvalError(f"request {request_id}: its prompt matches none of the {len(self.records)} records")
        variant = self._variants[index]
        self._variants[index] += 1
        episode = len(self._episode_of)
        self._episode_of[request_id] = (episode, policy_turns(self.records[index], variant))
        return self._episode_of[request_id]

    def service_s(self, prompt_tokens: int, completion_tokens: int) -> float:
        """The latency model: prefill per thousand prompt tokens plus decode per generated token."""
        return (self.prefill_ms_per_1k * prompt_tokens / 1000.0 + self.per_token_ms * completion_tokens) / 1000.0

    async def generate(
        self, request_id: str, *, prompt_ids: list[int], sampling_params: dict[str, Any], **_: Any
    ) -> Any:
        episode, turns = self._episode(request_id, prompt_ids)
        k = self._turn_count[request_id]
        self._turn_count[request_id] += 1
        text = f"{turns[min(k, len(turns) - 1)]} [ep {episode} turn {k + 1}]"
        ids = self.tokenizer.encode(text, add_special_tokens=False) + [self._im_end]
        ids = ids[: int(sampling_params.get("max_tokens", len(ids)))]
        service = self.service_s(len(prompt_ids), len(ids))
        async with self._slots:
            start = time.time()
            await asyncio.sleep(service)
            self.calls.append(PolicyCall(episode, k + 1, service, start, time.time()))
        return _verl.TokenOutput(token_ids=ids, log_probs=None, stop_reason="completed", extra_fields={})
