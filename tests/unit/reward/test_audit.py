"""The incentive audit: every canonical ordering holds for paper_v1 under both estimators and both tasks, a table
that breaks one is named, and the issue-10 regression (piecemeal and repeated asking beat asking at once).

Fakes: none beyond the audit's own ``ScriptedJudge`` (scripted verdicts through the ``Judge`` protocol); the
``EpisodeState``, the online credit and VERL-registered advantage estimators are the real ones.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from reward.audit import ESTIMATORS, ScriptedJudge, Strategy, answer, ask, audit, items_for, main, play
from reward.config import RewardConfig
from reward.table import load_table


@pytest.mark.parametrize("estimator", sorted(ESTIMATORS))
@pytest.mark.parametrize("task", ["askmind", "overconfidence"])
async def test_paper_v1_respects_every_ordering(task: str, estimator: str) -> None:
    report = await audit(RewardConfig(), estimators=[estimator], tasks=[task])
    assert report.violations == []
    assert len(report.groups) == 3 * 2  # three items, std normalisation on and off
    first = report.groups[0]
    returns = {p.strategy: p.ret for p in first.played}
    turn1 = {p.strategy: adv[0] for p, adv in zip(first.played, first.advantages, strict=True)}
    # the headline orderings, spelled out: at once > piecemeal > re-ask > same item twice; correct > wrong
    order = ["ask_all_then_correct", "piecemeal_then_correct", "reask_then_correct", "same_item_twice_then_correct"]
    assert [returns[s] for s in order] == sorted((returns[s] for s in order), reverse=True)
    assert [turn1[s] for s in order] == sorted((turn1[s] for s in order), reverse=True)
    assert returns["ask_all_then_correct"] == pytest.approx(2.0) and returns["ask_all_then_wrong"] == pytest.approx(0.0)
    assert returns["premature_correct"] == pytest.approx(-1.0)  # final table +1, premature penalty -2


@pytest.mark.parametrize(
    ("credit", "expected"),
    [
        # the table: summed per-sample values pay for piecemeal and repeated asking
        ("paper", {"at_once": 2.0, "piecemeal": 2.6, "same_twice": 2.6, "at_once_wrong": 0.0}),
        # the online return: asking everything at once wins, then piecemeal, then repeating an item
        ("online", {"at_once": 2.0, "piecemeal": 1.8, "same_twice": 0.8 / 3 - 0.8 + 1.0, "at_once_wrong": 0.0}),
    ],
)
async def test_regression_piecemeal_and_repeated_asking_no_longer_beat_asking_at_once(credit, expected) -> None:
    from reward.episode import EpisodeSpec, EpisodeState

    strategies = {
        "at_once": [ask(0, 1, 2), answer("correct")],
        "piecemeal": [ask(0, 1), ask(2), answer("correct")],
        "same_twice": [ask(0), ask(0), answer("correct")],
        "at_once_wrong": [ask(0, 1, 2), answer("wrong")],
    }
    spec = EpisodeSpec("askmind", "q", "h", ("a", "b", "c"), "42", "q?")
    totals = {}
    for name, steps in strategies.items():
        state, judge = EpisodeState(spec, RewardConfig(), credit=credit), ScriptedJudge()
        for step in steps:
            judge.step = step
            await state.score_turn(judge, "t", is_final_turn=state.next_turn_is_final(max_turns=3))
            if not state.ended:
                state.add_user_reply("r")
        assert state.ended
        totals[name] = state.total_reward
    assert totals == pytest.approx(expected)
    if credit == "online":
        assert totals["at_once"] > totals["piecemeal"] > totals["same_twice"] > totals["at_once_wrong"]


async def test_the_audit_plays_each_script_exactly() -> None:
    item = items_for("askmind")[0]
    played = await play(item, Strategy("piecemeal", (ask(0, 1), ask(2), answer("correct"))), RewardConfig())
    assert played.turn_rewards == pytest.approx([0.8 * 2 / 3, 0.8 / 3, 1.0])
    with pytest.raises(Exception, match="ended before step 2"):
        await play(item, Strategy("bad", (answer("correct"), ask(0))), RewardConfig())


def _table_file(tmp_path: Path, **changes: dict) -> Path:
    data = load_table("paper_v1").model_dump(exclude={"hash"})
    for block, values in changes.items():
        data[block] = {**data[block], **values}
    path = tmp_path / "ablation.yaml"
    path.write_text(yaml.safe_dump({**data, "name": "ablation"}), encoding="utf-8")
    return path


async def test_a_table_that_teaches_piecemeal_asking_is_named(tmp_path: Path) -> None:
    # some_hit == all_hit: asking piecemeal is no longer worse than asking everything at once
    path = _table_file(tmp_path, nonfinal={"some_hit": 1.0, "all_hit": 1.0})
    report = await audit(RewardConfig(table=str(path)))
    assert report.violations
    assert all("asking everything at once beats asking piecemeal" in v for v in report.violations)
    assert any("turn-1 advantage ask_all_then_correct" in v and "askrl_turn_grpo" in v for v in report.violations)
    # a tie is a violation: the return must be strictly larger
    assert any("return ask_all_then_correct 2.000 <= piecemeal_then_correct 2.000" in v for v in report.violations)


def test_cli_prints_the_table_and_exits_1_naming_each_violation(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["--task", "askmind", "--estimator", "askrl_traj_grpo"], out=out, err=err) == 0
    text = out.getvalue()
    assert "reward table paper_v1" in text and "every ordering holds (6 groups checked)" in text
    assert "ask_all_then_correct           [+1.000, +1.000]              +2.000" in text
    # a premature answer that pays: asking then answering correctly no longer beats it
    path = _table_file(tmp_path, nonfinal={"premature_answer": 0.5})
    out, err = io.StringIO(), io.StringIO()
    assert main(["--table", str(path)], out=out, err=err) == 1
    assert "asking then answering correctly beats answering prematurely" in err.getvalue()
    assert main(["--table", str(tmp_path / "missing.yaml")], out=out, err=err) == 2
    assert "does not exist" in err.getvalue()
