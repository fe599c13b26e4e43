"""askrl_traj_grpo / askrl_turn_grpo on hand-built groups, through VERL's own advantage dispatch.

Covers: turn recovery from ``response_mask`` runs, signs and zero group means, masked rows (all-zero mask) left out
of the statistics, equality with VERL's ``grpo`` when nothing is masked, and the stopping-turn bias of the naive
per-turn baseline (exact expectation over every joint action of a small group). Nothing is faked: the tensors are
hand-built and the estimators run through ``compute_advantage_for_multi_trajectories`` / ``get_adv_estimator_fn``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from askrl import _verl
from reward.advantages import (
    SHUFFLED_CONTROL,
    TRAJ_GRPO,
    TURN_GRPO,
    compute_traj_grpo_advantage,
    compute_turn_grpo_advantage,
    register_advantage_estimators,
    shuffled_returns,
    turn_rewards,
    turn_spans,
)

L = 12


def row(turns: list[tuple[int, int, float]], length: int = L) -> tuple[list[float], list[int]]:
    """(rewards, mask) of one trajectory: each turn is (start, end_exclusive, reward at end - 1)."""
    rewards, mask = [0.0] * length, [0] * length
    for start, end, reward in turns:
        for i in range(start, end):
            mask[i] = 1
        rewards[end - 1] = reward
    return rewards, mask


def batch(rows: list[tuple[list[float], list[int]]]) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor([r for r, _ in rows]), torch.tensor([m for _, m in rows])


def algo(norm: bool = True, estimator: str = TURN_GRPO):
    return OmegaConf.create({"adv_estimator": estimator, "norm_adv_by_std_in_grpo": norm, "gamma": 1.0, "lam": 1.0})


def per_turn(adv: torch.Tensor, mask: torch.Tensor) -> list[list[float]]:
    """The advantage of each turn of each row (constant within a turn, checked)."""
    out = []
    for a_row, m_row in zip(adv, mask, strict=True):
        values = []
        for start, end in turn_spans(m_row):
            chunk = a_row[start:end]
            assert torch.allclose(chunk, chunk[0].expand_as(chunk)), "advantage must be constant within a turn"
            values.append(float(chunk[0]))
        out.append(values)
    return out


def test_turns_are_maximal_mask_runs_with_their_rewards():
    rewards, mask = row([(0, 3, 0.8), (6, 8, -1.0)])
    rewards[5] = 0.25  # a stray reward on a user token belongs to the turn before it
    spans = turn_spans(torch.tensor(mask))
    assert spans == [(0, 3), (6, 8)]
    assert turn_rewards(torch.tensor(rewards), spans) == pytest.approx([1.05, -1.0])
    assert turn_spans(torch.zeros(5)) == []


def test_registration_makes_both_names_resolvable_and_is_idempotent():
    register_advantage_estimators()
    register_advantage_estimators()
    assert _verl.get_adv_estimator_fn(TRAJ_GRPO) is compute_traj_grpo_advantage
    assert _verl.get_adv_estimator_fn(TURN_GRPO) is compute_turn_grpo_advantage


def run_verl(estimator: str, rows, uids: list[str], norm: bool = True) -> torch.Tensor:
    """Advantages as VERL's v1 trainer computes them (``_compute_advantage`` step 3)."""
    register_advantage_estimators()
    rewards, mask = batch(rows)
    data = _verl.DataProto.from_dict(tensors={"token_level_rewards": rewards, "response_mask": mask})
    data.non_tensor_batch["uid"] = np.array(uids, dtype=object)
    keys = [f"{uid}_{i}_0" for i, uid in enumerate(uids)]
    out = _verl.compute_advantage_for_multi_trajectories(
        data, batch_keys=keys, adv_estimator=estimator, config=algo(norm, estimator), norm_adv_by_std_in_grpo=norm
    )
    return out.batch["advantages"]


