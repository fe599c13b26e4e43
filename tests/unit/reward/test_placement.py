"""Token positions of per-turn rewards (VERL's rm_scores). Pure functions on hand-built masks."""

from __future__ import annotations

import pytest

from askrl.errors import RolloutError
from reward.placement import place_turn_rewards, turn_end_positions


def test_turn_ends_are_the_last_policy_token_of_each_run() -> None:
    #       a1 a1 u  u  u  a2 a2 a2 u  a3 pad
    mask = [1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0]
    assert turn_end_positions(mask) == [1, 7, 9]
    assert turn_end_positions([1, 1, 1]) == [2]  # a run reaching the end (cut at response_length)
    assert turn_end_positions([0, 0]) == []


def test_rewards_land_on_turn_ends_and_nowhere_else() -> None:
    mask = [1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0]
    scores = place_turn_rewards(mask, [0.8, 1.0, -1.0])
    assert len(scores) == len(mask)
    assert {i: s for i, s in enumerate(scores) if s} == {1: 0.8, 7: 1.0, 9: -1.0}
    assert sum(scores) == pytest.approx(0.8)  # GRPO's per-sequence sum = the trajectory total


def test_zero_reward_turn_still_occupies_its_position() -> None:
    scores = place_turn_rewards([1, 0, 1, 0, 1], [0.0, -0.8, 1.0])
    assert scores == [0.0, 0.0, -0.8, 0.0, 1.0]


def test_explicit_turn_ends_override_the_runs() -> None:
    # two assistant turns glued together with no mask-0 token between them: one run, two recorded ends
    mask = [1, 1, 1, 1, 0]
    assert place_turn_rewards(mask, [0.8, 1.0], turn_ends=[1, 3]) == [0.0, 0.8, 0.0, 1.0, 0.0]


@pytest.mark.parametrize(
    ("mask", "rewards", "ends", "message"),
    [
        ([1, 0, 1], [1.0], None, "1 turn rewards but 2 policy-token runs"),
        ([1, 0, 1], [1.0, 1.0, 1.0], None, "3 turn rewards but 2"),
        ([1, 0, 1], [1.0, 1.0], [0, 1], "not a policy token"),
        ([1, 0, 1], [1.0, 1.0], [2, 0], "must be after 2"),
        ([1, 0, 1], [1.0, 1.0], [0, 3], "below 3"),
        ([1, 0, 1], [1.0, None], None, "masked"),
    ],
)
def test_inconsistent_inputs_raise(mask: list[int], rewards: list, ends: list[int] | None, message: str) -> None:
    with pytest.raises(RolloutError, match=message):
        place_turn_rewards(mask, rewards, turn_ends=ends)
