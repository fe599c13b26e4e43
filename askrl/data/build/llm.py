"""Every LLM call of a data build, one method per step, all through askrl's judge client.

Who uses it: ``pipeline.py``, ``difficulty.py`` and ``trajectory.py``. The generator, solver, verifier and the
trajectory steps share one ``JudgeClient`` over ``--llm-url`` (its concurrency limits, retries with failover,
circuit breakers, repair re-asks and failure kinds); policy sampling for pass rates has its own client over
``--policy-url``. The trajectory's simulated user and final-answer judge are askrl's ``LLMJudge`` (the same
prompts training and evaluation use) on the generator client. Prompts are ``templates.py`` files; each step asks
for a ``schemas.py`` model with ``response_format`` where the endpoint supports it. Sampling follows the original
pipeline (spec §5): generation 0.2, checks 0.0, asking 0.5, answering 0.2, policy samples 0.7.

How it fails: never raises for an LLM problem; every method returns a ``JudgeResult`` whose ``failure`` names the
kind (``timeout``, ``http_error``, ``invalid_json``, ``schema_mismatch``, ``no_endpoint``); the caller decides
(a malformed generation is a rejection, anything else a failed item that a re-run retries).

    llm = BuildLLM(client_config(["http://127.0.0.1:8000/v1"], "default"))
    result = await llm.generate("askmind", qa)   # JudgeResult[BuildAskMind]
    await llm.aclose()
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from askrl.data.build.inputs import QAItem
from askrl.data.build.schemas import (
    BuildAnswer,
    BuildAskMind,
    BuildClaimCheck,
    BuildCoverage,
    BuildMessage,
    BuildOverconfidence,
    BuildPointCheck,
    same_length,
)
from askrl.data.build.templates import prompt_hashes, render
from askrl.judge.client import JudgeClient
from askrl.judge.config import BreakerConfig, EndpointConfig, JudgeClientConfig, RetryConfig
from askrl.judge.llm import LLMJudge, pinned_json_schema, render_checklist, render_conversation
from askrl.judge.types import FinalVerdict, JudgeRequest, JudgeResult, Turn, UserReply

Task = Literal["askmind", "overconfidence"]
Round = Literal["first", "follow_up", "final"]

GENERATE_TEMPERATURE = 0.2
CHECK_TEMPERATURE = 0.0
ASK_TEMPERATURE = 0.5
ANSWER_TEMPERATURE = 0.2
POLICY_TEMPERATURE = 0.7
GENERATE_MAX_TOKENS = 4096
ANSWER_MAX_TOKENS = 2048


def client_config(
    urls: Sequence[str],
    model: str,
    *,
    max_concurrency: int = 64,
    api_key_env: str | None = None,
    request_timeout_s: float = 300.0,
    call_timeout_s: float = 900.0,
    retry: RetryConfig | None = None,
    breaker: BreakerConfig | None = None,
    name: str = "llm",
    max_tokens: int = GENERATE_MAX_TOKENS,
) -> JudgeClientConfig:
    """A judge-client config over ``urls`` (each an OpenAI-compatible base URL ending in ``/v1``).

    Generations are long, so one attempt may take ``request_timeout_s`` and a whole call (retries, waiting out an
    endpoint restart) ``call_timeout_s``; endpoints unreachable for all of it stop the build
    (``JudgeUnavailableError``) instead of failing every remaining item.
    """
    endpoints = [
        EndpointConfig(
            name=f"{name}{i}",
            base_url=url.rstrip("/"),
            model=model,
            api_key_env=api_key_env,
            max_concurrency=max_concurrency,
        )
        for i, url in enumerate(urls)
    ]
    return JudgeClientConfig(
        endpoints=endpoints,
        max_concurrency=max_concurrency,
        request_timeout_s=request_timeout_s,
        call_timeout_s=call_timeout_s,
        max_tokens=max_tokens,
        retry=retry or RetryConfig(),
        breaker=breaker or BreakerConfig(),
    )


def conversation_turns(history: Sequence[dict[str, str]]) -> tuple[Turn, ...]:
    return tuple(Turn(role=m["role"], content=m["content"]) for m in history)  # type: ignore[arg-type]


class BuildLLM:
    """The generator (and judge-side) client plus an optional policy client; one per build, on one event loop."""

    def __init__(
        self,
        generator: JudgeClientConfig,
        policy: JudgeClientConfig | None = None,
        *,
        prompt_version: str = "v1",
        policy_max_tokens: int = 4096,
        max_tokens: int = GENERATE_MAX_TOKENS,
    ) -> None:
        self.prompt_version = prompt_version
        self.prompt_hashes = prompt_hashes(prompt_version)  # validates every template before any call
        self.client = JudgeClient(generator)
        self.policy = JudgeClient(policy) if policy is not None else None
        self.judge = LLMJudge(self.client)
        self.policy_max_tokens = policy_max_tokens
        self.max_tokens = max_tokens  # the generation's budget (``--max-tokens``), and a cap on every other step's
        self.answer_max_tokens = min(ANSWER_MAX_TOKENS, max_tokens)

    async def aclose(self) -> None:
        await self.client.aclose()
        if self.policy is not None:
            await self.policy.aclose()

    def metrics(self) -> dict[str, dict[str, float]]:
        """The clients' ``judge/...`` metrics (calls, retries, failures by kind, latency), per client."""
        out = {"generator": self.client.metrics()}
        if self.policy is not None:
            out["policy"] = self.policy.metrics()
        return out

    def _messages(self, name: str, **values: str) -> list[dict[str, str]]:
        return [{"role": "user", "content": render(name, self.prompt_version, **values)}]

    async def generate(self, task: Task, qa: QAItem) -> JudgeResult[BuildAskMind] | JudgeResult[BuildOverconfidence]:
        """The variant of ``qa`` for ``task`` (spec §5.2)."""
        schema: type[BaseModel] = BuildAskMind if task == "askmind" else BuildOverconfidence
        return await self.client.complete(
            self._messages(f"generate_{task}", ori_question=qa.ori_question, expected_answer=qa.expected_answer),
            schema,
            temperature=GENERATE_TEMPERATURE,
            max_tokens=self.max_tokens,
        )  # type: ignore[return-value]

    async def solve(self, question: str) -> JudgeResult[BuildAnswer]:
        """A solver's best attempt at ``question`` as written (the ``still_answerable`` gate)."""
        return await self.client.complete(
            self._messages("solve", question=question),
            BuildAnswer,
            temperature=CHECK_TEMPERATURE,
            max_tokens=self.answer_max_tokens,
        )

    async def verify_askmind(self, qa: QAItem, variant: BuildAskMind) -> JudgeResult[BuildPointCheck]:
        """Per checklist item: is it about what the variant removed or blurred?"""
        n = len(variant.required_points)
        return await self.client.complete(
            self._messages(
                "verify_askmind",
                ori_question=qa.ori_question,
                degraded_question=variant.degraded_question,
                degraded_info=variant.degraded_info,
                checklist=render_checklist(tuple(variant.required_points)),
                n_items=str(n),
            ),
            BuildPointCheck,
            check=same_length(n, "grounded"),
            json_schema=pinned_json_schema(BuildPointCheck, n, ("grounded",)),
            temperature=CHECK_TEMPERATURE,
        )

    async def verify_overconfidence(self, qa: QAItem, question: str, claims: list[str]) -> JudgeResult[BuildClaimCheck]:
        """Per claim: asserted in the rewritten question, and actually false?"""
        return await self.client.complete(
            self._messages(
                "verify_overconfidence",
                ori_question=qa.ori_question,
                expected_answer=qa.expected_answer,
                overconfidence_question=question,
                checklist=render_checklist(tuple(claims)),
                n_items=str(len(claims)),
            ),
            BuildClaimCheck,
            check=same_length(len(claims), "asserted", "false"),
            json_schema=pinned_json_schema(BuildClaimCheck, len(claims), ("asserted", "false")),
            temperature=CHECK_TEMPERATURE,
        )

    async def policy_answer(self, question: str) -> JudgeResult[BuildAnswer]:
        """One policy sample on the original question (never cached: each sample must be drawn anew)."""
        if self.policy is None:
            raise RuntimeError("policy sampling needs a policy client (pass --policy-url or --llm-url)")
        return await self.policy.complete(
            self._messages("policy_answer", question=question),
            BuildAnswer,
            temperature=POLICY_TEMPERATURE,
            max_tokens=self.policy_max_tokens,
            use_cache=False,
        )

    async def ask(
        self, task: Task, checklist: list[str], unresolved: list[str], round_name: Round, history: list[dict[str, str]]
    ) -> JudgeResult[BuildMessage]:
        """The assistant's clarifying (AskMind) or correcting (AskOverconfidence) turn of a trajectory."""
        return await self.client.complete(
            self._messages(
                f"ask_{task}",
                checklist=render_checklist(tuple(checklist)),
                unresolved=render_checklist(tuple(unresolved)),
                round=round_name,
                conversation=render_conversation(conversation_turns(history)),
            ),
            BuildMessage,
            temperature=ASK_TEMPERATURE,
            max_tokens=self.answer_max_tokens,
            use_cache=False,
        )

    async def coverage(
        self, task: Task, checklist: list[str], history: list[dict[str, str]]
    ) -> JudgeResult[BuildCoverage]:
        """Per checklist item: resolved by the conversation so far (spec §5.3 step 3, one verdict per item)."""
        return await self.client.complete(
            self._messages(
                f"coverage_{task}",
                checklist=render_checklist(tuple(checklist)),
                conversation=render_conversation(conversation_turns(history)),
                n_items=str(len(checklist)),
            ),
            BuildCoverage,
            check=same_length(len(checklist), "covered"),
            json_schema=pinned_json_schema(BuildCoverage, len(checklist), ("covered",)),
            temperature=CHECK_TEMPERATURE,
        )

    async def answer(self, history: list[dict[str, str]]) -> JudgeResult[BuildMessage]:
        """The assistant's final answer once everything is resolved."""
        return await self.client.complete(
            self._messages("answer", conversation=render_conversation(conversation_turns(history))),
            BuildMessage,
            temperature=ANSWER_TEMPERATURE,
            max_tokens=self.answer_max_tokens,
            use_cache=False,
        )

    async def force_correct(
        self, history: list[dict[str, str]], expected_answer: str, solution: str | None
    ) -> JudgeResult[BuildMessage]:
        """The answer the assistant should have given, led by the standard answer (and solution)."""
        return await self.client.complete(
            self._messages(
                "force_correct",
                conversation=render_conversation(conversation_turns(history)),
                expected_answer=expected_answer,
                solution=solution or "None provided.",
            ),
            BuildMessage,
            temperature=ANSWER_TEMPERATURE,
            max_tokens=self.answer_max_tokens,
            use_cache=False,
        )

    async def simulate_user(self, request: JudgeRequest) -> JudgeResult[UserReply]:
        """askrl's simulated user (the judge's ``user_<task>`` prompts), replying to ``request.response``."""
        return await self.judge.simulate_user(request)

    async def grade_final(self, request: JudgeRequest) -> JudgeResult[FinalVerdict]:
        """askrl's final-answer judge (``final`` prompt) on ``request.response``."""
        return await self.judge.grade_final(request)
