"""``python -m reward.audit``: what a reward table teaches — the canonical strategies played through the real
``EpisodeState`` and advantage estimators, with every ordering the reward must respect checked.

Why: a per-turn table can look right turn by turn and still pay the policy for asking often instead of asking
well, or for stalling, once turns combine into a live episode (``reward.turn_credit``). The audit plays each
canonical strategy (ask everything at once, piecemeal, re-ask, answer prematurely, keep asking at the budget,
stall then guess on the final turn, pad a good question with irrelevant ones, follow up an item the user did not
give, correct and answer in one turn, over-ask a clear prompt, repeat a false premise) with a scripted judge and
scripted user reports, as one GRPO group per grid point: m = 1, 2, 3, 4, 6 items x 2, 3, 5 turns in normal mode, every
m at 2 turns in strict mode, plus a clear and an all-resolved prompt (a strategy that needs more items or turns
than a grid point has is left out there). It checks, for ``askrl_traj_grpo`` and ``askrl_turn_grpo`` with and
without std normalisation, that every ordering holds for the returns, the turn-1 advantages and the advantages of
the first turn where two strategies differ (``Ordering``; some are "no better than", ties allowed); that turn-1
advantages have the sign of the return against the group mean; that the best strategy of a group has no negative
turn advantage and the worst no positive one; and that every group has the return variance DAPO's filter needs.
The DAPO recipes use the same estimators with ``loss_agg_mode=token-mean`` (per-token weights, the advantage's
sign and order unchanged).

Who calls it: people (``python -m reward.audit``), the pre-launch check (``check_table`` for any non-default
table, ``reward.guards_config``), and the tests. No network: the judge is ``ScriptedJudge``, which returns each
strategy's scripted verdicts (v3 fields) and user reports through the ``Judge`` protocol; everything after the
verdict is real.

    python -m reward.audit [--table paper_v1|FILE.yaml] [--estimator askrl_traj_grpo|askrl_turn_grpo|all]
                           [--task askmind|overconfidence|all] [--credit online|paper] [--verbose]

Output: a compact table per task (one row per strategy, one column per grid point: its return), the violations
per grid point, ``--verbose`` adds each group's turn rewards and advantages; then one line per violated ordering;
exit 0 when every ordering holds, 1 otherwise, 2 for a bad flag or table. ``--credit paper`` scores with the
paper's per-sample values, to show which orderings they break.

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
    TurnVerdictV3,
    UserReply,
    UserReplyV3,
)
from reward.advantages import TRAJ_GRPO, TURN_GRPO, compute_traj_grpo_advantage, compute_turn_grpo_advantage
from reward.config import RewardConfig
from reward.episode import EpisodeSpec, EpisodeState
from reward.turn_credit import Credit

EXIT_VIOLATION = 1
EXIT_BAD_INPUT = 2
#: The grid every ordering must hold on: checklist sizes, turn budgets, and AskBench's strict mode (2 turns only).
CHECKLIST_SIZES = (1, 2, 3, 4, 6)
TURN_BUDGETS = (2, 3, 5)
STRICT_TURNS = 2
ESTIMATORS = {TRAJ_GRPO: compute_traj_grpo_advantage, TURN_GRPO: compute_turn_grpo_advantage}
TOLERANCE = 1e-6
Decision = Literal["correct", "wrong"]
Mode = Literal["normal", "strict"]


@dataclass(frozen=True)
class Step:
    """One scripted assistant turn: a question targeting ``hits``, or an answer graded ``decision`` (with the
    corrections ``hits`` it makes, AskOverconfidence). ``irrelevant``: questions that target no item (v3 verdict);
    ``supplied``: what the user's reply reports it gave (None: everything the turn asked for)."""

    hits: frozenset[int] = frozenset()
    decision: Decision | None = None
    """Set for an answer; None for an asking turn (graded ``still_asking`` if it lands on the final turn)."""
    irrelevant: int = 0
    supplied: frozenset[int] | None = None

    @property
    def answers(self) -> bool:
        return self.decision is not None

    @property
    def reported(self) -> frozenset[int]:
        return self.hits if self.supplied is None else self.supplied


def ask(*items: int, irrelevant: int = 0, supplied: Sequence[int] | None = None) -> Step:
    return Step(
        hits=frozenset(items), irrelevant=irrelevant, supplied=None if supplied is None else frozenset(supplied)
    )


