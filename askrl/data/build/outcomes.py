"""What building one item can end in: kept (a record), rejected (a counted reason) or failed (retried later).

Who uses it: ``pipeline.py``, ``trajectory.py`` and ``difficulty.py`` return these; ``runner.py`` writes them.
The split matters for resume: a rejection is a decision about the content (written to ``rejected.jsonl`` and
skipped on a re-run), a failure is an infrastructure problem after the client's retries (a timeout, an HTTP
error, an endpoint down, an unreadable check reply; written to ``failed.jsonl`` and tried again on a re-run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from askrl.data.build.gates import RejectReason
from askrl.judge.types import JudgeResult


@dataclass(frozen=True)
class Kept:
    """A record that passed every gate but the near-duplicate one (checked at commit); ``variant`` is its text."""

    record: dict[str, Any]
    variant: str


@dataclass(frozen=True)
class Rejected:
    id: str
    reason: RejectReason
    detail: str
    generation: dict[str, Any] | str | None = None  # the parsed generation, or the raw reply when malformed
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failed:
    """``step`` names the call (``generate``, ``verify``, ``solve``, ``pass_rate``, ``ask``, ``user``, ...)."""

    id: str
    step: str
    kind: str  # a FailureKind value
    error: str

    @property
    def label(self) -> str:
        return f"{self.step}:{self.kind}"


Outcome = Kept | Rejected | Failed


def failed_call(item_id: str, step: str, result: JudgeResult[Any]) -> Failed:
    """The ``Failed`` outcome of a call whose ``result`` failed."""
    assert result.failure is not None
    return Failed(item_id, step, result.failure.value, result.error or "")
