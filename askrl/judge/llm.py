"""The LLM judge: grades turns and plays the simulated user through a judge model behind ``JudgeClient``.

Who uses it: ``build_judge`` when ``askrl.judge.backend=llm``; callers see only the ``Judge`` protocol.
Contract (spec §4.2): ``grade_turn`` asks the model, with ``turn_<task>_<version>``, whether the latest assistant
message explicitly asks about (AskMind) or corrects (AskOverconfidence) each checklist item, telling it which items
earlier turns resolved; ``grade_final`` asks for ``{"decision": ...}`` against the expected answer. Prompt set v2
(``TurnVerdictV2``/``FinalVerdictV2``): the verdict starts with ``reasoning``, the turn verdict reports
``is_final_answer`` and ``facts_missing`` separately, and a ``request.strict`` request uses the ``*_strict``
templates (AskBench's strict protocol, spec §2.5/§2.9); v1 has no strict templates and grades strict requests as
usual; ``simulate_user`` plays
the user (AskMind: knows the original question and hidden details and answers only what was asked; AskOverconfidence:
accepts explicit corrections, never reveals the answer; v3: it also reports which checklist items its reply
supplied, ``UserReplyV3``). Prompts are packaged files (``askrl/judge/templates.py``);
``prompt_hashes()`` identifies them in run logs.

How it fails: as ``JudgeClient``: a ``JudgeResult`` with a ``FailureKind``, never an exception or an invented
verdict. A turn verdict whose ``hits`` length differs from the checklist is a schema mismatch (re-asked, then a
failure). A template error (``RubricError``) is a programming error and does raise.

    judge = LLMJudge(JudgeClient(client_cfg), SamplingConfig())
    result = await judge.grade_turn(request)
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from pydantic import BaseModel

from askrl.judge.client import JudgeClient
from askrl.judge.config import SamplingConfig
from askrl.judge.templates import DEFAULT_VERSION, has_template, prompt_hashes, render
from askrl.judge.types import (
    AnyFinalVerdict,
    AnyTurnVerdict,
    FinalVerdict,
    FinalVerdictV2,
    JudgeRequest,
    JudgeResult,
    Turn,
    TurnVerdict,
    TurnVerdictV2,
    TurnVerdictV3,
    UserReply,
    UserReplyV3,
    check_hits_length,
    check_supplied_length,
)


def render_checklist(items: tuple[str, ...]) -> str:
    """Numbered lines ``1. item`` (spec §2.1), or a line saying there is none."""
    if not items:
        return "(no checklist items were provided)"
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1))


def render_conversation(turns: tuple[Turn, ...]) -> str:
    """Each turn in a ``<turn role="...">`` block, so a message cannot pass itself off as another role's line."""
    if not turns:
        return "(no earlier turns)"
    return "\n".join(f'<turn role="{t.role}">\n{t.content}\n</turn>' for t in turns)


def _resolved(request: JudgeRequest) -> str:
    if not request.resolved:
        return "none"
    return ", ".join(str(i + 1) for i in sorted(request.resolved))


def _earlier_turns(request: JudgeRequest) -> tuple[Turn, ...]:
    """The history without its last user message (that one is shown separately as the latest user message)."""
    history = request.history
    return history[:-1] if history and history[-1].role == "user" else history


def verdict_models(version: str) -> tuple[type[AnyTurnVerdict], type[AnyFinalVerdict]]:
    """The turn and final verdict models of prompt set ``version`` (v1: ``TurnVerdict``/``FinalVerdict``)."""
    if version == "v1":
        return TurnVerdict, FinalVerdict
    return (TurnVerdictV3 if version == "v3" else TurnVerdictV2), FinalVerdictV2


def reply_model(version: str) -> type[UserReply]:
    """The simulated user's reply model: v3's carries the report of what it supplied (``UserReplyV3``)."""
    return UserReplyV3 if version == "v3" else UserReply


@functools.lru_cache(maxsize=256)
def pinned_json_schema(
    model: type[BaseModel], n_items: int, fields: tuple[str, ...], required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``model``'s JSON schema with each list field of ``fields`` pinned to ``n_items`` entries (guided decoding
    then cannot write a verdict list of the wrong length, which would only be caught as a schema mismatch), and the
    fields of ``required`` required: v3's ``irrelevant_questions`` and ``supplied`` are optional in the models, so
    that replies without them still validate, but a constrained reply always writes them.

    A pinned field that is optional (``list[bool] | None``) is decoded as the bare list. Cached per model, length
    and fields (building a schema costs about a millisecond); callers must not mutate it.
    """
    schema = copy.deepcopy(model.model_json_schema())
    for name in fields:
        prop = schema["properties"][name]
        if "anyOf" in prop:  # Optional[list[...]]: keep the list branch only
            prop = next(branch for branch in prop["anyOf"] if branch.get("type") == "array")
            schema["properties"][name] = prop
        prop["minItems"] = n_items
        prop["maxItems"] = n_items
    missing = [name for name in required if name in schema["properties"] and name not in schema.get("required", [])]
    if missing:
        schema["required"] = [*schema.get("required", []), *missing]
    return schema


def turn_json_schema(n_items: int, version: str = "v1") -> dict[str, Any]:
    """The turn verdict's JSON schema with ``hits`` pinned to ``n_items`` entries (for guided decoding)."""
    return pinned_json_schema(verdict_models(version)[0], n_items, ("hits",), ("irrelevant_questions",))