def answer(decision: Decision, *corrections: int) -> Step:
    return Step(hits=frozenset(corrections), decision=decision)


@dataclass(frozen=True)
class Strategy:
    name: str
    steps: tuple[Step, ...]
    budget_cut: bool = False
    """The simulated user's reply after the last step does not fit the response budget (``end_still_asking``)."""


@dataclass(frozen=True)
class Ordering:
    """``better`` must have a larger return (``strict``; else at least as large) than ``worse``, and so must its
    turn-1 advantage and its advantage at the first turn where the two differ."""

    rule: str
    better: str
    worse: str
    strict: bool = True


@dataclass(frozen=True)
class Item:
    """One item (one GRPO group): its checklist size, what is resolved at the start, and the strategies played."""

    name: str
    task: TaskKind
    checklist_len: int
    strategies: tuple[Strategy, ...]
    orderings: tuple[Ordering, ...]
    resolved_at_start: bool = False
    max_turns: int = 3
    mode: Mode = "normal"

    @property
    def grid_point(self) -> str:
        """The column of the compact table: ``m/T`` (``3/3``), ``clear``, ``done`` (everything resolved); `` s`` marks strict mode."""
        if self.checklist_len == 0:
            point = "clear"
        elif self.resolved_at_start:
            point = "done"
        else:
            point = f"{self.checklist_len}/{self.max_turns}"
        return point + (" s" if self.mode == "strict" else "")


class ScriptedJudge:
    """A ``Judge`` that returns the current step's scripted verdicts (v3 fields); set ``step`` before each turn.

    ``facts_missing`` is computed from the state, as a judge reading the conversation would: some item is neither
    resolved (supplied by the user) nor, for AskOverconfidence, corrected by this very turn.
    """

    name = "scripted"

    def __init__(self) -> None:
        self.step = Step()

    def _missing(self, request: JudgeRequest) -> bool:
        corrected = self.step.hits if request.task == "overconfidence" else frozenset()
        return any(i not in request.resolved and i not in corrected for i in range(len(request.checklist)))

    async def grade_turn(self, request: JudgeRequest) -> JudgeResult[TurnVerdictV3]:
        hits = [i in self.step.hits for i in range(len(request.checklist))]
        verdict = TurnVerdictV3(
            reasoning="scripted",
            is_final_answer=self.step.answers,
            facts_missing=self._missing(request),
            hits=hits,
            irrelevant_questions=self.step.irrelevant,
        )
        return JudgeResult(verdict=verdict, endpoint="scripted")

    async def grade_final(self, request: JudgeRequest) -> JudgeResult[FinalVerdictV2]:
        decision = self.step.decision or "still_asking"
        return JudgeResult(verdict=FinalVerdictV2(reasoning="scripted", decision=decision), endpoint="scripted")

    async def simulate_user(self, request: JudgeRequest) -> JudgeResult[UserReply]:
        supplied = [i in self.step.reported for i in range(len(request.checklist))]
        reply = UserReplyV3(reply="(the user answers what was asked)", supplied=supplied)
        return JudgeResult(verdict=reply, endpoint="scripted")

    def metrics(self) -> dict[str, float]:
        return {}


# -- the canonical strategies -----------------------------------------------------------------------------------