def test_traj_grpo_equals_verl_grpo_when_nothing_is_masked():
    rows = [row([(0, 2, 0.8), (4, 6, 1.0)]), row([(0, 3, -2.0)]), row([(0, 2, -0.8), (5, 7, -1.0)]), row([(0, 4, 1.0)])]
    uids = ["a", "a", "b", "b"]
    ours = run_verl(TRAJ_GRPO, rows, uids)
    reference = run_verl("grpo", rows, uids)
    assert torch.allclose(ours, reference, atol=1e-6)


def test_traj_grpo_leaves_masked_rows_out_of_the_group():
    good, bad = row([(0, 2, 1.0)]), row([(0, 2, -1.0)])
    masked = ([0.0] * L, [0] * L)  # what TurnRewardOutput.as_dict writes for a judge failure
    adv = run_verl(TRAJ_GRPO, [good, bad, masked], ["g", "g", "g"])
    assert adv[2].abs().sum() == 0
    # mean over the two valid rows is 0, so the masked placeholder 0.0 did not pull it
    assert float(adv[0, 0]) > 0 > float(adv[1, 0])
    assert float(adv[0, 0]) == pytest.approx(-float(adv[1, 0]))
    # a group left with one valid trajectory has nothing to compare against
    alone = run_verl(TRAJ_GRPO, [good, masked], ["h", "h"])
    assert alone.abs().sum() == 0


def test_turn_grpo_signs_and_zero_mean_per_group_and_turn():
    # group x: asked well then answered correctly / asked badly then wrong / answered prematurely at once
    x = [row([(0, 3, 1.0), (5, 8, 1.0)]), row([(0, 3, -0.8), (5, 8, -1.0)]), row([(0, 4, -2.0)])]
    # group y: two identical trajectories and one that differs only on turn 2
    y = [row([(0, 2, 0.8), (4, 6, 1.0)]), row([(0, 2, 0.8), (4, 6, 1.0)]), row([(0, 2, 0.8), (4, 6, -1.0)])]
    uids = ["x"] * 3 + ["y"] * 3
    adv = run_verl(TURN_GRPO, x + y, uids)
    _, mask = batch(x + y)
    turns = per_turn(adv, mask)
    best, worst, premature = turns[0], turns[1], turns[2]
    assert best[0] > 0 and best[1] > 0
    assert worst[0] < 0 and worst[1] < 0
    assert premature[0] < 0 and len(premature) == 1
    # y: the first turns are identical but their returns-to-go differ (1.8, 1.8, -0.2), so turn 1 is credited too
    assert turns[3][0] > 0 and turns[5][0] < 0 and turns[3][1] > 0 > turns[5][1]
    # the advantages of the trajectories that share a state (their reward history) sum to zero at each turn:
    # turn 1 in both groups (everyone starts in the same state), turn 2 in y (all three earned 0.8 on turn 1)
    for rows, k in ((range(0, 3), 0), (range(3, 6), 0), (range(3, 6), 1)):
        assert sum(turns[r][k] for r in rows) == pytest.approx(0.0, abs=1e-5)
    # x's turn-2 states differ (1.0 vs -0.8): no pooling across them, each turn keeps its turn-1 comparison
    assert best[1] == pytest.approx(best[0]) and worst[1] == pytest.approx(worst[0])
    # advantages live on policy tokens only
    assert torch.all(adv[mask == 0] == 0)


def test_turn_grpo_masked_rows_get_zero_and_lonely_turns_keep_their_last_comparison():
    a = row([(0, 2, 0.8), (4, 6, 1.0)])
    b = row([(0, 3, -2.0)])
    masked = ([0.0] * L, [0] * L)
    adv = run_verl(TURN_GRPO, [a, b, masked], ["g", "g", "g"], norm=False)
    _, mask = batch([a, b, masked])
    turns = per_turn(adv, mask)
    assert turns[0][0] == pytest.approx(1.8 - (-2.0))  # leave-one-out baseline: the other valid trajectory
    assert turns[1][0] == pytest.approx(-2.0 - 1.8)
    assert turns[0][1] == turns[0][0]  # nobody else reached turn 2: it keeps its last comparison (turn 1)
    assert adv[2].abs().sum() == 0


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="same"):
        compute_turn_grpo_advantage(torch.zeros(2, 3), torch.zeros(2, 4), np.array(["a", "a"]))
    with pytest.raises(ValueError, match="index"):
        compute_traj_grpo_advantage(torch.zeros(2, 3), torch.zeros(2, 3), np.array(["a"]))


