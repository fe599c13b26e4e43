"""reward/... metrics on hand-built outcomes: values, denominators, and key names. Pure functions."""

from __future__ import annotations

import re

import pytest

from askrl.judge.types import FailureKind
from reward.config import RewardConfig
from reward.episode import EpisodeSpec, EpisodeState
from reward.metrics import episode_metrics, turn_metrics
from reward.outcome import TurnOutcome

KEY = re.compile(r"^reward(/[a-z0-9_]+)+$")


def _ok(
    kind: str, label: str, reward: float, hits: tuple[int, ...] = (), redundant: bool = False, latency: float = 1.0
) -> TurnOutcome:
    return TurnOutcome(
        kind=kind,
        outcome="ok",
        reward=reward,
        label=label,
        checklist_len=4,
        hit_indices=hits,
        redundant=redundant,
        judge_called=True,
        latency_s=latency,
    )


OUTCOMES = [
    _ok("nonfinal", "some_hit", 0.8, hits=(0, 1), latency=1.0),
    _ok("nonfinal", "all_hit", 1.0, hits=(0, 1, 2, 3), redundant=True, latency=3.0),
    _ok("nonfinal", "premature_answer", -2.0, latency=2.0),
    _ok("final", "correct", 1.0, latency=2.0),
    _ok("final", "still_asking", -2.0, latency=2.0),
    TurnOutcome(
        kind="final",
        outcome="judge_failed",
        reward=None,
        failure=FailureKind.TIMEOUT,
        judge_called=True,
        latency_s=10.0,
    ),
    TurnOutcome(kind="nonfinal", outcome="guard", reward=-2.0, guard="empty"),
    TurnOutcome(kind="final", outcome="guard", reward=-1.0, guard="truncated"),
]


def test_turn_metrics_values() -> None:
    m = turn_metrics(OUTCOMES)
    assert m["reward/turns/count"] == 8
    assert m["reward/turn/mean"] == pytest.approx((0.8 + 1.0 - 2.0 + 1.0 - 2.0 - 2.0 - 1.0) / 7)  # masked left out
    assert m["reward/turn_nonfinal/mean"] == pytest.approx((0.8 + 1.0 - 2.0 - 2.0) / 4)
    assert m["reward/turn_final/mean"] == pytest.approx((1.0 - 2.0 - 1.0) / 3)
    assert m["reward/checklist_coverage/mean"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert m["reward/premature_answer_rate"] == pytest.approx(1 / 3)
    assert m["reward/redundant_ask_rate"] == pytest.approx(1 / 3)
    assert m["reward/final_correct_rate"] == 0.5 and m["reward/final_still_asking_rate"] == 0.5
    assert m["reward/final_early_frac"] == 0.0
    assert m["reward/judge_failed_frac"] == pytest.approx(1 / 8) and m["reward/judge_failed/count"] == 1
    assert m["reward/judge_latency_s/mean"] == pytest.approx(20.0 / 6) and m["reward/judge_latency_s/max"] == 10.0
    assert m["reward/guard/empty/count"] == 1 and m["reward/guard/truncated/count"] == 1
    assert m["reward/guard/think_only/count"] == 0 and m["reward/guard/no_checklist/count"] == 0
    assert all(KEY.match(k) for k in m), [k for k in m if not KEY.match(k)]


def test_empty_denominators_are_left_out_not_zero() -> None:
    only_guards = [TurnOutcome(kind="nonfinal", outcome="guard", reward=-2.0, guard="empty")]
    m = turn_metrics(only_guards)
    for absent in (
        "reward/final_correct_rate",
        "reward/checklist_coverage/mean",
        "reward/judge_latency_s/mean",
        "reward/turn_final/mean",
        "reward/premature_answer_rate",
    ):
        assert absent not in m
    assert m["reward/judge_failed_frac"] == 0.0 and m["reward/turn/mean"] == -2.0
    assert turn_metrics([])["reward/turns/count"] == 0 and "reward/judge_failed_frac" not in turn_metrics([])


def test_episode_metrics() -> None:
    spec = EpisodeSpec(
        task="askmind", ori_question="o", hidden_info="h", checklist=("a", "b"), expected_answer="1", question="q"
    )
    good, failed = EpisodeState(spec, RewardConfig()), EpisodeState(spec, RewardConfig())
    good.record("ask a", _ok("nonfinal", "some_hit", 0.8, hits=(0,)))
    good.add_user_reply("a=1")
    good.record("answer", _ok("final", "correct", 1.0))
    failed.record(
        "ask", TurnOutcome(kind="nonfinal", outcome="judge_failed", reward=None, failure=FailureKind.HTTP_ERROR)
    )
    m = episode_metrics([good, failed])
    assert m["reward/episode/count"] == 2
    assert m["reward/episode/mean"] == pytest.approx(1.8)  # the masked episode has no total
    assert m["reward/episode/masked_frac"] == 0.5
    assert m["reward/episode/resolved_frac/mean"] == pytest.approx(0.25)
    assert failed.rm_scores([1, 1, 0]) == [0.0, 0.0, 0.0] and failed.reward_extra_info()["masked"] == 1.0
    assert all(KEY.match(k) for k in m)


def test_timely_answers_before_the_last_turn_are_counted_among_final_turns() -> None:
    timely = TurnOutcome(kind="final", outcome="ok", reward=1.0, label="correct", answer_label="correct")
    premature = TurnOutcome(
        kind="nonfinal", outcome="ok", reward=-1.0, label="premature_answer", answer_label="correct", checklist_len=2
    )
    m = turn_metrics([timely, _ok("final", "wrong", -1.0), premature])
    assert m["reward/final_early_frac"] == 0.5  # one of the two graded final turns came early
    assert m["reward/final_correct_rate"] == 0.5 and m["reward/premature_answer_rate"] == 1.0
