"""What a rollout phase could take at best, and where its policy server sat idle: pure arithmetic on latencies.

Why: a rollout benchmark's wall time means little alone. Its floor is the larger of two bounds:

- the *chain* bound: an episode is a chain (policy turn, judge phase, policy turn, ...), so no schedule finishes
  before the longest episode's own service times, summed (a judge phase that sends a grade and a simulated-user
  request together lasts as long as the slower of them);
- the *capacity* bound: with ``slots`` requests in service at once, a server needs at least its total service time
  divided by ``slots`` (the policy server and the judge each give one such figure).

``ratio = bound / wall`` (1.0: nothing was lost to scheduling, client overhead or contention). ``idle_share``
measures the time the policy server had nothing in service while a judge request was in service (what a judge
off the critical path would recover), as a share of the wall time.

Who uses it: ``askrl.bench.rollout`` (``scripts/bench_rollout.py``); tests feed hand-built latencies. Nothing here
does I/O or raises on good input; ``ValueError`` for a negative duration, an interval that ends before it starts
or a slot count below 1.

    b = rollout_bound([EpisodeTrace((0.5, 0.4), (0.2,))], policy_service_s=[0.5, 0.4], policy_slots=8,
                      judge_service_s=[0.2, 0.15], judge_slots=4)
    b.bound_s          # 1.1: the chain 0.5 + 0.2 + 0.4
    idle_share(policy=[(0.0, 0.5), (0.7, 1.1)], judge=[(0.5, 0.7)], start=0.0, end=1.1)   # 0.2 / 1.1
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Interval = tuple[float, float]


@dataclass(frozen=True)
class EpisodeTrace:
    """The service times of one episode's chain, in order of dependence (queueing excluded)."""

    policy_s: tuple[float, ...]
    """Each policy turn's service time."""
    judge_phase_s: tuple[float, ...]
    """Each judge phase's service time: the slowest of the requests sent together after a turn."""

    @property
    def chain_s(self) -> float:
        return sum(self.policy_s) + sum(self.judge_phase_s)


@dataclass(frozen=True)
class Bound:
    """The two lower bounds of a rollout phase and the binding one."""

    chain_s: float
    """The longest episode's own chain of policy and judge service times."""
    policy_capacity_s: float
    judge_capacity_s: float

    @property
    def capacity_s(self) -> float:
        """The busier server's total service time over its slots."""
        return max(self.policy_capacity_s, self.judge_capacity_s)

    @property
    def bound_s(self) -> float:
        return max(self.chain_s, self.capacity_s)

    @property
    def binding(self) -> str:
        """Which bound is the floor: ``chain``, ``policy_capacity`` or ``judge_capacity``."""
        figures = {"chain": self.chain_s, "policy_capacity": self.policy_capacity_s}
        figures["judge_capacity"] = self.judge_capacity_s
        return max(figures, key=lambda name: figures[name])


def _check_durations(values: Iterable[float], what: str) -> list[float]:
    out = [float(v) for v in values]
    if any(v < 0 for v in out):
        raise ValueError(f"{what}: service times must not be negative")
    return out


def capacity_bound(service_s: Iterable[float], slots: int) -> float:
    """Total service time over ``slots`` (requests one server keeps in service at once)."""
    if slots < 1:
        raise ValueError(f"slots must be at least 1, got {slots}")
    return sum(_check_durations(service_s, "capacity_bound")) / slots


def rollout_bound(
    episodes: Sequence[EpisodeTrace],
    *,
    policy_service_s: Iterable[float],
    policy_slots: int,
    judge_service_s: Iterable[float],
    judge_slots: int,
) -> Bound:
    """Both bounds of a rollout phase. ``*_service_s`` list every request the server served (a judge request whose
    reply was dropped still took its slot), which is why they are separate from the episodes' chains."""
    for episode in episodes:
        _check_durations(episode.policy_s, "policy_s")
        _check_durations(episode.judge_phase_s, "judge_phase_s")
    return Bound(
        chain_s=max((e.chain_s for e in episodes), default=0.0),
        policy_capacity_s=capacity_bound(policy_service_s, policy_slots),
        judge_capacity_s=capacity_bound(judge_service_s, judge_slots),
    )


def _clip(intervals: Iterable[Interval], start: float, end: float) -> list[Interval]:
    out = []
    for a, b in intervals:
        if b < a:
            raise ValueError(f"interval ({a}, {b}) ends before it starts")
        a, b = max(a, start), min(b, end)
        if b > a:
            out.append((a, b))
    return out


def idle_seconds(*, policy: Iterable[Interval], judge: Iterable[Interval], start: float, end: float) -> float:
    """Seconds of ``[start, end]`` covered by some judge interval and by no policy interval (a sweep over the
    interval edges: +1/-1 per server; idle wherever the policy count is 0 and the judge count is not)."""
    events: list[tuple[float, int, int]] = []  # (time, policy delta, judge delta)
    for a, b in _clip(policy, start, end):
        events += [(a, 1, 0), (b, -1, 0)]
    for a, b in _clip(judge, start, end):
        events += [(a, 0, 1), (b, 0, -1)]
    events.sort()
    idle = 0.0
    busy_policy = busy_judge = 0
    last = start
    for t, dp, dj in events:
        if busy_policy == 0 and busy_judge > 0:
            idle += t - last
        busy_policy += dp
        busy_judge += dj
        last = t
    return idle


def idle_share(*, policy: Iterable[Interval], judge: Iterable[Interval], start: float, end: float) -> float:
    """``idle_seconds`` as a share of the window ``end - start`` (0.0 for an empty window)."""
    if end <= start:
        return 0.0
    return idle_seconds(policy=policy, judge=judge, start=start, end=end) / (end - start)