# -- the stopping-turn bias ------------------------------------------------------------------------------------------
# A one-decision clarification bandit: at turn 1 the policy asks with probability p (-> r1 = ASK_TURN, then a final
# answer r2 = ASK_FINAL) or answers at once (-> r1 = ANSWER). d/d(logit) log pi(a) = 1[ask] - p. Exact expectation of
# each estimator's policy gradient over all 2^n joint actions of a group of n, versus the true gradient.
ASK_TURN, ASK_FINAL, ANSWER = -0.8, 1.0, 0.1


def naive_turn_advantages(rewards: list[list[float]]) -> list[list[float]]:
    """MT-GRPO-style: per-index leave-one-out reward baseline, summed over the trajectory's own remaining turns."""
    mu: list[list[float]] = []
    for i, own in enumerate(rewards):
        mu.append([])
        for k in range(len(own)):
            others = [r[k] for j, r in enumerate(rewards) if j != i and len(r) > k]
            mu[i].append(sum(others) / len(others) if others else own[k])
    return [
        [sum(r[j] - m[j] for j in range(k, len(r))) for k in range(len(r))] for r, m in zip(rewards, mu, strict=True)
    ]


def expected_gradient(estimator, n: int, p: float) -> float:
    total = 0.0
    for actions in itertools.product([True, False], repeat=n):
        prob = np.prod([p if a else 1 - p for a in actions])
        rows = [row([(0, 2, ASK_TURN), (4, 6, ASK_FINAL)]) if a else row([(0, 2, ANSWER)]) for a in actions]
        if estimator == "naive":
            per_row = [[ASK_TURN, ASK_FINAL] if a else [ANSWER] for a in actions]
            first = [t[0] for t in naive_turn_advantages(per_row)]
        else:
            rewards, mask = batch(rows)
            adv, _ = compute_turn_grpo_advantage(rewards, mask, np.array(["g"] * n), config=algo(norm=False))
            first = [t[0] for t in per_turn(adv, mask)]
        total += prob * sum(f * ((1.0 if a else 0.0) - p) for f, a in zip(first, actions, strict=True))
    return total / n  # per trajectory


@pytest.mark.parametrize("p", [0.3, 0.5])
def test_turn_grpo_is_unbiased_where_the_naive_per_turn_baseline_is_not(p):
    n = 4
    true_gradient = p * (1 - p) * ((ASK_TURN + ASK_FINAL) - ANSWER)  # d/dlogit of E[R]; > 0: asking pays
    ours = expected_gradient("ours", n, p)
    naive = expected_gradient("naive", n, p)
    assert true_gradient > 0
    assert ours == pytest.approx(true_gradient, abs=1e-6)
    assert naive < 0  # it subtracts E[r_2] from askers only: it teaches the policy not to ask


@pytest.mark.parametrize("name", [TRAJ_GRPO, TURN_GRPO])
def test_a_step_with_every_trajectory_masked_stops_instead_of_dividing_by_zero(name: str) -> None:
    from askrl.errors import RolloutError

    fn = compute_traj_grpo_advantage if name == TRAJ_GRPO else compute_turn_grpo_advantage
    with pytest.raises(RolloutError, match="every one of the 2 trajectories of this step is masked"):
        fn(torch.zeros(2, 4), torch.zeros(2, 4), np.array(["a", "a"]))


