"""``python -m reward.audit``: what a reward table teaches — the canonical strategies played through the real
``EpisodeState`` and advantage estimators, with every ordering the reward must respect checked.

Why: a per-turn table can look right turn by turn and still pay the policy for asking often instead of asking
well once turns combine into a live episode (``reward.turn_credit``). The audit plays each canonical strategy of an
item (ask everything at once, piecemeal, re-ask, answer prematurely, keep asking at the budget, over-ask a clear
prompt, repeat a false premise) with a scripted judge, as one GRPO group per item, and checks that the episode
returns and every strategy's turn-1 advantage come out in the required order, for ``askrl_traj_grpo`` and
``askrl_turn_grpo``, with and without std normalisation. The DAPO recipes use the same estimators with
``loss_agg_mode=token-mean`` (per-token weights, the advantage's sign and order unchanged) and dynamic sampling,
which keeps a group only when its episode returns differ; the audit checks every group has that variance.

Who calls it: people (``python -m reward.audit``), the pre-launch check (``check_table`` for any non-default
table, ``reward.guards_config``), and the tests. No network: the judge is ``ScriptedJudge``, which returns each
strategy's scripted verdicts (v2 fields) through the ``Judge`` protocol; everything after the verdict is real.

    python -m reward.audit [--table paper_v1|FILE.yaml] [--estimator askrl_traj_grpo|askrl_turn_grpo|all]
                           [--task askmind|overconfidence|all]

Output: one block per estimator setting and item (strategy, per-turn rewards, return, turn advantages), then one
line per violated ordering; exit 0 when every ordering holds, 1 otherwise, 2 for a bad flag or table.

    report = asyncio.run(audit(RewardConfig(table="paper_v1")))
    report.violations    # [] for paper_v1
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, TextIO

import numpy as np
import torch

from askrl.errors import AskrlError, ConfigError
from askrl.judge.types import (
    FinalVerdictV2,
    JudgeRequest,
    JudgeResult,
    TaskKind,
    TurnVerdictV2,
    UserReply,
)
from askrl.rollout.advantages import TRAJ_GRPO, TURN_GRPO, compute_traj_grpo_advantage, compute_turn_grpo_advantage
from reward.config import RewardConfig
from reward.episode import EpisodeSpec, EpisodeState

EXIT_VIOLATION = 1
EXIT_BAD_INPUT = 2
MAX_TURNS = 3
ESTIMATORS = {TRAJ_GRPO: compute_traj_grpo_advantage, TURN_GRPO: compute_turn_grpo_advantage}
Decision = Literal["correct", "wrong"]


@dataclass(frozen=True)
class Step:
    """One scripted assistant turn: a question targeting ``hits``, or an answer graded ``decision``."""

    hits: frozenset[int] = frozenset()
    decision: Decision | None = None
    """Set for an answer; None for an asking turn (graded ``still_asking`` if it lands on the final turn)."""

    @property
    def answers(self) -> bool:
        return self.decision is not None


def ask(*items: int) -> Step:
    return Step(hits=frozenset(items))


def answer(decision: Decision) -> Step:
    return Step(decision=decision)


@dataclass(frozen=True)
class Strategy:
    name: str
    steps: tuple[Step, ...]
    budget_cut: bool = False
    """The simulated user's reply after the last step does not fit the response budget (``end_still_asking``)."""


@dataclass(frozen=True)
class Item:
    """One item (one GRPO group): its checklist size, what is resolved at the start, and the strategies played."""

    name: str
    task: TaskKind
    checklist_len: int
    strategies: tuple[Strategy, ...]
    orderings: tuple[tuple[str, str, str], ...]
    """(rule, better strategy, worse strategy): the better one must have the larger return and turn-1 advantage."""
    resolved_at_start: bool = False


