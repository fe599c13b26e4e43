"""DAPO's group filter without masked trajectories: the pure classification and the VERL samplers it plugs into.

Real: VERL 0.9.1's ``ReplayBuffer``/``ReplayBufferAsync`` classes (constructed, not run against TransferQueue;
the round trip through a real TransferQueue is in tests/integration/rollout/test_transfer_queue_round_trip.py).
"""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from askrl import _verl
from askrl.rollout.group_filter import classify_groups, mask_aware_replay_buffer


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([(False, 1.0), (True, 0.0), (False, 1.0)], 1.0),  # valid ones agree: no signal, filtered
        ([(False, 1.0), (True, 0.0), (False, -1.0)], None),  # valid ones differ: kept
        ([(False, 0.0), (True, 0.0), (False, 0.0)], 0.0),  # all valid 0.0: filtered on the valid ones
        ([(False, 2.0), (True, 0.0), (True, 0.0)], 2.0),  # one valid left: nothing to compare, filtered
        ([(True, 0.0), (True, 0.0)], 0.0),  # every trajectory masked: filtered
        ([(False, 1.0)], None),  # a one-trajectory group is kept, as VERL keeps it
        ([(False, 1.0), (False, 1.0)], 1.0),  # without masking: VERL's rule
        ([(False, 1.0), (False, 0.5)], None),
    ],
)
def test_groups_are_judged_on_their_valid_trajectories(rows, expected) -> None:  # noqa: ANN001
    result = classify_groups({"g", "other"}, [("g", masked, value) for masked, value in rows])
    assert result["g"] == expected
    assert result["other"] is None  # a group without rows is kept (VERL reports it missing before this)


def _kwargs(mode: str, sampler_kwargs: dict) -> dict:
    return {
        "trainer_mode": mode,
        "trainer_config": OmegaConf.create({}),
        "max_off_policy_threshold": None,
        "max_off_policy_strategy": "drop",
        "sampler_kwargs": OmegaConf.create(sampler_kwargs),
        "refill_fn": lambda n: None,
    }


def test_the_sampler_is_verls_with_the_filter_settings_of_the_recipe() -> None:
    options = {"filter_groups_metric": "reward", "train_batch_size": 64, "max_inflight_gen_batches": 2}
    sync = mask_aware_replay_buffer(**_kwargs("sync", options))
    assert isinstance(sync, _verl.ReplayBuffer) and type(sync).__name__ == "MaskAwareReplayBuffer"
    assert (sync.filter_groups_metric, sync.train_batch_size, sync.gen_batch_size) == ("reward", 64, 1)
    assert sync.max_inflight_gen_batches == 2
    off = mask_aware_replay_buffer(**_kwargs("sync", {"filter_groups_metric": None, "train_batch_size": 8}))
    assert off.filter_groups_metric is None and off.gen_batch_size == 8
    async_ = mask_aware_replay_buffer(**_kwargs("async", {"filter_groups_metric": "reward"}))
    assert isinstance(async_, _verl.ReplayBufferAsync) and async_.filter_groups_metric == "reward"
    # the validation partition is never filtered, as in VERL
    assert sync._dapo_filtered_keys("val") == (set(), {})
