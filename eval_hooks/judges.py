"""The evaluation judge: AskBench's arbiter, the simulated users, and the QA and rubric graders.

Two backends implement ``EvalJudge``: ``LLMEvalJudge`` renders the prompts of ``eval_hooks/prompts`` and sends them
through askrl's ``JudgeClient`` (async, several endpoints, retries with a repair note, circuit breakers, every
failure a ``JudgeResult`` with its ``FailureKind``), and ``LexicalEvalJudge`` (``eval_hooks/lexical.py``) answers
offline and deterministically for CPU demos and CI. Callers never branch on the backend.

Sampling (spec §7.4: the original ignored its simulator settings): the arbiter and graders run at
``grade_temperature`` (0.0), the simulated user at ``user_temperature`` when set, else spec §2.3's 0.5
(missing information, QuestBench, clear questions) or 0.3 (overconfidence, IN3); ``max_tokens`` applies to every
call. Under a reporting prompt set (v2, the default) the simulated user returns ``UserReplyV3``: its reply and the
report of which checklist items it supplied, decoded with the schema pinned to one entry per item and checked for
length (a wrong length is a schema mismatch, retried); the dialogue then follows the report (``eval_hooks/dialogue.py``).

    judge = LLMEvalJudge(JudgeClientConfig(endpoints=[...]), JudgeSettings())
    result = await judge.arbitrate(scenario, history, strict=False)   # JudgeResult[ArbiterVerdict]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from askrl.judge.client import JudgeClient
from askrl.judge.config import JudgeClientConfig
from askrl.judge.llm import reply_json_schema
from askrl.judge.types import FinalVerdict, JudgeResult, UserReply, UserReplyV3, check_supplied_length
from eval_hooks.conversation import Message, numbered, render_conversation
from eval_hooks.scenario import Scenario
from eval_hooks.templates import PROMPT_VERSION, REPORTING_SETS, render, template_hashes
from eval_hooks.verdicts import ArbiterVerdict, RubricVerdict


class JudgeSettings(BaseModel):
    """Sampling of the evaluation judge's calls."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grade_temperature: float = Field(0.0, ge=0, le=2)
    """Arbiter, QA grader and rubric grader."""
    user_temperature: float | None = Field(None, ge=0, le=2)
    """Simulated user; None: 0.5 for missing information, 0.3 for overconfidence and IN3 (spec §2.3)."""
    max_tokens: int = Field(2048, ge=1)
    """Completion cap of every judge call."""
    prompt_version: str = PROMPT_VERSION


class EvalJudge(Protocol):
    """A backend of the evaluation judge. Every method is a coroutine, safe to call concurrently."""

    name: str

    async def arbitrate(self, scn: Scenario, history: Sequence[Message], strict: bool) -> JudgeResult[ArbiterVerdict]:
        """Judge the latest (assistant) message of ``history``."""
        ...

    async def simulate_user(self, scn: Scenario, history: Sequence[Message]) -> JudgeResult[UserReply]:
        """The user's reply to the latest (assistant) message of ``history``."""
        ...

    async def grade_answer(self, question: str, expected: str, response: str) -> JudgeResult[FinalVerdict]:
        """Whether a QA response's final answer matches ``expected`` (``still_asking``: it gives none)."""
        ...

    async def grade_rubric(self, conversation: Sequence[Message], criterion: str, points: float) -> JudgeResult[RubricVerdict]:
        """Whether the last message of ``conversation`` meets one HealthBench rubric item."""
        ...

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this judge in a run's fingerprint (backend, model, prompt hashes, sampling)."""
        ...

    def metrics(self) -> dict[str, float]:
        """Flat ``judge/...`` metrics since the start."""
        ...

    async def aclose(self) -> None: ...


def arbiter_template(scn: Scenario, strict: bool) -> str:
    """Spec §2.5: the variant by scenario type and protocol (IN3 has one arbiter, never strict, spec §2.8)."""
    if scn.type == "in3":
        return "arbiter_in3"
    base = "arbiter_overconfidence" if scn.type == "overconfidence" else "arbiter"
    return f"{base}_strict" if strict else base


def user_temperature(scn: Scenario, settings: JudgeSettings) -> float:
    if settings.user_temperature is not None:
        return settings.user_temperature
    return 0.3 if scn.type in ("overconfidence", "in3") else 0.5


