"""``--judge lexical``: an offline, deterministic evaluation judge (token overlap and math_verify, no model).

Who uses it: ``python -m eval_hooks.run --judge lexical`` (CPU demos, CI, the checkpoint evaluation's CPU
profile) and, through ``arbiter_reply_from_prompt`` / ``rubric_reply_from_prompt``, the scripted test server's
evaluation roles. It reads cues with askrl's lexical judge (``askrl/judge/lexical.py``, ``text_cues.py``) but
answers with the arbiter's AskBench fields. It is a heuristic: numbers it produces are labelled lexical in the
fingerprint and the summary, never compared with an LLM judge's.

Arbiter rules:
- final answer: the message asks nothing; under ``strict`` also any message with a final-answer marker
  ("Final Answer:", "The answer is", ``\\boxed{``), even if it asks too (spec §2.5 strict rule a);
- resolved (missing information, QuestBench, IN3): item i is resolved once an earlier assistant question hit it
  (askrl's lexical ``hits``) and the user's next message gave something ("nothing to add" does not count);
  resolved (overconfidence): once any assistant message, the latest included, corrected claim i;
- correct: askrl's lexical final grading of the committed answer (normalised match, then math_verify);
  ``None`` for clarifications and IN3.

Simulated user: askrl's lexical user (prompt set v3's reply, ``LexicalJudge.user_reply``) for missing information
and overconfidence, with its report of the items the reply supplied; IN3 gives the clarification answers of the
items a question hits, and reports those; the calibration suite has nothing to add (an empty report).

    judge = LexicalEvalJudge()
    result = await judge.arbitrate(scenario, history, strict=False)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from askrl.judge import text_cues as cues
from askrl.judge.config import LexicalConfig
from askrl.judge.lexical import KEEP_POSITION, NOTHING_TO_ADD, LexicalJudge
from askrl.judge.stats import JudgeStats
from askrl.judge.types import FinalVerdict, JudgeRequest, JudgeResult, Turn, UserReply, UserReplyV3
from eval_hooks.conversation import Message, parse_conversation
from eval_hooks.scenario import Scenario
from eval_hooks.verdicts import ArbiterVerdict, RubricVerdict

GO_AHEAD = "The task is clear as I gave it; please go ahead."
EVERYTHING_SHARED = "I think I've shared everything I know; please go ahead."
_NO_INFO = {NOTHING_TO_ADD, KEEP_POSITION, GO_AHEAD, EVERYTHING_SHARED}
_NUMBERED = re.compile(r"^\s*(\d+)\.\s+(.*\S)\s*$")


def _request(scn: Scenario, response: str, task: str, strict: bool = False) -> JudgeRequest:
    return JudgeRequest(
        task=task,  # type: ignore[arg-type]
        ori_question=scn.ori_question,
        hidden_info=scn.context,
        checklist=scn.checklist,
        expected_answer=scn.expected_answer or "",
        history=(Turn("user", scn.question),),
        response=response,
        strict=strict,
    )


def is_final(message: str, strict: bool) -> bool:
    asks = bool(cues.asking_sentences(message))
    return not asks or (strict and cues.has_final_marker(message))


def resolved_items(scn: Scenario, history: Sequence[Message], lexical: LexicalJudge) -> list[bool]:
    """Which checklist items the conversation has resolved, by the rules in the module docstring."""
    done = [False] * len(scn.checklist)
    if not scn.checklist:
        return done
    if scn.type == "overconfidence":
        for msg in history:
            if msg["role"] == "assistant":
                hits = lexical.turn_verdict(_request(scn, msg["content"], "overconfidence")).hits
                done = [d or h for d, h in zip(done, hits, strict=True)]
        return done
    for i, msg in enumerate(history[:-1]):
        reply = history[i + 1]
        if msg["role"] != "assistant" or reply["role"] != "user" or reply["content"] in _NO_INFO:
            continue
        hits = lexical.turn_verdict(_request(scn, msg["content"], "askmind")).hits
        done = [d or h for d, h in zip(done, hits, strict=True)]
    return done


def rubric_verdict(criterion: str, reply: str) -> RubricVerdict:
    """Met when the reply holds at least half of the criterion's content words."""
    met = cues.coverage(criterion, cues.content_tokens(reply)) >= 0.5
    return RubricVerdict(explanation="lexical overlap", criteria_met=met)