def _strategies(task: TaskKind, m: int, turns: int) -> list[Strategy]:
    """Every strategy that fits ``m`` items and ``turns`` turns (the script must end exactly where the episode
    does: a strategy that needs more items or turns than the grid point has is left out there)."""
    every = tuple(range(m))
    head, last = every[:-1], every[-1]
    out = [
        Strategy("ask_all_then_correct", (ask(*every), answer("correct"))),
        Strategy("ask_all_then_wrong", (ask(*every), answer("wrong"))),
        Strategy("ask_all_plus_irrelevant_then_correct", (ask(*every, irrelevant=5), answer("correct"))),
        Strategy("premature_correct", (answer("correct"),)),
        Strategy("premature_wrong", (answer("wrong"),)),
        Strategy("vague_ask_then_premature", (ask(), answer("correct"))),
        Strategy("stall_then_final_guess", (*[ask()] * (turns - 1), answer("correct"))),
        Strategy("ask_all_then_still_asking", (ask(*every), ask())),
        Strategy("ask_all_then_budget_cut", (ask(*every),), budget_cut=True),
    ]
    if m >= 2 and turns >= 3:
        out += [
            Strategy("piecemeal_then_correct", (ask(*head), ask(last), answer("correct"))),
            Strategy("piecemeal_then_wrong", (ask(*head), ask(last), answer("wrong"))),
            Strategy("reask_then_correct", (ask(*head), ask(head[-1], last), answer("correct"))),
            Strategy("reask_then_wrong", (ask(*head), ask(head[-1], last), answer("wrong"))),
            Strategy("same_item_twice_then_correct", (ask(0), ask(0), answer("correct"))),
            Strategy("most_then_answer", (ask(*head), answer("correct"))),
            Strategy("most_stall_then_final_answer", (ask(*head), *[ask()] * (turns - 2), answer("correct"))),
            Strategy("one_then_answer", (ask(0), answer("correct"))),
            Strategy("one_stall_then_final_answer", (ask(0), *[ask()] * (turns - 2), answer("correct"))),
        ]
    if turns >= 3:
        unanswered = ask(*every, supplied=head)
        out += [
            Strategy("unanswered_then_follow_up", (unanswered, ask(last), answer("correct"))),
            Strategy("unanswered_then_guess_wrong", (unanswered, answer("wrong"))),
        ]
    if task == "overconfidence":
        out += [
            Strategy("repeat_premise", (answer("wrong"),)),
            Strategy("correct_all_and_answer", (answer("correct", *every),)),
        ]
    return out


#: Strategies that ask until nothing is missing, then answer correctly.
_ASK_THEN_CORRECT = ("ask_all_then_correct", "piecemeal_then_correct", "reask_then_correct", "unanswered_then_follow_up")
_NORMAL_ONLY = "normal"


def _orderings(task: TaskKind, turns: int, mode: Mode) -> list[Ordering]:
    """The required orderings (those naming a strategy the grid point lacks are skipped by ``_check``).

    Strict mode (AskBench's 2-turn protocol) grades every answer before the final turn wrong without a judge
    call, so the two orderings that need such an answer graded on its merits (a correct premature answer above a
    wrong one; correcting and answering in one turn) hold in normal mode only."""
    o = Ordering
    out = [
        o("asking everything at once beats asking piecemeal", "ask_all_then_correct", "piecemeal_then_correct"),
        o("asking piecemeal beats re-asking a resolved item", "piecemeal_then_correct", "reask_then_correct"),
        o("asking everything at once beats asking one item twice", "ask_all_then_correct", "same_item_twice_then_correct"),
        o("a correct final beats the same strategy with a wrong final", "ask_all_then_correct", "ask_all_then_wrong"),
        o("a correct final beats the same strategy with a wrong final", "piecemeal_then_correct", "piecemeal_then_wrong"),
        o("a correct final beats the same strategy with a wrong final", "reask_then_correct", "reask_then_wrong"),
        o("answering beats still asking at the budget", "ask_all_then_wrong", "ask_all_then_still_asking"),
        o("answering beats still asking at the budget", "ask_all_then_wrong", "ask_all_then_budget_cut"),
        o("irrelevant questions cost", "ask_all_then_correct", "ask_all_plus_irrelevant_then_correct"),
        o("stalling, then guessing on the final turn, is no better than guessing at once", "premature_correct",
          "stall_then_final_guess", strict=False),
        o("asking most, stalling, then answering is no better than answering after asking most", "most_then_answer",
          "most_stall_then_final_answer", strict=False),
        o("asking one, stalling, then answering is no better than answering after asking one", "one_then_answer",
          "one_stall_then_final_answer", strict=False),
        o("following up an unanswered item beats guessing wrong", "unanswered_then_follow_up",
          "unanswered_then_guess_wrong"),
    ]
    out += [o("asking then answering correctly beats answering prematurely", good, "premature_correct")
            for good in _ASK_THEN_CORRECT]
    out += [
        o("a premature answer beats a useless question followed by one", "premature_correct",
          "vague_ask_then_premature"),
        o("never answering is worse than a correct premature answer", "premature_correct", "ask_all_then_still_asking"),
        o("never answering is worse than a correct premature answer", "premature_correct", "ask_all_then_budget_cut"),
    ]
    if turns == 3:  # its answer lands on the final turn only here (with 5 turns it is a voluntary guess)
        out.append(o("asking then answering correctly beats answering prematurely", "same_item_twice_then_correct",
                     "premature_correct"))
    if mode == "normal":  # strict grades every early answer wrong without a judge call
        out.append(
            o("a correct final beats the same strategy with a wrong final", "premature_correct", "premature_wrong")
        )
        if task == "overconfidence":
            out.append(o("correcting and answering in one turn is no worse than correcting first",
                         "correct_all_and_answer", "ask_all_then_correct", strict=False))
    if task == "overconfidence":
        out.append(o("correcting the premise then answering beats repeating it", "ask_all_then_correct",
                     "repeat_premise"))
    return out  # fmt: skip