def test_turn_grpo_exact_values_with_std_normalisation():
    # returns-to-go: a = (2.0, 1.0), b = (-1.8, -1.0), c = (-2.0,)
    a = row([(0, 2, 1.0), (4, 6, 1.0)])
    b = row([(0, 2, -0.8), (4, 6, -1.0)])
    c = row([(0, 3, -2.0)])
    adv = run_verl(TURN_GRPO, [a, b, c], ["g"] * 3, norm=True)
    _, mask = batch([a, b, c])
    turns = per_turn(adv, mask)
    # turn 1: mean -0.6, centred (2.6, -1.2, -1.4), leave-one-out residual = 3/2 * centred
    # turn 2: a and b are in different states (turn-1 rewards 1.0 and -0.8): no comparison, each keeps turn 1's
    # scale: root mean square of every centred return-to-go compared, sqrt((2.6^2 + 1.2^2 + 1.4^2) / 3)
    scale = math.sqrt((2.6**2 + 1.2**2 + 1.4**2) / 3) + 1e-6
    assert turns[0] == pytest.approx([3.9 / scale, 3.9 / scale], rel=1e-5)
    assert turns[1] == pytest.approx([-1.8 / scale, -1.8 / scale], rel=1e-5)
    assert turns[2] == pytest.approx([-2.1 / scale], rel=1e-5)


def test_turn_grpo_state_baseline_does_not_punish_the_best_strategys_answer():
    # issue 18: 2x ask-all (1.0, 1.0) and 6x piecemeal (0.53, 0.27, 1.0); the pooled turn-2 baseline gave ask-all's
    # correct final answer -2.63. Conditioned on the state, it is compared with the other ask-all only.
    ask_all = row([(0, 2, 1.0), (4, 6, 1.0)])
    piecemeal = row([(0, 2, 1.6 / 3), (4, 6, 0.8 / 3), (8, 10, 1.0)])
    for norm in (True, False):
        adv = run_verl(TURN_GRPO, [ask_all] * 2 + [piecemeal] * 6, ["g"] * 8, norm=norm)
        _, mask = batch([ask_all] * 2 + [piecemeal] * 6)
        turns = per_turn(adv, mask)
        assert turns[0][0] > 0 and turns[0][1] == pytest.approx(0.0, abs=1e-6)
        assert all(a <= 1e-6 for a in turns[2]) and turns[2][0] < 0
        # one ask-all alone: its answer keeps its (positive) turn-1 comparison
        adv = run_verl(TURN_GRPO, [ask_all] + [piecemeal] * 6, ["g"] * 7, norm=norm)
        _, mask = batch([ask_all] + [piecemeal] * 6)
        turns = per_turn(adv, mask)
        assert turns[0][1] == pytest.approx(turns[0][0]) and turns[0][1] > 0


def test_shuffled_control_permutes_returns_within_groups_and_keeps_masked_rows_out() -> None:
    rows = [row([(0, 3, 1.0), (5, 7, 2.0)]), row([(0, 4, -1.0)]), row([(0, 2, 0.5)]),  # group a: returns 3, -1, .5
            row([(0, 3, 4.0)]), row([(0, 3, -4.0)]), ([0.0] * L, [0] * L)]  # group b, and a masked row
    rewards, mask = batch(rows)
    index = np.array(["a", "a", "a", "b", "b", "b"])
    shuffled = shuffled_returns(rewards, mask, index, np.random.default_rng(3))
    ends = [spans[-1][1] - 1 for spans in map(turn_spans, mask[:5])]
    assert sorted(float(shuffled[r, ends[r]]) for r in range(3)) == [-1.0, 0.5, 3.0]
    assert sorted(float(shuffled[r, ends[r]]) for r in (3, 4)) == [-4.0, 4.0]
    assert float(shuffled.abs().sum()) == sum(abs(float(shuffled[r, ends[r]])) for r in range(5))  # nothing else
    assert not bool(shuffled[5].any())
    # the control's advantages are askrl_turn_grpo's on the shuffled returns, through VERL's dispatch
    register_advantage_estimators()
    adv, _ = _verl.get_adv_estimator_fn(SHUFFLED_CONTROL)(rewards, mask, index, config=algo())
    assert adv.shape == rewards.shape and not bool(adv[5].any())
    assert bool(((adv != 0) <= (mask > 0)).all())  # only policy tokens carry advantage