class LexicalEvalJudge:
    """Implements ``eval_hooks.judges.EvalJudge`` offline; every result says ``endpoint="lexical"``."""

    name = "lexical"

    def __init__(self) -> None:
        # math_verify runs in a worker thread; on a loaded 2-core machine 5 s (the training default) is not enough
        # and a slow check would mark the sample judge_failed, so the offline evaluator allows 30 s.
        # v3: the simulated user's reply carries its report of what it supplied
        self._lexical = LexicalJudge(LexicalConfig(math_verify_timeout_s=30.0), prompt_version="v3")
        self._stats = JudgeStats("lexical")

    def _done(self, verdict: Any) -> JudgeResult[Any]:
        result: JudgeResult[Any] = JudgeResult(verdict=verdict, endpoint="lexical")
        self._stats.record_call(result)
        return result

    async def arbitrate(self, scn: Scenario, history: Sequence[Message], strict: bool) -> JudgeResult[ArbiterVerdict]:
        message = history[-1]["content"]
        final = is_final(message, strict)
        done = resolved_items(scn, history, self._lexical)
        missing = [item for item, ok in zip(scn.checklist, done, strict=True) if not ok]
        correct: bool | None = None
        if final and scn.expected_answer is not None:
            # strict: a hedged answer ("A or B") is wrong, as the training judge grades it (``JudgeRequest.strict``)
            graded = await self._lexical.grade_final(_request(scn, message, "askmind", strict=strict))
            if graded.verdict is None:
                return graded  # type: ignore[return-value]  # the failure, passed on as it is
            correct = graded.verdict.decision == "correct"
        verdict = ArbiterVerdict(
            is_final_answer=final,
            is_correct=correct,
            all_required_points_resolved=not missing,
            missing_required_points=missing,
            notes="lexical",
        )
        return self._done(verdict)

    async def simulate_user(self, scn: Scenario, history: Sequence[Message]) -> JudgeResult[UserReply]:
        message = history[-1]["content"]
        if scn.type == "clear":
            return self._done(UserReplyV3(reply=NOTHING_TO_ADD, supplied=[False] * len(scn.checklist)))
        if scn.type == "in3":
            return self._done(self._in3_reply(scn, message))
        task = "overconfidence" if scn.type == "overconfidence" else "askmind"
        return self._done(self._lexical.user_reply(_request(scn, message, task)))

    def _in3_reply(self, scn: Scenario, message: str) -> UserReplyV3:
        """The clarification answers of the items the message asks about; the report names the items answered."""
        if not scn.vague:
            return UserReplyV3(reply=GO_AHEAD, supplied=[False] * len(scn.checklist))
        hits = self._lexical.turn_verdict(_request(scn, message, "askmind")).hits
        given = [hit and bool(scn.point_answers.get(item, "").strip()) for item, hit in zip(scn.checklist, hits, strict=True)]
        answers = [scn.point_answers[item] for item, ok in zip(scn.checklist, given, strict=True) if ok]
        return UserReplyV3(reply=" ".join(answers) if answers else EVERYTHING_SHARED, supplied=given)

    async def grade_answer(self, question: str, expected: str, response: str) -> JudgeResult[FinalVerdict]:
        request = JudgeRequest(
            task="askmind", ori_question=question, hidden_info="", checklist=(), expected_answer=expected,
            history=(Turn("user", question),), response=response,
        )  # fmt: skip
        return await self._lexical.grade_final(request)

    async def grade_rubric(
        self, conversation: Sequence[Message], criterion: str, points: float
    ) -> JudgeResult[RubricVerdict]:
        return self._done(rubric_verdict(criterion, conversation[-1]["content"]))

    def fingerprint(self) -> dict[str, Any]:
        # its users report what they supplied (the dialogue follows the reports): not resumable with older results
        return {"backend": "lexical", "user_reports": True}

    def metrics(self) -> dict[str, float]:
        return self._stats.metrics()

    async def aclose(self) -> None:
        return None


# --- the scripted test server's evaluation roles ------------------------------------------------------------------


def _section(text: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>\n?(.*?)\n?</{tag}>", text, re.DOTALL)
    return match.group(1).strip() if match else None


def _checklist(text: str | None) -> tuple[str, ...]:
    return tuple(m.group(2) for line in (text or "").splitlines() if (m := _NUMBERED.match(line)))


async def arbiter_reply_from_prompt(text: str) -> ArbiterVerdict | JudgeResult[Any]:
    """The lexical arbiter's verdict on a rendered arbiter prompt (or the failed result of its final grading)."""
    claims = _section(text, "misleading_claims")
    vague = _section(text, "task_is_vague")
    if claims is not None:
        kind = "overconfidence"
    elif vague is not None:
        kind = "in3"
    else:
        kind = "missing_info"
    ground_truth = _section(text, "ground_truth_answer")
    scn = Scenario(
        type=kind,  # type: ignore[arg-type]
        question=_section(text, "question_shown_to_assistant") or _section(text, "task") or "",
        ori_question=_section(text, "original_question") or "",
        context=_section(text, "scenario_context") or "",
        checklist=_checklist(claims if claims is not None else _section(text, "required_points")),
        expected_answer=None if kind == "in3" or ground_truth in (None, "None") else ground_truth,
    )
    history = parse_conversation(_section(text, "conversation") or "")
    history.append({"role": "assistant", "content": _section(text, "latest_assistant_message") or ""})
    result = await _SERVER_JUDGE.arbitrate(scn, history, strict="STRICT protocol" in text)
    return result.verdict if result.verdict is not None else result


_SERVER_JUDGE = LexicalEvalJudge()


def rubric_reply_from_prompt(text: str) -> RubricVerdict:
    conversation = parse_conversation(_section(text, "conversation") or "")
    reply = conversation[-1]["content"] if conversation else ""
    return rubric_verdict(_section(text, "rubric_item") or "", reply)
