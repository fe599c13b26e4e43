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


def _group(report, name: str):
    return next(g for g in report.groups if g.item.name == name)


@pytest.mark.parametrize("estimator", sorted(ESTIMATORS))
@pytest.mark.parametrize("task", ["askmind", "overconfidence"])
async def test_paper_v1_respects_every_ordering(task: str, estimator: str) -> None:
    report = await audit(RewardConfig(), estimators=[estimator], tasks=[task])
    assert report.violations == []
    # m = 1, 2, 3, 4, 6 items x 2, 3, 5 turns, strict (2 turns) per size, 4 clear/resolved items; norm on and off
    assert len(items_for(task)) == 5 * 3 + 5 + 4 and len(report.groups) == len(items_for(task)) * 2
    label = "missing items" if task == "askmind" else "misleading claims"
    first = _group(report, f"{task}: 3 {label}, 3 turns")
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
        # the online return: asking everything at once wins, then piecemeal; repeating an item leaves two missing,
        # so its final answer pays the final-turn premature penalty -2 + 0.8 - 0.8/6 (issue 18)
        ("online", {"at_once": 2.0, "piecemeal": 1.8, "same_twice": 0.8 / 3 - 0.8 + 1.0 - 1.2 - 0.8 / 6,
                    "at_once_wrong": 0.0}),
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
        assert totals["at_once"] > totals["piecemeal"] > totals["at_once_wrong"] > totals["same_twice"]


async def test_the_audit_plays_each_script_exactly() -> None:
    item = next(i for i in items_for("askmind") if i.checklist_len == 3 and i.max_turns == 3)
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
    assert any("return ask_all_then_correct 2.000 not > piecemeal_then_correct 2.000" in v for v in report.violations)


def test_cli_prints_the_table_and_exits_1_naming_each_violation(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["--task", "askmind", "--estimator", "askrl_traj_grpo"], out=out, err=err) == 0
    text = out.getvalue()
    assert "reward table paper_v1" in text and "every ordering holds (48 groups checked)" in text
    # the compact table: one row per strategy, one column per grid point (m items / T turns, s = strict)
    header = next(line for line in text.splitlines() if line.lstrip().startswith("strategy"))
    assert header.split()[1:] == [
        *(f"{m}/{t}" for m in (1, 2, 3, 4, 6) for t in (2, 3, 5)),
        *(x for m in (1, 2, 3, 4, 6) for x in (f"{m}/2", "s")),
        "clear", "done", "clear", "s", "done", "s",
    ]  # fmt: skip
    row = next(line for line in text.splitlines() if line.lstrip().startswith("piecemeal_then_correct "))
    assert row.split()[1:4] == [".", ".", "."]  # one item cannot be asked piecemeal
    assert "+1.80" in row and "[+1.000, +1.000]" not in text  # per-group blocks only with --verbose
    out = io.StringIO()
    assert main(["--task", "askmind", "--estimator", "askrl_traj_grpo", "--verbose"], out=out, err=err) == 0
    assert "ask_all_then_correct                 [+1.000, +1.000]" in out.getvalue()
    # a premature answer that pays: asking then answering correctly no longer beats it
    path = _table_file(tmp_path, nonfinal={"premature_answer": 0.5})
    out, err = io.StringIO(), io.StringIO()
    assert main(["--table", str(path)], out=out, err=err) == 1
    assert "asking then answering correctly beats answering prematurely" in err.getvalue()
    assert main(["--table", str(tmp_path / "missing.yaml")], out=out, err=err) == 2
    assert "does not exist" in err.getvalue()