def reply_json_schema(n_items: int) -> dict[str, Any]:
    """v3's reply schema with ``supplied`` pinned to ``n_items`` entries and required."""
    return pinned_json_schema(UserReplyV3, n_items, ("supplied",), ("supplied",))


class LLMJudge:
    """Implements ``askrl.judge.types.Judge`` over a ``JudgeClient``."""

    name = "llm"

    def __init__(
        self, client: JudgeClient, sampling: SamplingConfig | None = None, prompt_version: str = DEFAULT_VERSION
    ) -> None:
        self.client = client
        self.sampling = sampling or SamplingConfig()
        self.prompt_version = prompt_version
        self.prompt_hashes = prompt_hashes(prompt_version)  # also validates every template up front

    def metrics(self, reset: bool = False) -> dict[str, float]:
        """The client's ``judge/...`` metrics (``judge/backend_llm=1``)."""
        return self.client.metrics(reset=reset)

    async def aclose(self) -> None:
        await self.client.aclose()

    def _messages(self, system: str, name: str, **values: str) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": render(system, self.prompt_version)},
            {"role": "user", "content": render(name, self.prompt_version, **values)},
        ]

    def _grading_template(self, name: str, request: JudgeRequest) -> str:
        """``name``, or its strict variant for a strict request when this prompt set has one."""
        strict = f"{name}_strict"
        return strict if request.strict and has_template(strict, self.prompt_version) else name

    def turn_messages(self, request: JudgeRequest) -> list[dict[str, str]]:
        """The chat messages of a turn-grading call (public so tests and snapshots can pin them)."""
        return self._messages(
            "system_grader",
            self._grading_template(f"turn_{request.task}", request),
            ori_question=request.ori_question,
            hidden_info=request.hidden_info or "None provided.",
            checklist=render_checklist(request.checklist),
            resolved=_resolved(request),
            conversation=render_conversation(_earlier_turns(request)),
            question=request.question,
            response=request.response,
            n_items=str(len(request.checklist)),
        )

    def final_messages(self, request: JudgeRequest) -> list[dict[str, str]]:
        """The chat messages of a final-answer grading call."""
        return self._messages(
            "system_grader",
            self._grading_template("final", request),
            conversation=render_conversation(_earlier_turns(request)),
            question=request.question,
            expected_answer=request.expected_answer,
            response=request.response,
        )

    def user_messages(self, request: JudgeRequest) -> list[dict[str, str]]:
        """The chat messages of a simulated-user call (the expected answer is never part of them)."""
        if request.task == "askmind":
            return self._messages(
                "system_user",
                "user_askmind",
                ori_question=request.ori_question,
                hidden_info=request.hidden_info or "None provided.",
                checklist=render_checklist(request.checklist),
                conversation=render_conversation(request.history),
                response=request.response,
            )
        return self._messages(
            "system_user",
            "user_overconfidence",
            checklist=render_checklist(request.checklist),
            response=request.response,
        )

    async def grade_turn(self, request: JudgeRequest) -> JudgeResult[AnyTurnVerdict]:
        """Grade a non-final turn; ``hits`` must have one entry per checklist item."""
        n_items = len(request.checklist)

        def same_length(verdict: AnyTurnVerdict) -> None:
            check_hits_length(verdict, n_items)

        return await self.client.complete(
            self.turn_messages(request),
            verdict_models(self.prompt_version)[0],
            check=same_length,
            json_schema=turn_json_schema(n_items, self.prompt_version),
            temperature=self.sampling.grade_temperature,
        )

    async def grade_final(self, request: JudgeRequest) -> JudgeResult[AnyFinalVerdict]:
        """Grade a final turn against ``request.expected_answer``."""
        return await self.client.complete(
            self.final_messages(request),
            verdict_models(self.prompt_version)[1],
            temperature=self.sampling.grade_temperature,
        )

    async def simulate_user(self, request: JudgeRequest) -> JudgeResult[UserReply]:
        """Play the user who holds the hidden information, replying to ``request.response``."""
        if request.task == "askmind":
            temperature = self.sampling.user_temperature_askmind
        else:
            temperature = self.sampling.user_temperature_overconfidence
        if self.prompt_version != "v3":
            return await self.client.complete(
                self.user_messages(request),
                UserReply,
                temperature=temperature,
                use_cache=self.sampling.cache_user_replies,
            )
        n_items = len(request.checklist)

        def same_length(reply: UserReply) -> None:
            check_supplied_length(reply, n_items)

        return await self.client.complete(
            self.user_messages(request),
            UserReplyV3,
            check=same_length,
            json_schema=reply_json_schema(n_items),
            temperature=temperature,
            use_cache=self.sampling.cache_user_replies,
        )
