"""What the scripted test server answers when no scripted reply is queued: the judge, the user, or a policy.

Who uses it: ``askrl/judge/scripted_server.py`` only (a test double for OpenAI-compatible endpoints). The role is
read from the request: ``response_format``'s schema name when present (``TurnVerdict``, ``FinalVerdict``,
``UserReply``), else the tagged sections of askrl's own prompt templates (``<already_resolved>`` → turn grading,
``<expected_answer>`` → final grading, ``<misleading_claims>``/``<hidden_information>`` → simulated user); any
other request is answered as the candidate policy. Judge and user replies are the ``lexical`` judge's verdicts on
the parsed prompt, as JSON, so they follow the prompt's content deterministically.

    kind, content = await role_reply(body["messages"], body.get("response_format"))
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from askrl.judge import text_cues as cues
from askrl.judge.lexical import LexicalJudge
from askrl.judge.types import JudgeRequest

Role = Literal["judge_turn", "judge_final", "user", "policy"]

_SCHEMA_ROLE: dict[str, Role] = {"TurnVerdict": "judge_turn", "FinalVerdict": "judge_final", "UserReply": "user"}
_NUMBERED = re.compile(r"^\s*(\d+)\.\s+(.*\S)\s*$")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_LEXICAL = LexicalJudge()


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
        history=(),
        response=section(text, "assistant_message") or "",
        resolved=tuple(int(n) - 1 for n in re.findall(r"\d+", resolved_text)),
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


async def role_reply(messages: list[dict[str, Any]], response_format: dict[str, Any] | None) -> tuple[Role, str]:
    """The role played and the reply text for one chat request.

    Raises:
        RuntimeError: the lexical judge could not grade a final answer (the server answers 500).
    """
    text = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") in ("user", "system"))
    role = detect_role(text, response_format)
    if role == "policy":
        return role, policy_reply(messages)
    request = _request_from_prompt(text)
    if role == "judge_turn":
        payload = _LEXICAL.turn_verdict(request).model_dump()
    elif role == "user":
        payload = _LEXICAL.user_reply(request).model_dump()
    else:
        result = await _LEXICAL.grade_final(request)
        if result.verdict is None:  # the server answers 500 rather than invent a verdict
            raise RuntimeError(f"lexical final grading failed: {result.error}")
        payload = result.verdict.model_dump()
    return role, json.dumps(payload)