def arbiter_prompt(scn: Scenario, history: Sequence[Message], strict: bool, version: str = PROMPT_VERSION) -> str:
    name = arbiter_template(scn, strict)
    values = {
        "scenario_question": scn.question,
        "scenario_context": scn.context or "None provided.",
        "checklist": numbered(scn.checklist),
        "conversation": render_conversation(history[:-1]),
        "response": history[-1]["content"],
    }
    if name == "arbiter_in3":
        values["vague"] = "true" if scn.vague else "false"
    else:
        values["ground_truth"] = scn.expected_answer or "None"
        values["ori_question"] = scn.ori_question
    return render(name, version, **values)


def in3_hidden_info(scn: Scenario) -> str:
    answers = "\n".join(f"- {point}: {answer}" for point, answer in scn.point_answers.items())
    return f"{scn.context}\nYour clarification answers:\n{answers}" if answers else scn.context


def user_prompt(scn: Scenario, history: Sequence[Message], version: str = PROMPT_VERSION) -> str:
    response = history[-1]["content"]
    if scn.type == "overconfidence":  # spec §2.6 b: only the claims and the latest message
        return render("user_overconfidence", version, checklist=numbered(scn.checklist), response=response)
    values = {
        "ori_question": scn.ori_question,
        "hidden_info": in3_hidden_info(scn) if scn.type == "in3" else scn.context,
        "checklist": numbered(scn.checklist),
        "conversation": render_conversation(history[:-1]),
        "response": response,
    }
    if scn.type == "in3":
        return render("user_in3", version, vague="true" if scn.vague else "false", **values)
    return render("user", version, **values)


class LLMEvalJudge:
    """The evaluation judge on an LLM behind OpenAI-compatible endpoints (askrl's ``JudgeClient``)."""

    name = "llm"

    def __init__(self, client_cfg: JudgeClientConfig, settings: JudgeSettings | None = None) -> None:
        self.client_cfg = client_cfg
        self.settings = settings or JudgeSettings()
        self._client = JudgeClient(client_cfg)

    async def _ask(self, prompt: str, schema: type[Any], temperature: float, **pinned: Any) -> JudgeResult[Any]:
        """One call; ``pinned``: the reporting user's ``check`` and ``json_schema`` (``JudgeClient.complete``)."""
        messages = [{"role": "user", "content": prompt}]
        return await self._client.complete(
            messages, schema, temperature=temperature, max_tokens=self.settings.max_tokens, use_cache=False, **pinned
        )

    async def arbitrate(self, scn: Scenario, history: Sequence[Message], strict: bool) -> JudgeResult[ArbiterVerdict]:
        prompt = arbiter_prompt(scn, history, strict, self.settings.prompt_version)
        return await self._ask(prompt, ArbiterVerdict, self.settings.grade_temperature)

    async def simulate_user(self, scn: Scenario, history: Sequence[Message]) -> JudgeResult[UserReply]:
        prompt = user_prompt(scn, history, self.settings.prompt_version)
        temperature = user_temperature(scn, self.settings)
        if self.settings.prompt_version not in REPORTING_SETS:
            return await self._ask(prompt, UserReply, temperature)
        n_items = len(scn.checklist)

        def same_length(reply: UserReply) -> None:
            check_supplied_length(reply, n_items)

        return await self._ask(
            prompt, UserReplyV3, temperature, check=same_length, json_schema=reply_json_schema(n_items)
        )

    async def grade_answer(self, question: str, expected: str, response: str) -> JudgeResult[FinalVerdict]:
        prompt = render(
            "qa_grade", self.settings.prompt_version, question=question, expected_answer=expected, response=response
        )
        return await self._ask(prompt, FinalVerdict, self.settings.grade_temperature)

    async def grade_rubric(
        self, conversation: Sequence[Message], criterion: str, points: float
    ) -> JudgeResult[RubricVerdict]:
        prompt = render(
            "rubric",
            self.settings.prompt_version,
            conversation=render_conversation(conversation),
            criterion=criterion,
            points=f"{points:g}",
        )
        return await self._ask(prompt, RubricVerdict, self.settings.grade_temperature)

    def fingerprint(self) -> dict[str, Any]:
        return {
            "backend": "llm",
            "models": sorted({ep.model for ep in self.client_cfg.endpoints}),
            "prompt_version": self.settings.prompt_version,
            "prompts": template_hashes(self.settings.prompt_version),
            "sampling": self.settings.model_dump(exclude={"prompt_version"}),
        }

    def metrics(self) -> dict[str, float]:
        return self._client.metrics()

    async def aclose(self) -> None:
        await self._client.aclose()
