"""The rollout benchmark's bound arithmetic (``askrl.bench.bound``) on hand-built latencies."""

from __future__ import annotations

import pytest

from askrl.bench.bound import EpisodeTrace, capacity_bound, idle_seconds, idle_share, rollout_bound


def test_the_chain_bound_is_the_longest_episode_chain() -> None:
    short = EpisodeTrace(policy_s=(0.5,), judge_phase_s=(0.2,))  # 0.7
    long = EpisodeTrace(policy_s=(0.5, 0.4, 0.3), judge_phase_s=(0.2, 0.25, 0.1))  # 1.75
    bound = rollout_bound(
        [short, long], policy_service_s=[0.5, 0.5, 0.4, 0.3], policy_slots=8, judge_service_s=[0.2] * 5, judge_slots=4
    )
    assert bound.chain_s == pytest.approx(1.75)
    assert bound.policy_capacity_s == pytest.approx(1.7 / 8)
    assert bound.judge_capacity_s == pytest.approx(1.0 / 4)
    assert bound.bound_s == pytest.approx(1.75) and bound.binding == "chain"


def test_the_capacity_bound_binds_when_slots_are_scarce() -> None:
    episodes = [EpisodeTrace(policy_s=(1.0,), judge_phase_s=(0.5,)) for _ in range(10)]  # chain 1.5 each
    bound = rollout_bound(
        episodes, policy_service_s=[1.0] * 10, policy_slots=2, judge_service_s=[0.5] * 10, judge_slots=10
    )
    assert bound.policy_capacity_s == pytest.approx(5.0) and bound.judge_capacity_s == pytest.approx(0.5)
    assert bound.bound_s == pytest.approx(5.0) and bound.binding == "policy_capacity"
    judge_bound = rollout_bound(
        episodes, policy_service_s=[1.0] * 10, policy_slots=10, judge_service_s=[0.5] * 12, judge_slots=3
    )
    assert judge_bound.bound_s == pytest.approx(2.0) and judge_bound.binding == "judge_capacity"


def test_capacity_and_durations_are_checked() -> None:
    assert capacity_bound([1.0, 2.0, 3.0], 3) == pytest.approx(2.0)
    assert capacity_bound([], 1) == 0.0
    with pytest.raises(ValueError, match="slots"):
        capacity_bound([1.0], 0)
    with pytest.raises(ValueError, match="negative"):
        rollout_bound(
            [EpisodeTrace((-0.1,), ())], policy_service_s=[], policy_slots=1, judge_service_s=[], judge_slots=1
        )


def test_idle_counts_judge_time_with_no_policy_request_in_service() -> None:
    # policy busy 0-0.5 and 0.7-1.1; judge busy 0.4-0.9: idle only in 0.5-0.7
    policy, judge = [(0.0, 0.5), (0.7, 1.1)], [(0.4, 0.9)]
    assert idle_seconds(policy=policy, judge=judge, start=0.0, end=1.1) == pytest.approx(0.2)
    assert idle_share(policy=policy, judge=judge, start=0.0, end=1.1) == pytest.approx(0.2 / 1.1)


def test_idle_ignores_gaps_without_judge_work_and_overlapping_requests_count_once() -> None:
    policy = [(0.0, 1.0), (0.2, 0.4), (2.0, 3.0)]  # a gap 1.0-2.0
    judge = [(0.9, 1.3), (1.1, 1.5), (2.5, 2.6)]  # judge busy 1.0-1.5 within the gap; 1.5-2.0 nobody works
    assert idle_seconds(policy=policy, judge=judge, start=0.0, end=3.0) == pytest.approx(0.5)


def test_idle_is_clipped_to_the_window() -> None:
    assert idle_seconds(policy=[], judge=[(-1.0, 0.5), (2.5, 4.0)], start=0.0, end=3.0) == pytest.approx(1.0)
    assert idle_share(policy=[], judge=[(0.0, 1.0)], start=1.0, end=1.0) == 0.0
    with pytest.raises(ValueError, match="ends before"):
        idle_seconds(policy=[(1.0, 0.5)], judge=[], start=0.0, end=2.0)
