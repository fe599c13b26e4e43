"""Offline trajectories (``--trajectories``): the original's multi-turn strategy (spec §5.3), with its holes fixed.

Who uses it: ``pipeline.py`` on a kept variant. The dialogue starts with the variant question; each round
(at most ``max_rounds``, the original's ``max_ask_loops=4``):

1. **ask**: the assistant's clarifying question (AskMind) or correction (AskOverconfidence) about the unresolved
   checklist items; round "first", "follow_up", or "final" (ask about / correct everything still open);
2. **user**: askrl's simulated user (the judge's ``user_<task>`` prompt, as in training and evaluation) replies;
3. **coverage**: one verdict per checklist item; while items are open the next round starts, and after the last
   round the answer is force-corrected;
4. **answer** when everything is covered, graded by askrl's final-answer judge: correct ends the dialogue;
   "still asking" drops the message and starts the next round; wrong drops it and force-corrects;
5. **force-correct**: the answer the assistant should have given, led by the standard answer and solution.
   Unlike the original it is graded too: a forced answer the judge still finds wrong is rejected
   (``trajectory_unresolved``) rather than written as a "correct" dialogue.

The result is ``conversation_history`` (user/assistant alternating, ending with the correct assistant answer),
which ``askrl.data prepare --mode offline`` turns into one row per assistant turn. A dropped answer never
enters the history. How it fails: any call that fails after its retries ends the item as ``Failed`` naming the
step (so a re-run retries it); nothing is replaced by sentinel text (spec §7.3).

    outcome = await run_trajectory(llm, "askmind", item_id, question, hidden, checklist, qa)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from askrl.data.build.inputs import QAItem
from askrl.data.build.llm import BuildLLM, Round, Task, conversation_turns
from askrl.data.build.outcomes import Failed, Rejected, failed_call
from askrl.judge.types import JudgeRequest

MAX_ROUNDS = 4


@dataclass(frozen=True)
class Trajectory:
    history: list[dict[str, str]]
    rounds: int
    forced: bool  # the final answer was force-corrected


def _round(index: int, max_rounds: int) -> Round:
    if index == max_rounds - 1:
        return "final"
    return "first" if index == 0 else "follow_up"


async def run_trajectory(
    llm: BuildLLM,
    task: Task,
    item_id: str,
    question: str,
    hidden_info: str,
    checklist: list[str],
    qa: QAItem,
    max_rounds: int = MAX_ROUNDS,
) -> Trajectory | Failed | Rejected:
    """The dialogue for one variant (see the module docstring)."""
    history = [{"role": "user", "content": question}]
    covered = [False] * len(checklist)

    def request(response: str) -> JudgeRequest:
        return JudgeRequest(
            task=task,
            ori_question=qa.ori_question,
            hidden_info=hidden_info,
            checklist=tuple(checklist),
            expected_answer=qa.expected_answer,
            history=conversation_turns(history),
            response=response,
            resolved=tuple(i for i, c in enumerate(covered) if c),
            is_final_turn=True,
        )

    for index in range(max_rounds):
        unresolved = [item for item, done in zip(checklist, covered, strict=True) if not done]
        asked = await llm.ask(task, checklist, unresolved, _round(index, max_rounds), history)
        if asked.verdict is None:
            return failed_call(item_id, "ask", asked)
        reply = await llm.simulate_user(request(asked.verdict.message))
        if reply.verdict is None:
            return failed_call(item_id, "user", reply)
        history += [
            {"role": "assistant", "content": asked.verdict.message},
            {"role": "user", "content": reply.verdict.reply},
        ]
        check = await llm.coverage(task, checklist, history)
        if check.verdict is None:
            return failed_call(item_id, "coverage", check)
        covered = [a or b for a, b in zip(covered, check.verdict.covered, strict=True)]
        if not all(covered):
            continue
        answer = await llm.answer(history)
        if answer.verdict is None:
            return failed_call(item_id, "answer", answer)
        graded = await llm.grade_final(request(answer.verdict.message))
        if graded.verdict is None:
            return failed_call(item_id, "judge", graded)
        if graded.verdict.decision == "correct":
            history.append({"role": "assistant", "content": answer.verdict.message})
            return Trajectory(history, index + 1, forced=False)
        if graded.verdict.decision == "wrong":
            return await _force_correct(llm, item_id, history, qa, request, index + 1)
    return await _force_correct(llm, item_id, history, qa, request, max_rounds)


async def _force_correct(
    llm: BuildLLM,
    item_id: str,
    history: list[dict[str, str]],
    qa: QAItem,
    request: Callable[[str], JudgeRequest],
    rounds: int,
) -> Trajectory | Failed | Rejected:
    """Write the answer led by the standard answer, and keep it only if the judge grades it correct."""
    forced = await llm.force_correct(history, qa.expected_answer, qa.solution)
    if forced.verdict is None:
        return failed_call(item_id, "force_correct", forced)
    graded = await llm.grade_final(request(forced.verdict.message))
    if graded.verdict is None:
        return failed_call(item_id, "judge", graded)
    if graded.verdict.decision != "correct":
        return Rejected(
            item_id,
            "trajectory_unresolved",
            f"the force-corrected answer was graded {graded.verdict.decision!r}",
            extra={"conversation_history": [*history, {"role": "assistant", "content": forced.verdict.message}]},
        )
    history.append({"role": "assistant", "content": forced.verdict.message})
    return Trajectory(history, rounds, forced=True)
