"""The masking contract's helpers: which loss mask a trajectory carries, and how the estimator spots a masked row."""

from __future__ import annotations

from reward.masking import MASKED_PLACEHOLDER_SCORE, is_masked, is_masked_row, masked_response_mask


def test_masked_trajectory_loses_every_policy_token() -> None:
    assert masked_response_mask([1, 1, 0, 1], {"judge_failed": 1.0, "masked": 1.0}) == [0, 0, 0, 0]
    assert is_masked_row(masked_response_mask([1, 0, 1], {"masked": 1}))


def test_penalized_failure_keeps_its_mask() -> None:
    info = {"judge_failed": 1.0, "masked": 0.0}  # on_judge_failure=penalize: counted, but trained on
    assert not is_masked(info)
    assert masked_response_mask([1, 1, 0, 1], info) == [1, 1, 0, 1]
    assert not is_masked_row([0, 0, 1])


def test_placeholder_is_neutral() -> None:
    assert MASKED_PLACEHOLDER_SCORE == 0.0
