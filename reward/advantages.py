"""Advantage estimators for clarification episodes: trajectory GRPO and an unbiased turn-level GRPO.

Who calls it: VERL's trainer, through ``core_algos.get_adv_estimator_fn(algorithm.adv_estimator)`` in the
TaskRunner process (``askrl/plugins.py`` calls ``register_advantage_estimators()`` there). It imports VERL only
through ``askrl._verl`` and nothing from the rest of askrl.

Input contract (what ``ClarifyAgentLoop`` writes, see ``askrl/rollout/output.py``):

- ``response_mask`` (bs, L): 1 on policy tokens, 0 on simulated-user / template tokens and padding. A policy
  turn is a maximal run of 1s; its reward ``r_k`` sits on the run's last token of ``token_level_rewards``
  (= ``rm_scores``; anything on the mask-0 tokens after a run, up to the next run, is credited to that run, and
  anything before the first run to the first run, so VERL's default "reward on the last token" also works).
- A trajectory whose ``response_mask`` is all 0 is *masked* (a judge failure, or no policy token at all): it is
  left out of every group statistic, gets zero advantage and, because VERL's ``loss_mask`` is the
  ``response_mask``, no loss either.
- ``index`` (bs,): the group id (``uid``); trajectories of one prompt share it.

Maths. Group ``g`` holds the valid trajectories ``i`` with turn rewards ``r_{i,1..K_i}``; ``K_i`` is where the
policy stopped (it answered, or ran out of turns or tokens). Let ``G_{i,k} = sum_{k' >= k} r_{i,k'}`` be the
return-to-go from turn ``k`` (undiscounted) and ``R_i = G_{i,1}`` the trajectory total.

``askrl_traj_grpo`` (trajectory GRPO): every policy token of ``i`` gets ``A_i = (R_i - mean_g R) / (std_g R + eps)``
(``std`` only with ``algorithm.norm_adv_by_std_in_grpo``, the default). With no masked trajectory this equals
VERL's ``grpo`` exactly; masked ones are simply not in ``g``.

``askrl_turn_grpo`` (per-turn returns with a state-conditioned, stopping-independent baseline): the tokens of turn
``k`` get

    A_{i,k} = (G_{i,k*} - b_{-i,k*}) / (s_g + eps),
    b_{-i,k} = mean{ G_{j,k} : j in g, j != i, K_j >= k, r_{j,<k} = r_{i,<k} }

where ``r_{i,<k} = (r_{i,1}, ..., r_{i,k-1})`` is the trajectory's reward history before turn ``k`` (its *state*:
what it asked, what the user supplied and what that earned, as far as the rewards tell; compared to 1e-6) and
``k* <= k`` is the latest turn at which some other trajectory of the group reached the same state (``k* = k`` when
one did). So turn ``k`` is compared with the trajectories that stood where it stood: the leave-one-out mean
return-to-go of the others in the same state. A turn whose state no other trajectory shares inherits its last
comparison, ``G_{i,k*} - b_{-i,k*}``, which is the same as taking ``b = r_{i,k*} + ... + r_{i,k-1} + b_{-i,k*}``
as turn ``k``'s baseline. ``s_g`` is the root mean square of the group's centred returns over every state compared
(with ``norm_adv_by_std_in_grpo``; else ``s_g = 1``). Every trajectory shares the empty history at turn 1, so
turn 1 is trajectory-level RLOO on ``R`` and ranks the trajectories exactly as their returns do.

Why the state. A baseline may depend on anything decided before the action it scores (the history, the rewards
so far) and the estimator stays unbiased; pooling *different* states at one turn index is what is wrong. In a
group of 2x "ask everything, then answer correctly" (rewards 1.0, 1.0) and 6x "two items, then one, then answer"
(0.53, 0.27, 1.0), the pooled turn-2 baseline is the piecemeal trajectories' return-to-go 1.27, so ask-all's
correct final answer (to-go 1.0) was pushed down (-2.63 with std scaling) although ask-all is the best strategy in
the group. Conditioned on the state, that answer is compared with the other ask-all trajectory only (advantage 0),
or, were it alone, keeps its turn-1 advantage (positive). For two trajectories whose histories agree up to turn
``k``, ``A_{.,k}`` is ordered as their returns, so the first turn at which two strategies differ gets the order of
their returns under both estimators (``reward.audit`` checks this).

Why not the naive per-turn baseline. MT-GRPO-style estimators normalise each turn index separately,
``a_{i,k} = r_{i,k} - mu_k`` with ``mu_k`` the group mean reward at index ``k``, and credit turn ``k`` with
``sum_{k'=k}^{K_i} a_{i,k'} = G_{i,k} - sum_{k'=k}^{K_i} mu_{k'}``. The subtracted baseline has ``K_i - k + 1``
terms: its size is set by the trajectory's *own* stopping turn, i.e. by the actions being credited. An
action-dependent baseline biases the policy gradient: every "take another turn" decision (here: ask instead of
answer) is charged an extra ``mu_{k+1} + ...``, a hidden bonus of ``-E[R_intermediate]`` per extra turn
(verl RFC #7244). In AskBench asking *is* taking another turn: with ask -> r_1 = -0.8 then a correct answer
r_2 = +1, versus answering at once with r_1 = +0.1, half and half, the true advantage of asking is
``(0.2 - 0.1) / 2 = +0.05`` but the naive estimator gives ``(-0.8 - 0.1) / 2 = -0.45`` (it subtracts mu_2 = 1
from the asker only): it teaches the policy not to ask. Here the baseline ``b_{-i,k}`` is computed from the other
trajectories' full returns-to-go, so it does not depend on trajectory ``i``'s actions at or after turn ``k`` and
the estimator is unbiased; each trajectory also contributes one value per turn index, so long trajectories do not
dominate the statistics (the agent-lightning "dedup" issue). ``tests/unit/rollout/test_advantages.py`` checks
this example.

``askrl_shuffled_control`` (a negative control, ``scripts/bench_learning.py``): each valid trajectory's return is
replaced by the return of a trajectory of its group drawn by a seeded random permutation, placed on its last policy
token, then ``askrl_turn_grpo`` as above. The update has the same size and the same token mask as a real one but
carries no information about which episode earned what, so a policy that improves under it learned from something
other than the reward.

How it fails: shape mismatches raise ``ValueError`` (a bug in the caller, never silently broadcast); a step whose
every trajectory is masked raises ``RolloutError`` rather than let VERL's token-mean loss divide 0 by 0 tokens.

    from reward.advantages import register_advantage_estimators
    register_advantage_estimators()  # then algorithm.adv_estimator=askrl_turn_grpo
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import torch

from askrl import _verl
from askrl.errors import RolloutError

logger = logging.getLogger(__name__)

TRAJ_GRPO = "askrl_traj_grpo"
TURN_GRPO = "askrl_turn_grpo"
SHUFFLED_CONTROL = "askrl_shuffled_control"
EPSILON = 1e-6


def turn_spans(mask_row: torch.Tensor) -> list[tuple[int, int]]:
    """Maximal runs of 1 in a 1-D mask, as ``(start, end)`` with ``end`` exclusive (the policy turns)."""
    flags = (mask_row > 0).to(torch.int8).cpu()
    padded = torch.cat([torch.zeros(1, dtype=torch.int8), flags, torch.zeros(1, dtype=torch.int8)])
    edges = torch.diff(padded)
    starts = torch.nonzero(edges == 1).flatten().tolist()
    ends = torch.nonzero(edges == -1).flatten().tolist()
    return list(zip(starts, ends, strict=True))


def turn_rewards(reward_row: torch.Tensor, spans: Sequence[tuple[int, int]]) -> list[float]:
    """Reward of each turn: the sum over ``[start_k, start_{k+1})`` (turn 0 also takes what precedes it)."""
    values = reward_row.detach().to(torch.float64).cpu()
    bounds = [0] + [start for start, _ in spans[1:]] + [values.numel()]
    return [float(values[bounds[k] : bounds[k + 1]].sum()) for k in range(len(spans))]


def _state(to_go: Sequence[float], k: int) -> tuple[float, ...]:
    """The reward history before turn ``k`` (``r_1 .. r_{k-1}``, from the returns-to-go), rounded to 1e-6 so that
    equal tiers compare equal after float sums."""
    rewards = [to_go[j] - (to_go[j + 1] if j + 1 < len(to_go) else 0.0) for j in range(k)]
    return tuple(round(r, 6) for r in rewards)


def _config_flag(config: Any, key: str, default: bool) -> bool:
    """Read a flag from VERL's algorithm config (a DictConfig, an AlgoConfig dataclass, a dict or None)."""
    if config is None:
        return default
    getter = getattr(config, "get", None)
    value = getter(key, default) if callable(getter) else getattr(config, key, default)
    return default if value is None else bool(value)