def _missing_info_item(task: TaskKind, m: int, turns: int, mode: Mode) -> Item:
    label = "missing items" if task == "askmind" else "misleading claims"
    name = f"{task}: {m} {label}, {turns} turns{', strict' if mode == 'strict' else ''}"
    strategies = tuple(_strategies(task, m, turns))
    return Item(name, task, m, strategies, tuple(_orderings(task, turns, mode)), max_turns=turns, mode=mode)


def _clear_item(task: TaskKind, mode: Mode, *, resolved_at_start: bool) -> Item:
    """Nothing is missing (an empty checklist, or every item resolved): answering directly must beat asking."""
    checklist_len = 3 if resolved_at_start else 0
    strategies = (
        Strategy("answer_directly_correct", (answer("correct"),)),
        Strategy("answer_directly_wrong", (answer("wrong"),)),
        Strategy("over_ask", (ask(0) if resolved_at_start else ask(),)),
    )
    orderings = (
        Ordering("with nothing missing, answering directly beats asking", "answer_directly_correct", "over_ask"),
        Ordering("with nothing missing, answering directly beats asking", "answer_directly_wrong", "over_ask"),
        Ordering(
            "a correct final beats the same strategy with a wrong final",
            "answer_directly_correct",
            "answer_directly_wrong",
        ),
    )
    what = "everything already resolved" if resolved_at_start else "clear prompt (empty checklist)"
    turns = STRICT_TURNS if mode == "strict" else 3
    name = f"{task}: {what}{', strict' if mode == 'strict' else ''}"
    return Item(
        name, task, checklist_len, strategies, orderings, resolved_at_start=resolved_at_start, max_turns=turns,
        mode=mode,
    )  # fmt: skip


def items_for(task: TaskKind) -> list[Item]:
    """The audited items of a task: the missing-information item at every grid point (normal mode: every
    checklist size and turn budget; strict: every size, 2 turns), a clear prompt and an all-resolved prompt."""
    items = [_missing_info_item(task, m, t, "normal") for m in CHECKLIST_SIZES for t in TURN_BUDGETS]
    items += [_missing_info_item(task, m, STRICT_TURNS, "strict") for m in CHECKLIST_SIZES]
    for mode in ("normal", "strict"):
        items += [_clear_item(task, mode, resolved_at_start=r) for r in (False, True)]
    return items


# -- playing and estimating ---------------------------------------------------------------------------------------


@dataclass
class Played:
    strategy: str
    turn_rewards: list[float]

    @property
    def ret(self) -> float:
        return float(sum(self.turn_rewards))