class ScriptedJudge:
    """A ``Judge`` that returns the current step's scripted verdict (v2 fields); set ``step`` before each turn.

    ``facts_missing`` is computed from the state, as a judge reading the conversation would: some item is neither
    resolved (asked and answered) nor, for AskOverconfidence, corrected by this very turn.
    """

    name = "scripted"

    def __init__(self) -> None:
        self.step = Step()

    def _missing(self, request: JudgeRequest) -> bool:
        return any(i not in request.resolved for i in range(len(request.checklist)))

    async def grade_turn(self, request: JudgeRequest) -> JudgeResult[TurnVerdictV2]:
        hits = [i in self.step.hits for i in range(len(request.checklist))]
        verdict = TurnVerdictV2(
            reasoning="scripted",
            is_final_answer=self.step.answers,
            facts_missing=self._missing(request),
            hits=hits,
        )
        return JudgeResult(verdict=verdict, endpoint="scripted")

    async def grade_final(self, request: JudgeRequest) -> JudgeResult[FinalVerdictV2]:
        decision = self.step.decision or "still_asking"
        return JudgeResult(verdict=FinalVerdictV2(reasoning="scripted", decision=decision), endpoint="scripted")

    async def simulate_user(self, request: JudgeRequest) -> JudgeResult[UserReply]:
        return JudgeResult(verdict=UserReply(reply="(the user answers what was asked)"), endpoint="scripted")

    def metrics(self) -> dict[str, float]:
        return {}


# -- the canonical strategies -----------------------------------------------------------------------------------

#: Strategies that ask until nothing is missing, then answer correctly.
_ASK_THEN_CORRECT = (
    "ask_all_then_correct",
    "piecemeal_then_correct",
    "reask_then_correct",
    "same_item_twice_then_correct",
)


def _missing_info_item(task: TaskKind, name: str) -> Item:
    """A 3-item checklist, nothing resolved: the strategies of issue 10 (and AskOverconfidence's counterparts)."""
    strategies = (
        Strategy("ask_all_then_correct", (ask(0, 1, 2), answer("correct"))),
        Strategy("piecemeal_then_correct", (ask(0, 1), ask(2), answer("correct"))),
        Strategy("reask_then_correct", (ask(0, 1), ask(1, 2), answer("correct"))),
        Strategy("same_item_twice_then_correct", (ask(0), ask(0), answer("correct"))),
        Strategy("vague_ask_then_premature", (ask(), answer("correct"))),
        Strategy("ask_all_then_wrong", (ask(0, 1, 2), answer("wrong"))),
        Strategy("piecemeal_then_wrong", (ask(0, 1), ask(2), answer("wrong"))),
        Strategy("reask_then_wrong", (ask(0, 1), ask(1, 2), answer("wrong"))),
        Strategy("premature_correct", (answer("correct"),)),
        Strategy("premature_wrong", (answer("wrong"),)),
        Strategy("ask_all_then_still_asking", (ask(0, 1, 2), ask())),
        Strategy("ask_all_then_budget_cut", (ask(0, 1, 2),), budget_cut=True),
    )
    if task == "overconfidence":
        strategies += (Strategy("repeat_premise", (answer("wrong"),)),)
    orderings: list[tuple[str, str, str]] = [
        ("asking everything at once beats asking piecemeal", "ask_all_then_correct", "piecemeal_then_correct"),
        ("asking piecemeal beats re-asking a resolved item", "piecemeal_then_correct", "reask_then_correct"),
        (
            "asking everything at once beats asking one item twice",
            "ask_all_then_correct",
            "same_item_twice_then_correct",
        ),
        ("a correct final beats the same strategy with a wrong final", "ask_all_then_correct", "ask_all_then_wrong"),
        (
            "a correct final beats the same strategy with a wrong final",
            "piecemeal_then_correct",
            "piecemeal_then_wrong",
        ),
        ("a correct final beats the same strategy with a wrong final", "reask_then_correct", "reask_then_wrong"),
        ("a correct final beats the same strategy with a wrong final", "premature_correct", "premature_wrong"),
        ("answering beats still asking at the budget", "ask_all_then_wrong", "ask_all_then_still_asking"),
        ("answering beats still asking at the budget", "ask_all_then_wrong", "ask_all_then_budget_cut"),
        (
            "a premature answer beats a useless question followed by one",
            "premature_correct",
            "vague_ask_then_premature",
        ),
    ]
    orderings += [
        ("asking then answering correctly beats answering prematurely", good, "premature_correct")
        for good in _ASK_THEN_CORRECT
    ]
    if task == "overconfidence":
        orderings.append(
            ("correcting the premise then answering beats repeating it", "ask_all_then_correct", "repeat_premise")
        )
    return Item(name, task, 3, strategies, tuple(orderings))