def _check_shapes(token_level_rewards: torch.Tensor, response_mask: torch.Tensor, index: Sequence[Any]) -> None:
    if token_level_rewards.shape != response_mask.shape or token_level_rewards.dim() != 2:
        raise ValueError(
            f"token_level_rewards {tuple(token_level_rewards.shape)} and response_mask "
            f"{tuple(response_mask.shape)} must be the same (batch, length) shape"
        )
    if len(index) != token_level_rewards.shape[0]:
        raise ValueError(f"index has {len(index)} entries for a batch of {token_level_rewards.shape[0]}")
    if token_level_rewards.shape[0] and not bool((response_mask > 0).any()):
        raise RolloutError(
            f"every one of the {token_level_rewards.shape[0]} trajectories of this step is masked (judge failures, "
            "or no policy token at all): the update would divide by zero loss tokens. Check the judge endpoints "
            "(reward/judge_failed_frac, judge/... metrics) before resuming from the last checkpoint"
        )


def _groups(index: Sequence[Any], valid: Sequence[bool]) -> dict[Hashable, list[int]]:
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for row, (uid, ok) in enumerate(zip(index, valid, strict=True)):
        if ok:
            groups[uid].append(row)
    return groups


def compute_traj_grpo_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    config: Any = None,
    epsilon: float = EPSILON,
    **_: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Trajectory GRPO on summed turn rewards; masked trajectories are out of the statistics (module docstring).

    Returns:
        ``(advantages, returns)``, both (bs, L) and zero off the policy tokens; equal, as in VERL's GRPO.
    """
    _check_shapes(token_level_rewards, response_mask, index)
    norm = _config_flag(config, "norm_adv_by_std_in_grpo", True)
    spans = [turn_spans(row) for row in response_mask]
    totals = token_level_rewards.detach().to(torch.float32).sum(dim=-1)
    scores = torch.zeros_like(totals)
    for rows in _groups(index, [bool(s) for s in spans]).values():
        if len(rows) < 2:
            continue  # nothing to compare against: no signal rather than the raw reward
        group = totals[rows]
        centred = group - group.mean()
        scores[rows] = centred / (group.std() + epsilon) if norm else centred
    advantages = scores.unsqueeze(-1) * (response_mask > 0).to(scores.dtype)
    return advantages, advantages


def compute_turn_grpo_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    config: Any = None,
    epsilon: float = EPSILON,
    **_: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-turn returns-to-go minus a leave-one-out baseline over the trajectories in the same state (module
    docstring).

    Returns:
        ``advantages`` (bs, L): ``A_{i,k}`` on the tokens of turn ``k``, 0 elsewhere.
        ``returns`` (bs, L): the return-to-go ``G_{i,k}`` on the tokens of turn ``k``, 0 elsewhere.
    """
    _check_shapes(token_level_rewards, response_mask, index)
    norm = _config_flag(config, "norm_adv_by_std_in_grpo", True)
    spans = [turn_spans(row) for row in response_mask]
    to_go: list[list[float]] = []
    for row, row_spans in zip(token_level_rewards, spans, strict=True):
        rewards = turn_rewards(row, row_spans)
        to_go.append(np.cumsum(rewards[::-1])[::-1].tolist())

    turn_adv: list[list[float]] = [[0.0] * len(g) for g in to_go]
    for rows in _groups(index, [bool(s) for s in spans]).values():
        residuals: dict[tuple[int, int], float] = {}  # (row, turn) -> G - b_{-i,k} before scaling
        centred_sq: list[float] = []
        for k in range(max(len(to_go[r]) for r in rows)):
            states: dict[tuple[float, ...], list[int]] = defaultdict(list)
            for r in rows:
                if len(to_go[r]) > k:
                    states[_state(to_go[r], k)].append(r)
            for alive in states.values():
                if len(alive) < 2:
                    continue  # no other trajectory in this state: the turn keeps its last comparison
                values = np.array([to_go[r][k] for r in alive])
                n, mean = len(values), values.mean()
                centred_sq.extend(((values - mean) ** 2).tolist())
                for r, v in zip(alive, values, strict=True):
                    residuals[(r, k)] = float((v - mean) * n / (n - 1))
        scale = float(np.sqrt(np.mean(centred_sq))) + epsilon if (norm and centred_sq) else 1.0
        for r in rows:
            last = 0.0  # no comparison at all (a group of one): no signal
            for k in range(len(to_go[r])):
                last = residuals.get((r, k), last)
                turn_adv[r][k] = last / scale

    advantages = torch.zeros_like(token_level_rewards, dtype=torch.float32)
    returns = torch.zeros_like(advantages)
    for row, row_spans in enumerate(spans):
        for k, (start, end) in enumerate(row_spans):
            advantages[row, start:end] = turn_adv[row][k]
            returns[row, start:end] = to_go[row][k]
    return advantages, returns


