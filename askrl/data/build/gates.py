"""Quality gates on a generated variant: each rejection is one named, counted reason, never a silent drop.

Who uses it: ``askrl/data/build/pipeline.py`` (the order: shape gates here, then the verifier and solver passes,
then the near-duplicate index at commit time). The shape gates are pure functions of the generation; the
LLM-backed gates (``ungrounded_checklist``, ``premise_not_false``, ``still_answerable``) are decided here from
the verifier's and solver's parsed verdicts, so their rules are unit-tested without a server.

Reasons (``REJECT_REASONS``, the keys of ``report.json``'s ``rejected``):
- ``malformed_generation``: the generator's reply was not the schema after the client's re-asks.
- ``unchanged_question``: the variant equals the original (case and whitespace ignored).
- ``checklist_empty`` / ``checklist_too_long``: no items, or more than ``max_points``.
- ``too_few_claims``: an AskOverconfidence variant with fewer than ``min_claims`` misleading points.
- ``ungrounded_checklist``: the verifier found a checklist item that is not about the change (AskMind) or a claim
  the rewritten question does not assert (AskOverconfidence).
- ``premise_not_false``: the verifier found a claimed premise that is actually true.
- ``still_answerable``: a solver pass on the AskMind variant reached the expected answer without the facts.
- ``near_duplicate``: the variant is within ``dedup_threshold`` similarity of an item already kept.
- ``bucket_full``: ``--balance`` left the item out to keep the pass-rate buckets even (not generated).
- ``trajectory_unresolved``: ``--trajectories`` could not end the dialogue in a correct answer.

    rejection = shape_gate("askmind", qa.ori_question, gen.degraded_question, gen.required_points, limits)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

RejectReason = Literal[
    "malformed_generation",
    "unchanged_question",
    "checklist_empty",
    "checklist_too_long",
    "too_few_claims",
    "ungrounded_checklist",
    "premise_not_false",
    "still_answerable",
    "near_duplicate",
    "bucket_full",
    "trajectory_unresolved",
]
REJECT_REASONS: tuple[RejectReason, ...] = RejectReason.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class GateLimits:
    """Thresholds of the shape gates (``--max-points``, ``--min-claims``)."""

    max_points: int = 6
    min_claims: int = 2


@dataclass(frozen=True)
class Rejection:
    """Why a variant was rejected: the reason and a human-readable detail (which item, which value)."""

    reason: RejectReason
    detail: str


def same_text(a: str, b: str) -> bool:
    """Equal after case folding and collapsing whitespace."""
    return re.sub(r"\s+", " ", a).strip().casefold() == re.sub(r"\s+", " ", b).strip().casefold()


def shape_gate(
    task: Literal["askmind", "overconfidence"],
    original: str,
    variant: str,
    checklist: list[str],
    limits: GateLimits,
) -> Rejection | None:
    """The gates that need no LLM: unchanged question, checklist size, number of claims."""
    if same_text(original, variant):
        return Rejection("unchanged_question", "the variant equals the original question")
    if not checklist:
        return Rejection("checklist_empty", "the generation has no checklist items")
    if len(checklist) > limits.max_points:
        return Rejection("checklist_too_long", f"{len(checklist)} items, more than --max-points {limits.max_points}")
    if task == "overconfidence" and len(checklist) < limits.min_claims:
        return Rejection("too_few_claims", f"{len(checklist)} misleading points, fewer than {limits.min_claims}")
    return None


def grounding_gate(checklist: list[str], grounded: list[bool]) -> Rejection | None:
    """AskMind: every checklist item must be about information the variant removed or blurred."""
    bad = [f"{i + 1}. {item}" for i, (item, ok) in enumerate(zip(checklist, grounded, strict=True)) if not ok]
    return Rejection("ungrounded_checklist", "not about the change: " + "; ".join(bad)) if bad else None


def claims_gate(claims: list[str], asserted: list[bool], false: list[bool]) -> Rejection | None:
    """AskOverconfidence: every claim must be asserted in the question (grounded) and actually false."""
    missing = [f"{i + 1}. {c}" for i, (c, ok) in enumerate(zip(claims, asserted, strict=True)) if not ok]
    if missing:
        return Rejection("ungrounded_checklist", "not asserted in the question: " + "; ".join(missing))
    true = [f"{i + 1}. {c}" for i, (c, ok) in enumerate(zip(claims, false, strict=True)) if not ok]
    return Rejection("premise_not_false", "actually true: " + "; ".join(true)) if true else None
