"""What each data-building LLM call must return: strict pydantic models, validated by ``JudgeClient``.

Who uses it: ``askrl/data/build/llm.py`` (one schema per step) and the scripted test server's generator role,
which routes on the ``Build*`` schema names. A reply that does not validate is re-asked by the client with a
repair note and, after its retries, is a ``schema_mismatch`` / ``invalid_json`` failure: never a half-read value.

Reasoning fields come first so a model writes its analysis before committing to the fields graded by the gates.
Length invariants that depend on the item (one verdict per checklist item) are ``check`` callables
(``same_length``), as the judge's ``check_hits_length`` is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


class BuildAskMind(_Strict):
    """An AskMind variant (spec §5.2): what was removed or blurred, the checklist, then the degraded question."""

    degraded_info: StrictStr
    required_points: list[StrictStr]
    degraded_question: StrictStr

    check_blank = field_validator("degraded_info", "degraded_question")(_not_blank)


class BuildOverconfidence(_Strict):
    """An AskOverconfidence variant: one block per false claim, short labels, then the overconfident question.

    ``overconfidence_info`` may come as a list of blocks (models often write one); the pipeline joins it.
    """

    overconfidence_info: StrictStr | list[StrictStr]
    misleading_points: list[StrictStr]
    overconfidence_question: StrictStr

    check_blank = field_validator("overconfidence_question")(_not_blank)


class BuildAnswer(_Strict):
    """A solver's or the policy's attempt at a question: working, then the final answer alone."""

    reasoning: StrictStr = ""
    final_answer: StrictStr


class BuildPointCheck(_Strict):
    """AskMind verifier: is each checklist item about information the degraded question removed or blurred?"""

    reasoning: StrictStr = ""
    grounded: list[StrictBool]


class BuildClaimCheck(_Strict):
    """AskOverconfidence verifier, per claim: asserted in the rewritten question, and actually false?"""

    reasoning: StrictStr = ""
    asserted: list[StrictBool]
    false: list[StrictBool]


class BuildCoverage(_Strict):
    """Trajectory coverage check: is each checklist item resolved by the conversation so far?"""

    reasoning: StrictStr = ""
    covered: list[StrictBool]


class BuildMessage(_Strict):
    """One assistant message of a trajectory (a clarifying question, an answer, or a corrected answer)."""

    message: StrictStr

    check_blank = field_validator("message")(_not_blank)


def same_length(n_items: int, *fields: str) -> Callable[[Any], None]:
    """A ``JudgeClient`` check: each named list field has exactly ``n_items`` entries (one per checklist item)."""

    def check(verdict: Any) -> None:
        for name in fields:
            got = len(getattr(verdict, name))
            if got != n_items:
                raise ValueError(f"{name} has {got} entries, the checklist has {n_items}")

    return check