_control_rng = np.random.default_rng(0)


def shuffled_returns(token_level_rewards: torch.Tensor, response_mask: torch.Tensor, index: np.ndarray,
                     rng: np.random.Generator) -> torch.Tensor:
    """Token-level rewards whose only non-zero entry per valid row is a group mate's return, on the row's last
    policy token (rows of a group permuted by ``rng``; masked rows stay all zero)."""
    totals = token_level_rewards.detach().to(torch.float32).sum(dim=-1)
    spans = [turn_spans(row) for row in response_mask]
    shuffled = torch.zeros_like(token_level_rewards, dtype=torch.float32)
    for rows in _groups(index, [bool(s) for s in spans]).values():
        for row, source in zip(rows, rng.permutation(rows), strict=True):
            shuffled[row, spans[row][-1][1] - 1] = totals[int(source)]
    return shuffled


def compute_shuffled_control_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    config: Any = None,
    epsilon: float = EPSILON,
    **_: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``askrl_turn_grpo`` on returns shuffled within each group (the negative control of the module docstring)."""
    _check_shapes(token_level_rewards, response_mask, index)
    rewards = shuffled_returns(token_level_rewards, response_mask, index, _control_rng)
    return compute_turn_grpo_advantage(rewards, response_mask, index, config=config, epsilon=epsilon)


def register_advantage_estimators() -> None:
    """Register ``askrl_traj_grpo``, ``askrl_turn_grpo`` and ``askrl_shuffled_control`` in VERL's estimator registry (idempotent).

    VERL's registry is per process: call this in the process that computes advantages (the TaskRunner), which
    ``askrl/plugins.py`` does.
    """
    register = _verl.register_adv_est
    register(TRAJ_GRPO)(compute_traj_grpo_advantage)
    register(TURN_GRPO)(compute_turn_grpo_advantage)
    register(SHUFFLED_CONTROL)(compute_shuffled_control_advantage)
    logger.debug("registered advantage estimators %s, %s, %s", TRAJ_GRPO, TURN_GRPO, SHUFFLED_CONTROL)