def _clear_item(task: TaskKind, name: str, *, resolved_at_start: bool) -> Item:
    """Nothing is missing (an empty checklist, or every item resolved): answering directly must beat asking."""
    checklist_len = 3 if resolved_at_start else 0
    strategies = (
        Strategy("answer_directly_correct", (answer("correct"),)),
        Strategy("answer_directly_wrong", (answer("wrong"),)),
        Strategy("over_ask", (ask(0) if resolved_at_start else ask(),)),
    )
    orderings = (
        ("with nothing missing, answering directly beats asking", "answer_directly_correct", "over_ask"),
        ("with nothing missing, answering directly beats asking", "answer_directly_wrong", "over_ask"),
        (
            "a correct final beats the same strategy with a wrong final",
            "answer_directly_correct",
            "answer_directly_wrong",
        ),
    )
    return Item(name, task, checklist_len, strategies, orderings, resolved_at_start=resolved_at_start)


def items_for(task: TaskKind) -> list[Item]:
    """The audited items of a task: one with facts missing, one clear prompt, one with everything resolved."""
    label = "missing information" if task == "askmind" else "misleading claims"
    return [
        _missing_info_item(task, f"{task}: 3 {label}"),
        _clear_item(task, f"{task}: clear prompt (empty checklist)", resolved_at_start=False),
        _clear_item(task, f"{task}: everything already resolved", resolved_at_start=True),
    ]


# -- playing and estimating ---------------------------------------------------------------------------------------


@dataclass
class Played:
    strategy: str
    turn_rewards: list[float]

    @property
    def ret(self) -> float:
        return float(sum(self.turn_rewards))


async def play(item: Item, strategy: Strategy, cfg: RewardConfig) -> Played:
    """One episode of ``strategy`` through the real ``EpisodeState`` (online credit, ``MAX_TURNS`` turns).

    Raises:
        AskrlError: the script does not fit the episode (it ended early, or has steps left): a bug in the script.
    """
    spec = EpisodeSpec(
        task=item.task,
        ori_question="(original question)",
        hidden_info="(hidden information)",
        checklist=tuple(f"item {i + 1}" for i in range(item.checklist_len)),
        expected_answer="42",
        question="(the question as the user asked it)",
    )
    state = EpisodeState(spec, cfg, resolved=range(item.checklist_len) if item.resolved_at_start else ())
    judge = ScriptedJudge()
    for k, step in enumerate(strategy.steps):
        if state.ended:
            raise AskrlError(f"audit script {item.name}/{strategy.name}: the episode ended before step {k + 1}")
        judge.step = step
        text = f"final answer ({step.decision})" if step.answers else f"asks about {sorted(step.hits)}"
        await state.score_turn(judge, text, is_final_turn=state.next_turn_is_final(max_turns=MAX_TURNS))
        if not state.ended and k + 1 < len(strategy.steps):
            state.add_user_reply("(reply)")
    if strategy.budget_cut:
        state.end_still_asking()
    rewards = state.turn_rewards
    if any(r is None for r in rewards):
        raise AskrlError(f"audit script {item.name}/{strategy.name}: a turn was masked")
    return Played(strategy.name, [float(r) for r in rewards if r is not None])


def turn_advantages(played: Sequence[Played], estimator: str, norm: bool) -> list[list[float]]:
    """Each strategy's per-turn advantage as the estimator computes it for one group holding all of them.

    Each turn is one policy token followed by one user token; the reward sits on the turn's token."""
    width = 2 * max(len(p.turn_rewards) for p in played)
    rewards = torch.zeros(len(played), width)
    mask = torch.zeros(len(played), width, dtype=torch.int64)
    for i, p in enumerate(played):
        for k, r in enumerate(p.turn_rewards):
            rewards[i, 2 * k], mask[i, 2 * k] = r, 1
    index = np.array(["item"] * len(played), dtype=object)
    adv, _ = ESTIMATORS[estimator](rewards, mask, index, {"norm_adv_by_std_in_grpo": norm})
    return [[float(adv[i, 2 * k]) for k in range(len(p.turn_rewards))] for i, p in enumerate(played)]


@dataclass
class GroupResult:
    item: Item
    estimator: str
    norm: bool
    played: list[Played]
    advantages: list[list[float]]


@dataclass
class Report:
    table: str
    groups: list[GroupResult] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