async def play(item: Item, strategy: Strategy, cfg: RewardConfig, credit: Credit = "online") -> Played:
    """One episode of ``strategy`` through the real ``EpisodeState`` (online credit, ``item.max_turns`` turns; the
    user's reply after each asking turn reports what it supplied, as prompt set v3's simulated user does).

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
    resolved = range(item.checklist_len) if item.resolved_at_start else ()
    state = EpisodeState(spec, cfg, resolved=resolved, strict=item.mode == "strict", credit=credit)
    judge = ScriptedJudge()
    for k, step in enumerate(strategy.steps):
        if state.ended:
            raise AskrlError(f"audit script {item.name}/{strategy.name}: the episode ended before step {k + 1}")
        judge.step = step
        text = f"final answer ({step.decision})" if step.answers else f"asks about {sorted(step.hits)}"
        await state.score_turn(judge, text, is_final_turn=state.next_turn_is_final(max_turns=item.max_turns))
        if not state.ended and k + 1 < len(strategy.steps):
            reply = (await judge.simulate_user(state.user_request())).verdict
            assert reply is not None
            state.add_user_reply(reply.reply, supplied=reply.supplied_indices)
    if strategy.budget_cut:
        state.end_still_asking()
    if not state.ended and not strategy.budget_cut:
        raise AskrlError(f"audit script {item.name}/{strategy.name}: the episode did not end with the script")
    rewards = state.turn_rewards
    if any(r is None for r in rewards):
        raise AskrlError(f"audit script {item.name}/{strategy.name}: a turn was masked")
    return Played(strategy.name, [float(r) for r in rewards if r is not None])


def turn_advantages(played: Sequence[Played], estimator: str, norm: bool) -> list[list[float]]:
    """Each strategy's per-turn advantage as the estimator computes it for one group holding all of them.

    Each turn is one policy token followed by one user token; the reward sits on the turn's token."""
    width = 2 * max(len(p.turn_rewards) for p in played)
    rewards = torch.zeros(len(played), width, dtype=torch.float64)
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


def _ahead(a: float, b: float, strict: bool) -> bool:
    return a > b + TOLERANCE if strict else a >= b - TOLERANCE


def _divergence(a: Played, b: Played) -> int | None:
    """The first turn where two episodes' rewards differ, when both played it (None otherwise)."""
    for k, (ra, rb) in enumerate(zip(a.turn_rewards, b.turn_rewards, strict=False)):
        if abs(ra - rb) > TOLERANCE:
            return k
    return None


def _check(group: GroupResult) -> list[str]:
    """Every ordering on the returns, the turn-1 advantages and the advantages where the two strategies first
    differ; turn-1 signs; the best strategy never discouraged, the worst never encouraged; DAPO's variance."""
    where = f"[{group.item.name} | {group.estimator} norm_adv_by_std_in_grpo={group.norm}]"
    by_name = {p.strategy: (p, adv) for p, adv in zip(group.played, group.advantages, strict=True)}
    problems: list[str] = []
    for rule in group.item.orderings:
        if rule.better not in by_name or rule.worse not in by_name:
            continue
        (pb, ab), (pw, aw) = by_name[rule.better], by_name[rule.worse]
        sign = ">" if rule.strict else ">="
        if not _ahead(pb.ret, pw.ret, rule.strict):
            problems.append(f"{where} {rule.rule}: return {rule.better} {pb.ret:.3f} not {sign} {rule.worse} {pw.ret:.3f}")
        if not _ahead(ab[0], aw[0], rule.strict):
            problems.append(
                f"{where} {rule.rule}: turn-1 advantage {rule.better} {ab[0]:.3f} not {sign} {rule.worse} {aw[0]:.3f}"
            )
        k = _divergence(pb, pw)
        if k is not None and k > 0 and not _ahead(ab[k], aw[k], rule.strict):
            problems.append(
                f"{where} {rule.rule}: turn-{k + 1} advantage {rule.better} {ab[k]:.3f} not {sign} {rule.worse} "
                f"{aw[k]:.3f}"
            )
    returns = [p.ret for p in group.played]
    mean = float(np.mean(returns))
    for p, adv in zip(group.played, group.advantages, strict=True):
        if abs(p.ret - mean) > TOLERANCE and np.sign(adv[0]) != np.sign(p.ret - mean):
            problems.append(
                f"{where} sign: {p.strategy} has return {p.ret:.3f} vs group mean {mean:.3f} "
                f"but turn-1 advantage {adv[0]:.3f}"
            )
    best, worst = max(returns), min(returns)
    for p, adv in zip(group.played, group.advantages, strict=True):
        if p.ret == best and returns.count(best) == 1 and min(adv) < -TOLERANCE:
            problems.append(f"{where} sign: the best strategy {p.strategy} has a negative turn advantage {adv}")
        if p.ret == worst and returns.count(worst) == 1 and max(adv) > TOLERANCE:
            problems.append(f"{where} sign: the worst strategy {p.strategy} has a positive turn advantage {adv}")
    if float(np.std(returns)) == 0.0:
        problems.append(f"{where} every strategy has the same return: DAPO's group filter drops the group")
    return problems


