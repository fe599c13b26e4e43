"""Simulator-fidelity checks: the lexical leak audit of user replies and the ``rollout/...`` metric keys.

Pure functions on hand-written texts; nothing is faked.
"""

from __future__ import annotations

import re

import pytest

from askrl.rollout.fidelity import EpisodeShape, ReplyAudit, aggregate_rollout_metrics, audit_reply, episode_metrics

HIDDEN = "Tom has 3 boxes. Each box holds 4 apples. The boxes are painted green."
QUESTION = "Tom has some boxes with apples in them. How many apples does Tom have?"


def audit(reply: str, asked: str, task: str = "askmind", seen: tuple[str, ...] = (QUESTION,)) -> ReplyAudit:
    return audit_reply(
        task=task,  # type: ignore[arg-type]
        hidden_info=HIDDEN,
        expected_answer="12",
        seen_user_text=list(seen),
        assistant_turns=[asked],
        reply=reply,
    )


def test_answering_what_was_asked_is_not_a_leak():
    assert not audit("Tom has 3 boxes.", "How many boxes does Tom have?").leaked


def test_volunteering_an_unasked_fact_is_a_leak():
    result = audit("Tom has 3 boxes. The boxes are painted green.", "How many boxes does Tom have?")
    assert result.leaked_facts == (2,)


def test_a_fact_the_policy_already_saw_cannot_leak():
    seen = (QUESTION, "The boxes are painted green.")
    assert not audit("They are green boxes, painted green.", "How many boxes?", seen=seen).leaked


def test_overconfidence_corrections_count_as_asking():
    hidden = "The user wrongly believes that 7 + 5 equals 13."
    result = audit_reply(
        task="overconfidence",
        hidden_info=hidden,
        expected_answer="12",
        seen_user_text=["Since 7 + 5 is 13, confirm it."],
        assistant_turns=["Actually 7 + 5 does not equal 13."],
        reply="Oh, I wrongly believed 7 + 5 equals 13.",
    )
    assert not result.leaked and not result.answer_leak


def test_an_answer_nobody_wrote_before_is_an_answer_leak():
    assert audit("The answer is 12, by the way.", "How many boxes?").answer_leak
    assert not audit("Yes, 12 is right.", "Is it 12?").answer_leak


def test_episode_metrics_have_fixed_scalar_keys_and_the_batch_pools_the_leak_rate():
    quiet = EpisodeShape(2, True, [ReplyAudit((), False)], 20, 30, 0, False, False, False)
    leaky = EpisodeShape(3, True, [ReplyAudit((1,), False), ReplyAudit((), True)], 40, 50, 1, False, True, False)
    silent = EpisodeShape(1, False, [], 0, 10, 0, True, False, False)
    rows = [episode_metrics(s) for s in (quiet, leaky, silent)]
    assert all(set(r) == set(rows[0]) for r in rows)
    assert all(re.fullmatch(r"rollout/[a-z_]+", k) and isinstance(v, float) for r in rows for k, v in r.items())
    assert rows[1]["rollout/leak_rate"] == 0.5 and rows[2]["rollout/leak_rate"] == 0.0

    batch = aggregate_rollout_metrics([{**r, "score": 1.0} for r in rows])
    assert batch["rollout/leak_rate"] == pytest.approx(1 / 3)  # pooled over the 3 replies, not a mean of rates
    assert batch["rollout/user_answer_leak_rate"] == pytest.approx(1 / 3)
    assert batch["rollout/num_turns/mean"] == pytest.approx(2.0) and batch["rollout/num_turns/max"] == 3.0
    assert batch["rollout/ask_rate"] == pytest.approx(2 / 3)
    assert batch["rollout/truncated_ratio"] == pytest.approx(1 / 3)
    assert all(re.fullmatch(r"rollout/[a-z_]+(/mean|/max)?", k) for k in batch)
    assert aggregate_rollout_metrics([{"score": 1.0}]) == {}
