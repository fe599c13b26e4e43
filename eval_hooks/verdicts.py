"""The evaluator's verdict schemas: AskBench's arbiter fields (spec §2.5) and HealthBench's rubric grade (§3.2).

Validation is strict where the original was lax (spec §7.2): a boolean field accepts a JSON boolean or the
strings ``"true"``/``"false"`` (any case), nothing else (the original's ``bool("false")`` was true); a reply that
is a list, or misses a field, is a schema mismatch that the judge client re-asks and finally reports as a failure.

    verdict = ArbiterVerdict.model_validate({"is_final_answer": True, "is_correct": "false", ...})
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, field_validator


def _coerce_bool_string(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


class _Verdict(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class ArbiterVerdict(_Verdict):
    """The arbiter's judgement of the latest assistant message of a dialogue (field names as the original's)."""

    is_final_answer: StrictBool
    is_correct: StrictBool | None = None
    all_required_points_resolved: StrictBool
    missing_required_points: list[StrictStr] = []
    notes: StrictStr = ""

    @field_validator("is_final_answer", "is_correct", "all_required_points_resolved", mode="before")
    @classmethod
    def _bools(cls, value: Any) -> Any:
        return _coerce_bool_string(value)

    @field_validator("missing_required_points", mode="before")
    @classmethod
    def _points(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("notes", mode="before")
    @classmethod
    def _notes(cls, value: Any) -> Any:
        return "" if value is None else value


class RubricVerdict(_Verdict):
    """Whether one HealthBench rubric item is met by the reply."""

    explanation: StrictStr = ""
    criteria_met: StrictBool

    @field_validator("criteria_met", mode="before")
    @classmethod
    def _met(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("yes", "y", "1", "no", "n", "0"):
            return value.strip().lower() in ("yes", "y", "1")
        return _coerce_bool_string(value)
