"""``TurnOutcome``: what scoring one assistant turn produced — a reward, or an explicit reason there is none.

Who uses it: produced by ``reward.scoring``; read by ``reward.episode``, ``reward.metrics``, ``reward.verl_fn``,
``reward.score`` and the rollout (``askrl/rollout``).

Contract: ``outcome`` is ``ok`` (a verdict was graded), ``guard`` (a cheap check fired, no judge call) or
``judge_failed`` (the judge gave no verdict after its retries, or one that contradicts the request). ``reward`` is
None exactly when the turn is masked (``judge_failed`` under ``on_judge_failure: mask``); a masked turn never
carries a number that could be mistaken for a reward.

    out = await score_turn(judge, request, cfg)
    if out.masked: ...            # keep the trajectory out of the loss
    out.to_json()["reward"]       # float or None
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from askrl.judge.types import AnyFinalVerdict, AnyTurnVerdict, FailureKind
from reward.table import GuardKind, TurnKind

OutcomeKind = Literal["ok", "judge_failed", "guard"]
#: Which row of the table a graded turn landed on.
Label = Literal["premature_answer", "no_hit", "some_hit", "all_hit", "still_asking", "wrong", "correct"]


@dataclass(frozen=True)
class TurnOutcome:
    """The result of scoring one assistant turn."""

    kind: TurnKind
    outcome: OutcomeKind
    reward: float | None
    """None exactly when the turn is masked."""
    label: Label | None = None
    """The table row of a graded (``ok``) turn."""
    guard: GuardKind | None = None
    failure: FailureKind | None = None
    error: str | None = None
    """Detail of a judge failure (from the judge, or why its verdict was rejected)."""
    verdict: AnyTurnVerdict | AnyFinalVerdict | None = None
    checklist_len: int = 0
    hit_indices: tuple[int, ...] = ()
    """Checklist items this (non-final) turn targeted, per the verdict."""
    redundant_indices: tuple[int, ...] = ()
    """Targeted items that an earlier turn had already resolved."""
    redundant: bool = False
    """Re-targeted a resolved item, or asked again when every item was already resolved (the paper's unq)."""
    answer_label: Label | None = None
    """For a final answer given on a turn not scheduled as final: its final-table grade (``correct``/``wrong``).
    Such a turn ends the episode: ``kind="final"`` when no facts were missing (timely), else ``kind="nonfinal"``
    with ``label="premature_answer"``."""
    missing_indices: tuple[int, ...] = ()
    """For an answer (early or on the final turn): the checklist items still missing when it was given (online
    credit: per the user's reports, ``reward.turn_credit.missing_items``)."""
    judge_called: bool = False
    latency_s: float = 0.0
    attempts: int = 0

    @property
    def masked(self) -> bool:
        """True when the turn has no reward and its trajectory must leave the loss and the group baseline."""
        return self.reward is None

    @property
    def premature(self) -> bool:
        return self.label == "premature_answer"

    @property
    def stops_episode(self) -> bool:
        """Nothing after this turn is played or scored: it answered, answered prematurely, or its judge failed
        (under every ``on_judge_failure`` policy: masked, or penalised and final)."""
        return self.kind == "final" or self.premature or self.outcome == "judge_failed"

    @property
    def answered_early(self) -> bool:
        """A final answer on a turn that was not scheduled as the final one (timely or premature)."""
        return self.answer_label is not None

    @property
    def hit_fraction(self) -> float | None:
        """Share of the checklist this graded non-final turn targeted (None when not applicable)."""
        if self.outcome != "ok" or self.kind != "nonfinal" or self.checklist_len == 0:
            return None
        return len(self.hit_indices) / self.checklist_len

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready record (the CLI's output line, rollout dumps)."""
        return {
            "reward": self.reward,
            "outcome": self.outcome,
            "kind": self.kind,
            "label": self.label,
            "guard": self.guard,
            "failure": self.failure.value if self.failure is not None else None,
            "error": self.error,
            "verdict": self.verdict.model_dump() if self.verdict is not None else None,
            "hits": list(self.hit_indices),
            "redundant": self.redundant,
            "answer_label": self.answer_label,
            "missing": list(self.missing_indices),
            "judge_called": self.judge_called,
            "latency_s": round(self.latency_s, 6),
            "attempts": self.attempts,
        }
