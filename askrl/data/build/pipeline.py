"""Build one item: generate the variant, run the gates, optionally the trajectory; return an ``Outcome``.

Who uses it: ``runner.py``, one coroutine per item (items never wait for each other, spec §7.16). Order:
1. **generate** (``generate_<task>``); a reply that is not the schema after the client's re-asks is rejected as
   ``malformed_generation`` with the raw reply; any other failure is ``Failed``;
2. **shape gates** (``gates.shape_gate``): unchanged question, empty or too long checklist, too few claims;
3. **verifier pass** (and, for AskMind, concurrently the **solver pass** on the variant): ungrounded items,
   premises that are not false, a variant the solver still answers correctly;
4. **trajectory** (``--trajectories``): ``trajectory.run_trajectory``.
The near-duplicate gate runs at commit time in the runner. The kept record has exactly the AskBench fields
(``records.AskMindRecord`` / ``OverconfidenceRecord``; ``python -m askrl.data validate`` accepts it), plus
``solution`` when the input had one, ``pass_rate``/``difficulty_bucket`` when sampled, and with trajectories
``conversation_history`` and ``trajectory`` (rounds, whether the answer was force-corrected).

    outcome = await build_item(llm, "askmind", qa, options)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from askrl.data.build.answers import answer_matches
from askrl.data.build.gates import GateLimits, Rejection, claims_gate, grounding_gate, shape_gate
from askrl.data.build.inputs import QAItem
from askrl.data.build.llm import BuildLLM, Task
from askrl.data.build.outcomes import Failed, Kept, Outcome, Rejected, failed_call
from askrl.data.build.schemas import BuildAskMind, BuildOverconfidence
from askrl.data.build.trajectory import MAX_ROUNDS, Trajectory, run_trajectory
from askrl.judge.types import FailureKind

_MALFORMED = (FailureKind.INVALID_JSON, FailureKind.SCHEMA_MISMATCH)


@dataclass(frozen=True)
class ItemOptions:
    limits: GateLimits = GateLimits()
    trajectories: bool = False
    max_rounds: int = MAX_ROUNDS


def _clean(items: list[str]) -> list[str]:
    """Checklist items stripped, blank ones dropped (a blank item is no item)."""
    return [s.strip() for s in items if s.strip()]


def _variant_fields(task: Task, gen: BuildAskMind | BuildOverconfidence) -> dict[str, Any]:
    if isinstance(gen, BuildAskMind):
        return {
            "degraded_question": gen.degraded_question.strip(),
            "degraded_info": gen.degraded_info.strip(),
            "required_points": _clean(gen.required_points),
        }
    info = gen.overconfidence_info
    text = "\n---\n".join(_clean(info)) if isinstance(info, list) else info.strip()
    return {
        "overconfidence_question": gen.overconfidence_question.strip(),
        "overconfidence_info": text,
        "misleading_points": _clean(gen.misleading_points),
    }


def _rejected(qa: QAItem, rejection: Rejection, fields: dict[str, Any], **extra: Any) -> Rejected:
    return Rejected(qa.id, rejection.reason, rejection.detail, generation=fields, extra=extra)


async def _gate_askmind(llm: BuildLLM, qa: QAItem, fields: dict[str, Any]) -> Outcome | None:
    variant = BuildAskMind(
        degraded_info=fields["degraded_info"],
        required_points=fields["required_points"],
        degraded_question=fields["degraded_question"],
    )
    verified, solved = await asyncio.gather(llm.verify_askmind(qa, variant), llm.solve(variant.degraded_question))
    if verified.verdict is None:
        return failed_call(qa.id, "verify", verified)
    rejection = grounding_gate(variant.required_points, list(verified.verdict.grounded))
    if rejection is not None:
        return _rejected(qa, rejection, fields, verifier=verified.verdict.reasoning)
    if solved.verdict is None:
        return failed_call(qa.id, "solve", solved)
    matches = await answer_matches(qa.expected_answer, solved.verdict.final_answer)
    if matches is None:
        return Failed(qa.id, "solve", FailureKind.TIMEOUT.value, "the answer check (math_verify) timed out")
    if matches:
        detail = f"a solver answered {solved.verdict.final_answer!r} without the missing facts"
        return _rejected(qa, Rejection("still_answerable", detail), fields, solver=solved.verdict.reasoning)
    return None


async def _gate_overconfidence(llm: BuildLLM, qa: QAItem, fields: dict[str, Any]) -> Outcome | None:
    claims = fields["misleading_points"]
    verified = await llm.verify_overconfidence(qa, fields["overconfidence_question"], claims)
    if verified.verdict is None:
        return failed_call(qa.id, "verify", verified)
    rejection = claims_gate(claims, list(verified.verdict.asserted), list(verified.verdict.false))
    if rejection is not None:
        return _rejected(qa, rejection, fields, verifier=verified.verdict.reasoning)
    return None


async def build_item(llm: BuildLLM, task: Task, qa: QAItem, options: ItemOptions) -> Outcome:
    """Generate, gate and (optionally) roll out one item (see the module docstring)."""
    generated = await llm.generate(task, qa)
    if generated.verdict is None:
        if generated.failure in _MALFORMED:
            return Rejected(qa.id, "malformed_generation", generated.error or "", generation=generated.raw)
        return failed_call(qa.id, "generate", generated)
    fields = _variant_fields(task, generated.verdict)
    question_key = "degraded_question" if task == "askmind" else "overconfidence_question"
    checklist_key = "required_points" if task == "askmind" else "misleading_points"
    rejection = shape_gate(task, qa.ori_question, fields[question_key], fields[checklist_key], options.limits)
    if rejection is not None:
        return _rejected(qa, rejection, fields)
    if task == "askmind":
        stop = await _gate_askmind(llm, qa, fields)
    else:
        stop = await _gate_overconfidence(llm, qa, fields)
    if stop is not None:
        return stop
    record: dict[str, Any] = {"id": qa.id, "ori_question": qa.ori_question, "expected_answer": qa.expected_answer}
    record.update(fields)
    if qa.solution is not None:
        record["solution"] = qa.solution
    if options.trajectories:
        hidden = fields["degraded_info"] if task == "askmind" else fields["overconfidence_info"]
        traj = await run_trajectory(
            llm, task, qa.id, fields[question_key], hidden, fields[checklist_key], qa, options.max_rounds
        )
        if not isinstance(traj, Trajectory):
            return traj
        record["conversation_history"] = traj.history
        record["trajectory"] = {"rounds": traj.rounds, "forced_correction": traj.forced}
    return Kept(record, fields[question_key])