def _check(group: GroupResult) -> list[str]:
    """Every ordering on the returns and on the turn-1 advantages, the advantages' signs, and DAPO's variance."""
    where = f"[{group.item.name} | {group.estimator} norm_adv_by_std_in_grpo={group.norm}]"
    by_name = {p.strategy: (p, adv) for p, adv in zip(group.played, group.advantages, strict=True)}
    problems: list[str] = []
    for rule, better, worse in group.item.orderings:
        (pb, ab), (pw, aw) = by_name[better], by_name[worse]
        if not pb.ret > pw.ret:
            problems.append(f"{where} {rule}: return {better} {pb.ret:.3f} <= {worse} {pw.ret:.3f}")
        if not ab[0] > aw[0]:
            problems.append(f"{where} {rule}: turn-1 advantage {better} {ab[0]:.3f} <= {worse} {aw[0]:.3f}")
    mean = float(np.mean([p.ret for p in group.played]))
    for p, adv in zip(group.played, group.advantages, strict=True):
        if np.sign(round(adv[0], 9)) != np.sign(round(p.ret - mean, 9)):
            problems.append(
                f"{where} sign: {p.strategy} has return {p.ret:.3f} vs group mean {mean:.3f} "
                f"but turn-1 advantage {adv[0]:.3f}"
            )
    if float(np.std([p.ret for p in group.played])) == 0.0:
        problems.append(f"{where} every strategy has the same return: DAPO's group filter drops the group")
    return problems


async def audit(
    cfg: RewardConfig,
    *,
    estimators: Sequence[str] = tuple(ESTIMATORS),
    tasks: Sequence[TaskKind] = ("askmind", "overconfidence"),
) -> Report:
    """Play every item of ``tasks`` once and estimate each group with every estimator setting."""
    report = Report(table=cfg.table)
    for task in tasks:
        for item in items_for(task):
            played = [await play(item, s, cfg) for s in item.strategies]
            for estimator in estimators:
                for norm in (True, False):
                    group = GroupResult(item, estimator, norm, played, turn_advantages(played, estimator, norm))
                    report.groups.append(group)
                    report.violations.extend(_check(group))
    return report


def format_group(group: GroupResult) -> str:
    """A readable block: strategy, per-turn rewards, return, per-turn advantages."""
    lines = [f"{group.item.name} | {group.estimator} | norm_adv_by_std_in_grpo={group.norm}"]
    lines.append(f"  {'strategy':30s} {'turn rewards':28s} {'return':>7s}  turn advantages")
    for p, adv in zip(group.played, group.advantages, strict=True):
        rewards = "[" + ", ".join(f"{r:+.3f}" for r in p.turn_rewards) + "]"
        advs = "[" + ", ".join(f"{a:+.3f}" for a in adv) + "]"
        lines.append(f"  {p.strategy:30s} {rewards:28s} {p.ret:+7.3f}  {advs}")
    return "\n".join(lines)


def check_table(cfg: RewardConfig) -> list[str]:
    """The violated orderings of ``cfg``'s table under both estimators and tasks ([] when it teaches as it should)."""
    return asyncio.run(audit(cfg)).violations


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m reward.audit", description=__doc__.splitlines()[0])
    p.add_argument("--table", default="paper_v1", help="a shipped table name or a .yaml path (default: paper_v1)")
    p.add_argument("--estimator", choices=[*ESTIMATORS, "all"], default="all")
    p.add_argument("--task", choices=["askmind", "overconfidence", "all"], default="all")
    return p


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    args = _parser().parse_args(argv)
    try:
        cfg = RewardConfig(table=args.table)
    except (AskrlError, ConfigError, ValueError) as exc:
        print(f"reward.audit: {exc}", file=err)
        return EXIT_BAD_INPUT
    estimators = list(ESTIMATORS) if args.estimator == "all" else [args.estimator]
    tasks: list[TaskKind] = ["askmind", "overconfidence"] if args.task == "all" else [args.task]
    report = asyncio.run(audit(cfg, estimators=estimators, tasks=tasks))
    table = cfg.table_obj()
    print(f"reward table {table.name} (hash {table.hash}), {MAX_TURNS} turns, online credit", file=out)
    for group in report.groups:
        print("\n" + format_group(group), file=out)
    if report.violations:
        print(f"\n{len(report.violations)} violated ordering(s):", file=err)
        for line in report.violations:
            print(f"  {line}", file=err)
        return EXIT_VIOLATION
    print(f"\nevery ordering holds ({len(report.groups)} groups checked)", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