async def audit(
    cfg: RewardConfig,
    *,
    estimators: Sequence[str] = tuple(ESTIMATORS),
    tasks: Sequence[TaskKind] = ("askmind", "overconfidence"),
    credit: Credit = "online",
) -> Report:
    """Play every item of ``tasks`` once and estimate each group with every estimator setting (``credit="paper"``:
    the paper's per-sample values summed, to show which orderings they violate)."""
    report = Report(table=cfg.table)
    for task in tasks:
        for item in items_for(task):
            played = [await play(item, s, cfg, credit) for s in item.strategies]
            for estimator in estimators:
                for norm in (True, False):
                    group = GroupResult(item, estimator, norm, played, turn_advantages(played, estimator, norm))
                    report.groups.append(group)
                    report.violations.extend(_check(group))
    return report


def format_group(group: GroupResult) -> str:
    """A readable block: strategy, per-turn rewards, return, per-turn advantages."""
    lines = [f"{group.item.name} | {group.estimator} | norm_adv_by_std_in_grpo={group.norm}"]
    lines.append(f"  {'strategy':36s} {'turn rewards':44s} {'return':>7s}  turn advantages")
    for p, adv in zip(group.played, group.advantages, strict=True):
        rewards = "[" + ", ".join(f"{r:+.3f}" for r in p.turn_rewards) + "]"
        advs = "[" + ", ".join(f"{a:+.3f}" for a in adv) + "]"
        lines.append(f"  {p.strategy:36s} {rewards:44s} {p.ret:+7.3f}  {advs}")
    return "\n".join(lines)


def format_task_table(report: Report, task: TaskKind) -> str:
    """The compact table of one task: one row per strategy, one column per grid point (its return; ``.`` where
    the strategy does not fit), then how many orderings were violated at each grid point."""
    seen: dict[str, GroupResult] = {}
    for group in report.groups:
        if group.item.task == task:
            seen.setdefault(group.item.name, group)
    groups = list(seen.values())
    columns = [g.item.grid_point for g in groups]
    names: list[str] = []
    for g in groups:
        names += [p.strategy for p in g.played if p.strategy not in names]
    width = max(len(c) for c in columns) + 1
    lines = [f"{task}: episode return per strategy (columns: m items / T turns, s = strict mode)"]
    lines.append(f"  {'strategy':36s}" + "".join(f"{c:>{width}s}" for c in columns))
    for name in names:
        cells = []
        for g in groups:
            ret = next((p.ret for p in g.played if p.strategy == name), None)
            cells.append(f"{ret:>+{width}.2f}" if ret is not None else f"{'.':>{width}s}")
        lines.append(f"  {name:36s}" + "".join(cells))
    counts = []
    for g in groups:
        prefix = f"[{g.item.name} |"
        counts.append(sum(v.startswith(prefix) for v in report.violations))
    lines.append(f"  {'violations (all estimators)':36s}" + "".join(f"{n:>{width}d}" for n in counts))
    return "\n".join(lines)


def check_table(cfg: RewardConfig) -> list[str]:
    """The violated orderings of ``cfg``'s table under both estimators and tasks ([] when it teaches as it should)."""
    return asyncio.run(audit(cfg)).violations


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m reward.audit", description=__doc__.splitlines()[0])
    p.add_argument("--table", default="paper_v1", help="a shipped table name or a .yaml path (default: paper_v1)")
    p.add_argument("--estimator", choices=[*ESTIMATORS, "all"], default="all")
    p.add_argument("--task", choices=["askmind", "overconfidence", "all"], default="all")
    p.add_argument("--verbose", action="store_true", help="also print every group's turn rewards and advantages")
    p.add_argument("--credit", choices=["online", "paper"], default="online",
                   help="online (live episodes, the default) or paper (the paper's per-sample values, summed)")
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
    report = asyncio.run(audit(cfg, estimators=estimators, tasks=tasks, credit=args.credit))
    table = cfg.table_obj()
    print(f"reward table {table.name} (hash {table.hash}), {args.credit} credit, estimators {', '.join(estimators)}",
          file=out)
    for task in tasks:
        print("\n" + format_task_table(report, task), file=out)
    if args.verbose:
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
