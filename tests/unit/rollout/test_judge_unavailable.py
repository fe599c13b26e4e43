"""``judge_unavailable``: a step's trajectories tell the trainer the judge is gone (it then stops the run)."""

from __future__ import annotations

from askrl.judge.client import UNAVAILABLE
from askrl.rollout.judge_cost import judge_unavailable

GONE = f"{UNAVAILABLE}endpoint(s) j0 (http://127.0.0.1:9/v1, unreachable for 301 s): no reply within ..."


def fields(*errors: str | None) -> dict:
    turns = [{"outcome": {"error": e}} if e is not None else {"outcome": None} for e in errors]
    return {"reward_extra_info": {}, "askrl_turns": turns}


def test_the_first_gone_error_of_any_turn_is_returned() -> None:
    step = [fields(None), fields("ep0: connection failed", GONE), fields(GONE + " (later)")]
    assert judge_unavailable(step) == GONE


def test_other_failures_and_odd_rows_are_not_a_gone_judge() -> None:
    assert judge_unavailable([fields("ep0: connection failed"), fields(None), {"reward_extra_info": {}}, None]) is None
    assert judge_unavailable([]) is None
