"""What the scripted test server answers when no scripted reply is queued: the judge, the user, or a policy.

Who uses it: ``askrl/testing/scripted_server.py`` only (a test double for OpenAI-compatible endpoints). The role is
read from the request: ``response_format``'s schema name when present (``TurnVerdict``, ``FinalVerdict``,
``UserReply``), else the tagged sections of askrl's own prompt templates (``<already_resolved>`` → turn grading,
``<expected_answer>`` → final grading, ``<misleading_claims>``/``<hidden_information>`` → simulated user); any
other request is answered as the candidate policy. Judge and user replies are the ``lexical`` judge's verdicts on
the parsed prompt, as JSON, so they follow the prompt's content deterministically. The verdict's prompt set is
read from the request too: a ``*V3`` schema name or a prompt spelling out a v3 field gets the v3 verdict or reply
(``irrelevant_questions``; the user's ``supplied`` report: so the evaluator's reporting user prompts,
``eval_hooks/prompts/user*_v2.txt``, get the report too, read from their ``<hidden_information>`` or
``<misleading_claims>`` and ``<assistant_message>``), a ``*V2`` schema name, or a prompt that spells out the
v2 schema (``"reasoning"``), gets the v2 verdict (reasoning first, ``is_final_answer``/``facts_missing``), anything
else the v1 one; a prompt
with ``<grading_mode>strict</grading_mode>`` is graded under AskBench's strict protocol. The parsed request keeps
the conversation's user messages, so "facts still missing" follows what the user already supplied.

A prompt with a ``<build_step>NAME</build_step>`` line (the data builder's, ``askrl/data/build/prompts``) is
answered by the generator role, ``scripted_generator.py``.

    kind, content = await role_reply(body["messages"], body.get("response_format"))
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from askrl.judge import text_cues as cues
from askrl.judge.lexical import LexicalJudge
from askrl.judge.types import JudgeRequest, Turn
from askrl.testing.scripted_generator import build_step, generator_reply

Role = Literal["judge_turn", "judge_final", "user", "policy", "eval_arbiter", "eval_rubric", "generator"]

_SCHEMA_ROLE: dict[str, Role] = {
    "TurnVerdict": "judge_turn",
    "TurnVerdictV2": "judge_turn",
    "TurnVerdictV3": "judge_turn",
    "FinalVerdict": "judge_final",
    "FinalVerdictV2": "judge_final",
    "UserReply": "user",
    "UserReplyV3": "user",
}
_NUMBERED = re.compile(r"^\s*(\d+)\.\s+(.*\S)\s*$")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_LEXICAL = {version: LexicalJudge(prompt_version=version) for version in ("v1", "v2", "v3")}
_TURN_BLOCK = re.compile(r'<turn role="(user|assistant)">\n(.*?)\n</turn>', re.DOTALL)


def section(text: str, tag: str) -> str | None:
    """The stripped text between ``<tag>`` and ``</tag>``, or ``None``."""
    match = re.search(rf"<{tag}>\n?(.*?)\n?</{tag}>", text, re.DOTALL)
    return match.group(1).strip() if match else None


def detect_role(text: str, response_format: dict[str, Any] | None) -> Role:
    """Which role a request asks the server to play (see the module docstring)."""
    if response_format and response_format.get("type") == "json_schema":
        name = (response_format.get("json_schema") or {}).get("name", "")
        if name in _SCHEMA_ROLE:
            return _SCHEMA_ROLE[name]
    if "<already_resolved>" in text:
        return "judge_turn"
    if "<expected_answer>" in text:
        return "judge_final"
    if "<hidden_information>" in text or "<misleading_claims>" in text:
        return "user"
    return "policy"


def prompt_version(text: str, response_format: dict[str, Any] | None) -> str:
    """``v3`` for a ``*V3`` schema or a prompt that spells out a v3 field (``"irrelevant_questions"``,
    ``"supplied"``), ``v2`` for a ``*V2`` schema or a prompt that spells out the v2 schema, else ``v1``. A v3 final
    grading (its schema is v2's) is answered with the v2 verdict, which is the same model."""
    if '"irrelevant_questions"' in text or '"supplied"' in text:
        return "v3"
    if response_format and response_format.get("type") == "json_schema":
        name = (response_format.get("json_schema") or {}).get("name", "")
        if name in _SCHEMA_ROLE:
            return name[-2:].lower() if name[-2:] in ("V2", "V3") else "v1"
    return "v2" if '"reasoning"' in text else "v1"


def _history_from_prompt(text: str) -> tuple[Turn, ...]:
    """The conversation section's turns plus the latest user message (what "facts missing" is judged on)."""
    turns = [Turn(role, body) for role, body in _TURN_BLOCK.findall(section(text, "conversation") or "")]  # type: ignore[arg-type]
    latest = section(text, "latest_user_message")
    if latest is not None:
        turns.append(Turn("user", latest))
    return tuple(turns)


def _request_from_prompt(text: str) -> JudgeRequest:
    claims = section(text, "misleading_claims")
    checklist_text = claims if claims is not None else section(text, "required_points") or ""
    checklist = tuple(m.group(2) for line in checklist_text.splitlines() if (m := _NUMBERED.match(line)))
    resolved_text = section(text, "already_resolved") or ""
    return JudgeRequest(
        task="overconfidence" if claims is not None else "askmind",
        ori_question=section(text, "original_question") or "",
        hidden_info=section(text, "hidden_information") or section(text, "context_behind_the_claims") or "",
        checklist=checklist,
        expected_answer=section(text, "expected_answer") or "",
        history=_history_from_prompt(text),
        response=section(text, "assistant_message") or "",
        resolved=tuple(int(n) - 1 for n in re.findall(r"\d+", resolved_text)),
        strict=section(text, "grading_mode") == "strict",
    )


def policy_reply(messages: list[dict[str, Any]]) -> str:
    """A deterministic candidate policy: it asks once, then commits to an answer (a number from the user, or 42)."""
    assistant_turns = sum(1 for m in messages if m.get("role") == "assistant")
    last_user = next((str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), "")
    if assistant_turns == 0:
        words = sorted(cues.content_tokens(last_user))[:3]
        topic = ", ".join(words) if words else "your question"
        return f"Before I answer, could you tell me more about {topic}?"
    numbers = _NUMBER.findall(last_user)
    return f"Final Answer: {numbers[-1] if numbers else '42'}"


def _eval_role(text: str, response_format: dict[str, Any] | None) -> Role | None:
    """The evaluator's arbiter and rubric grader (``eval_hooks``): by schema name, else by their prompts' tags."""
    name = ((response_format or {}).get("json_schema") or {}).get("name")
    if name == "ArbiterVerdict" or (name is None and "<latest_assistant_message>" in text):
        return "eval_arbiter"
    if name == "RubricVerdict" or (name is None and "<rubric_item>" in text):
        return "eval_rubric"
    return None


async def _eval_reply(role: Role, text: str) -> str:
    from eval_hooks import lexical  # the evaluator's lexical arbiter reads its own prompts (imported when used)
    from eval_hooks.verdicts import ArbiterVerdict

    if role == "eval_rubric":
        return lexical.rubric_reply_from_prompt(text).model_dump_json()
    verdict = await lexical.arbiter_reply_from_prompt(text)
    if not isinstance(verdict, ArbiterVerdict):  # a failed final grading: answer 500 rather than invent a verdict
        raise RuntimeError(f"lexical arbiter failed: {verdict.error}")
    return verdict.model_dump_json()


async def role_reply(messages: list[dict[str, Any]], response_format: dict[str, Any] | None) -> tuple[Role, str]:
    """The role played and the reply text for one chat request.

    Raises:
        RuntimeError: the lexical judge could not grade a final answer (the server answers 500).
    """
    text = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") in ("user", "system"))
    step = build_step(text)  # the data builder's steps (askrl/testing/scripted_generator.py)
    if step is not None:
        return "generator", generator_reply(step, text)
    eval_role = _eval_role(text, response_format)
    if eval_role is not None:
        return eval_role, await _eval_reply(eval_role, text)
    role = detect_role(text, response_format)
    if role == "policy":
        return role, policy_reply(messages)
    request = _request_from_prompt(text)
    lexical = _LEXICAL[prompt_version(text, response_format)]
    if role == "judge_turn":
        payload = lexical.turn_verdict(request).model_dump()
    elif role == "user":
        payload = lexical.user_reply(request).model_dump()
    else:
        result = await lexical.grade_final(request)
        if result.verdict is None:  # the server answers 500 rather than invent a verdict
            raise RuntimeError(f"lexical final grading failed: {result.error}")
        payload = result.verdict.model_dump()
    return role, json.dumps(payload)
