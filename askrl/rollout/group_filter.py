"""DAPO's group filter, blind to masked trajectories: a VERL ``ReplayBuffer`` whose dynamic sampling ignores them.

Why: VERL 0.9.1's filter (``ReplayBuffer._dapo_filtered_keys``) drops a finished group when its trajectories'
metric is identical, counting every trajectory. A judge-failed (masked) trajectory carries the 0.0 placeholder
(``reward.masking``), so a group whose valid episodes all scored 1.0 plus one masked episode looks varied and
trains with no signal, and a group of valid 0.0 episodes with a masked one is filtered for the wrong reason. Here a
group is judged on its valid trajectories only: filtered when they share one value, or when fewer than two of them
are left (askrl's estimators need two to compare), as long as the group had more than one trajectory.

Who calls it: VERL's v1 trainer, through its own extension point ``trainer.v1.sampler.custom_sampler`` (path
``pkg://askrl.rollout.group_filter``, name ``mask_aware_replay_buffer``), as the DAPO recipes set it. A custom
sampler gets none of the filter settings from VERL, so the recipes pass them in ``trainer.v1.sampler.
sampler_kwargs``: ``filter_groups_metric`` (``algorithm.filter_groups.metric``; null disables the filter),
``train_batch_size``, ``max_inflight_gen_batches``. VERL only through ``askrl._verl``.

Contract: the same eviction and refill behaviour as VERL's sampler (sync: ``ReplayBuffer``, async:
``ReplayBufferAsync``), with only the classification of finished groups replaced (``classify_groups``, pure).
The masked flag is ``extra_fields["reward_extra_info"]["masked"]``, which every askrl loop writes.

How it fails: ``RuntimeError`` (VERL's own) when a finished group lacks the configured metric.

    classify_groups({"g"}, [("g", False, 1.0), ("g", True, 0.0), ("g", False, 1.0)])   # {"g": 1.0}: filtered
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from askrl import _verl
from reward.masking import MASKED_PLACEHOLDER_SCORE, is_masked

#: VERL's name for "the sum of ``rm_scores``" (``replay_buffer.FILTER_GROUPS_REWARD_METRIC``).
REWARD_METRIC = "reward"


def classify_groups(uids: Iterable[str], rows: Iterable[tuple[str, bool, float | None]]) -> dict[str, float | None]:
    """For each group: the value it collapses to when it carries no signal (filtered), else None (kept).

    Args:
        uids: the groups to classify.
        rows: one ``(uid, masked, metric value)`` per trajectory (the value may be None for a masked one).
    """
    values: dict[str, list[float]] = defaultdict(list)
    sizes: Counter[str] = Counter()
    for uid, masked, value in rows:
        sizes[uid] += 1
        if not masked and value is not None:
            values[uid].append(float(value))
    result: dict[str, float | None] = {}
    for uid in uids:
        valid = values[uid]
        if sizes[uid] > 1 and len(valid) < 2:
            result[uid] = valid[0] if valid else MASKED_PLACEHOLDER_SCORE  # nothing left to compare
        elif len(valid) > 1 and float(np.std(valid)) == 0.0:
            result[uid] = valid[0]
        else:
            result[uid] = None
    return result


def _reward_extra_info(extra_fields: Any) -> Mapping[str, Any]:
    data = getattr(extra_fields, "data", extra_fields)
    info = data.get("reward_extra_info", {}) if isinstance(data, dict) else {}
    return info if isinstance(info, Mapping) else {}


class _MaskAwareFilter:
    """Mixin over VERL's ``ReplayBuffer``: replaces only the classification of finished groups."""

    filter_groups_metric: str | None
    finished_keys: dict[str, set[str]]
    partitions: dict[str, dict[str, dict]]
    _dapo_classification_cache: dict[str, dict[str, float | None]]

    def _dapo_filtered_keys(self, partition_id: str) -> tuple[set[str], Counter]:
        metric = self.filter_groups_metric
        if partition_id == "val" or metric is None:
            return set(), Counter()
        cache = self._dapo_classification_cache[partition_id]
        finished = self.finished_keys[partition_id]
        for uid in cache.keys() - finished:
            del cache[uid]
        new = finished - cache.keys()
        keys = [key for key in self.partitions[partition_id] if key.split("_")[0] in new]
        rows: list[tuple[str, bool, float | None]] = []
        missing = new - {key.split("_")[0] for key in keys}
        if keys:
            tq = _verl.replay_buffer_module.tq
            data = tq.kv_batch_get(keys=keys, partition_id=partition_id, select_fields=["rm_scores", "extra_fields"])
            for key, scores, extra in zip(keys, list(data["rm_scores"]), list(data["extra_fields"]), strict=True):
                uid, info = key.split("_")[0], _reward_extra_info(extra)
                if metric == REWARD_METRIC:
                    value: float | None = float(scores.sum().item())
                elif metric in info:
                    value = float(info[metric])
                else:
                    missing.add(uid)
                    continue
                rows.append((uid, is_masked(info), value))
        if missing:
            raise RuntimeError(f"Finished groups are missing DAPO metric {metric!r}: {sorted(missing)[:5]}")
        cache.update(classify_groups(new, rows))
        filtered = {uid: value for uid, value in cache.items() if value is not None}
        return set(filtered), Counter(filtered.values())


@functools.cache
def _classes() -> dict[str, type]:
    """The mask-aware subclasses of VERL's sync and async samplers (built on first use: importing VERL is slow)."""
    sync = type("MaskAwareReplayBuffer", (_MaskAwareFilter, _verl.ReplayBuffer), {"__module__": __name__})
    async_ = type("MaskAwareReplayBufferAsync", (_MaskAwareFilter, _verl.ReplayBufferAsync), {"__module__": __name__})
    return {"sync": sync, "async": async_}


def mask_aware_replay_buffer(**kwargs: Any) -> Any:
    """What ``trainer.v1.sampler.custom_sampler`` names: VERL's sampler for ``trainer_mode`` with the mask-aware
    filter, configured from ``sampler_kwargs`` as VERL configures its own (gen batches of 1 while filtering)."""
    options = dict(kwargs.get("sampler_kwargs") or {})
    metric = options.get("filter_groups_metric")
    extra: dict[str, Any] = {"filter_groups_metric": metric}
    mode = kwargs["trainer_mode"]
    if mode == "sync":
        batch = options.get("train_batch_size")
        extra.update(
            train_batch_size=batch,
            gen_batch_size=1 if metric is not None else batch,
            max_inflight_gen_batches=int(options.get("max_inflight_gen_batches") or 1),
        )
    return _classes()["sync" if mode == "sync" else "async"](**kwargs, **extra)
