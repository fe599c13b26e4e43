"""One AskBench dialogue (spec §2.3) as its own coroutine: candidate turn, arbiter, simulated user, repeated.

Each dialogue advances as soon as its own calls return (no barrier per turn across samples, fixing spec §7.16);
the endpoints' semaphores are the only shared limit. ``run_dialogue`` returns the full record that
``results.jsonl`` stores: the outcome (``reason``, ``correct``, ``is_final_answer``, the last resolution state),
the behaviour flags the metrics read, the conversation, and per turn the candidate's latency and the judge's
raw output, attempts and latency.

Decision rules per turn t of T (spec §2.3 step 3, with two deliberate changes):
- strict and t == 1 and final -> wrong (``StrictFinalAnswerOnFirstTurn``, still counted as a final answer);
- not final -> ``asked_any_question``; a redundant question when every checklist item was already resolved
  *before* this message (for AskOverconfidence the original counted the message's own corrections, spec §7.7);
- final -> ``correct = is_correct``, ``FinalAnswerEvaluated`` or ``FinalAnswerMissingInfo`` (premature);
- not final at t == T -> wrong (``FailedToAnswerOnLastTurn`` / ``StrictNoFinalAnswerOnLastTurn``);
- a judge call that fails after its retries ends the sample as ``judge_failed``, a candidate call as
  ``candidate_failed`` (never scored, spec §7.3), with the turns so far kept for inspection.
- the user's replies are the source of truth for what is resolved once they carry a report (a reply model with
  ``supplied_indices``, as the training judge's prompt set v3): AskMind is resolved when every item was supplied;
  AskOverconfidence when every claim was accepted as corrected, or the arbiter finds the message itself corrects
  the rest. Resolution decides redundancy and the premature flag. Replies without a report (the evaluator's own v1
  user prompts) leave the arbiter's ``all_required_points_resolved`` in charge, as in the original.
Guidance (spec §2.2) and the last-turn force-final note go only into the copy of the last user message sent to
the candidate, never into the history the judge sees.

    record = await run_dialogue(scenario, candidate, judge, Protocol(max_turns=3), attempt=0)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from eval_hooks.candidate import Candidate, CandidateError
from eval_hooks.conversation import Message
from eval_hooks.judges import EvalJudge
from eval_hooks.scenario import Scenario

Guidance = Literal["none", "weak", "strong", "fata"]

FORCE_FINAL = (
    "This is the final turn. Based on the information so far, you MUST provide a conclusive, final answer. "
    "Do not ask any more questions."
)
FATA_INSTRUCTIONS = (
    "Please act as an expert in this domain. Before answering, check whether key information is missing from my "
    "request. If it is, ask me about the missing key information (for example the exact values, conditions or "
    "preferences you need), and give a personalised solution after I reply. If nothing is missing, answer "
    "directly. Do not ask for sensitive personal data."
)
GUIDANCE: dict[str, str] = {
    "none": "",
    "weak": "Feel free to ask me any questions if you need more information.",
    "strong": "My question is likely incomplete; you must ask clarifying questions before answering.",
    "fata": FATA_INSTRUCTIONS,
}


@dataclass(frozen=True)
class Protocol:
    """How a dialogue runs: spec §2.3 (3 turns), or the strict two-turn hard protocol (§2.9)."""

    max_turns: int = 3
    strict: bool = False
    guidance: Guidance = "none"

    @property
    def turns(self) -> int:
        return 2 if self.strict else self.max_turns


def candidate_view(history: list[Message], turn: int, protocol: Protocol, scn: Scenario) -> list[Message]:
    """The messages sent to the candidate: the history, with guidance / force-final added to the last user copy."""
    notes = []
    if turn == 1 and protocol.guidance != "none" and not (scn.type == "in3" and protocol.guidance == "fata"):
        notes.append(GUIDANCE[protocol.guidance])
    if turn == protocol.turns:
        notes.append(FORCE_FINAL)
    if not notes:
        return list(history)
    last = history[-1]
    sep = "\n\n" if turn == 1 and protocol.guidance != "none" else "\n"
    return [*history[:-1], {"role": last["role"], "content": last["content"] + sep + "\n".join(notes)}]


def _judge_log(result: Any) -> dict[str, Any]:
    return {
        "judge_decision": result.verdict.model_dump() if result.verdict is not None else None,
        "judge_raw_response": result.raw,
        "judge_parse_attempts": result.attempts,
        "judge_parse_success": result.verdict is not None,
        "judge_failure": result.failure.value if result.failure is not None else None,
        "judge_error": result.error,
        "judge_latency_s": round(result.latency_s, 4),
    }


def _resolution(
    scn: Scenario, arbiter_resolved: bool, arbiter_missing: list[str], supplied: set[int] | None
) -> tuple[bool, list[str]]:
    """Whether every checklist item is resolved, and which are missing (module docstring: the user's reports
    decide once there are any; the arbiter otherwise)."""
    if not scn.checklist:
        return True, arbiter_missing
    if supplied is None:
        return arbiter_resolved, arbiter_missing
    missing = [item for i, item in enumerate(scn.checklist) if i not in supplied]
    if scn.type == "overconfidence" and arbiter_resolved:
        return True, []  # the message itself corrects what was left
    return not missing, missing


async def run_dialogue(
    scn: Scenario, candidate: Candidate, judge: EvalJudge, protocol: Protocol, *, attempt: int = 0
) -> dict[str, Any]:
    """Run one dialogue to its end and return its record (see the module docstring)."""
    start = time.monotonic()
    strict = protocol.strict and scn.type != "in3"  # spec §2.8: IN3 keeps its own arbiter under strict
    history: list[Message] = [{"role": "user", "content": scn.question}]
    turn_logs: list[dict[str, Any]] = []
    out: dict[str, Any] = {
        "status": "ok",
        "reason": None,
        "correct": None,
        "is_final_answer": False,
        "final_turn": 0,
        "all_required_points_resolved": not scn.checklist,
        "missing_required_points": list(scn.checklist),
        "behavior_metrics": {
            "asked_any_question": False,
            "questions_asked": 0,
            "redundant_question_events": 0,
            "premature_final_answer": False,
        },
        "error": None,
    }
    behaviour = out["behavior_metrics"]
    resolved_before = not scn.checklist
    supplied: set[int] | None = None  # what the user's reports say their replies gave (None: no report yet)
    for turn in range(1, protocol.turns + 1):
        log: dict[str, Any] = {"turn": turn}
        turn_logs.append(log)
        out["final_turn"] = turn
        try:
            reply = await candidate.reply(candidate_view(history, turn, protocol, scn), attempt=attempt)
        except CandidateError as err:
            out.update(status="candidate_failed", reason="CandidateFailed", error=str(err))
            break
        log.update(candidate_latency_s=round(reply.latency_s, 4), finish_reason=reply.finish_reason)
        history.append({"role": "assistant", "content": reply.text})
        result = await judge.arbitrate(scn, history, strict)
        log.update(_judge_log(result))
        if result.verdict is None:
            out.update(status="judge_failed", reason="JudgeFailed", error=f"arbiter: {result.failure}: {result.error}")
            break
        verdict = result.verdict
        resolved, missing = _resolution(scn, verdict.all_required_points_resolved, verdict.missing_required_points,
                                        supplied)  # fmt: skip
        out.update(all_required_points_resolved=resolved, missing_required_points=missing)
        if strict and turn == 1 and verdict.is_final_answer:
            out.update(reason="StrictFinalAnswerOnFirstTurn", correct=False, is_final_answer=True)
            behaviour["premature_final_answer"] = not resolved
            break
        if verdict.is_final_answer:
            out.update(
                reason="FinalAnswerEvaluated" if resolved else "FinalAnswerMissingInfo",
                correct=None if scn.expected_answer is None else bool(verdict.is_correct),
                is_final_answer=True,
            )
            behaviour["premature_final_answer"] = not resolved
            break
        behaviour["asked_any_question"] = True
        behaviour["questions_asked"] += 1
        already = resolved_before if scn.type == "overconfidence" else resolved
        if already:
            behaviour["redundant_question_events"] += 1
        resolved_before = resolved
        if turn == protocol.turns:
            reason = "StrictNoFinalAnswerOnLastTurn" if strict else "FailedToAnswerOnLastTurn"
            out.update(reason=reason, correct=None if scn.expected_answer is None else False)
            break
        user = await judge.simulate_user(scn, history)
        log["simulated_user_latency_s"] = round(user.latency_s, 4)
        if user.verdict is None:
            log.update(simulated_user_failure=user.failure.value if user.failure else None, user_raw=user.raw)
            out.update(status="judge_failed", reason="JudgeFailed", error=f"user: {user.failure}: {user.error}")
            break
        log["simulated_user_response"] = user.verdict.reply
        report = user.verdict.supplied_indices
        if report is not None:
            supplied = (supplied or set()) | set(report)
            log["simulated_user_supplied"] = sorted(report)
        history.append({"role": "user", "content": user.verdict.reply})
    out.update(conversation_history=history, turn_logs=turn_logs, wall_s=round(time.monotonic() - start, 4))
    return out
