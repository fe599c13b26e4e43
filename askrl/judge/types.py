"""The judge's contract: task-level requests, strict verdict schemas, and explicit outcomes.

Who uses it: ``reward/`` (turn grading), ``askrl/rollout`` (the simulated user), ``eval_hooks`` (verdicts).
Every backend (an LLM behind OpenAI-compatible endpoints, or the offline ``lexical`` judge) implements the
``Judge`` protocol below, so callers never branch on the backend.

How it fails: a judge call never raises into the training loop and never invents a score. It returns a
``JudgeResult`` whose ``verdict`` is set, or whose ``failure`` names what went wrong after the retry budget was
spent. The caller decides what a failure means (mask the trajectory, penalise for an ablation, or stop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

V = TypeVar("V")


class FailureKind(str, Enum):
    """Why a judge call failed after all its retries (a metric label: ``judge/failures/<kind>``)."""

    TIMEOUT = "timeout"
    HTTP_ERROR = "http_error"  # a non-2xx status, or a connection the endpoint refused
    INVALID_JSON = "invalid_json"  # no JSON object could be extracted from the reply
    SCHEMA_MISMATCH = "schema_mismatch"  # JSON, but not the verdict schema (wrong type, length, enum)
    NO_ENDPOINT = "no_endpoint"  # every endpoint's circuit breaker is open


@dataclass(frozen=True)
class JudgeResult(Generic[V]):
    """The outcome of one judge call: a verdict, or a failure with its kind. Never both, never neither."""

    verdict: V | None = None
    failure: FailureKind | None = None
    error: str | None = None  # human-readable detail of the last failed attempt
    raw: str | None = None  # the last raw reply text, truncated, for debugging and logs
    attempts: int = 1
    latency_s: float = 0.0
    endpoint: str | None = None  # base URL that produced the final attempt, "lexical", or "cache" (a cached verdict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False

    def __post_init__(self) -> None:
        if (self.verdict is None) == (self.failure is None):
            raise ValueError("JudgeResult needs exactly one of verdict and failure")

    @property
    def ok(self) -> bool:
        return self.failure is None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class TurnVerdict(_Strict):
    """Verdict on a non-final assistant turn, graded against the checklist (the paper's r_t; prompt set v1).

    ``hits[i]`` is true when the turn targets checklist item i (AskMind: explicitly asks about it;
    AskOverconfidence: explicitly corrects or questions that misleading claim). ``answered_final`` is true when
    the turn commits to a final answer while information is missing (or doubles down on a false premise).
    The checklist length is checked by ``JudgeRequest``-aware validation (``check_hits_length``).
    v1 cannot say "a final answer, and nothing was missing": ``is_final_answer`` and ``facts_missing`` both read
    ``answered_final``, so a timely answer graded with v1 stays an asking turn (``TurnVerdictV2`` fixes this).
    """

    answered_final: StrictBool
    hits: list[StrictBool]
    irrelevant_or_redundant: StrictBool = False
    notes: list[StrictStr] = []

    @property
    def is_final_answer(self) -> bool:
        return self.answered_final

    @property
    def facts_missing(self) -> bool:
        return self.answered_final

    @property
    def irrelevant_count(self) -> int:
        """v1/v2 cannot report irrelevant questions: none are counted."""
        return 0


class TurnVerdictV2(_Strict):
    """Verdict on a non-final assistant turn (prompt set v2): reasoning first, then "is it a final answer" and
    "were facts still missing" reported separately, then the checklist hits.

    Field order is the order a schema-constrained judge writes them in, so it reasons before it decides.
    ``is_final_answer``: the message commits to an answer (strict prompts: any solving attempt, even alongside a
    question). ``facts_missing``: when it was written, some checklist item was neither in the conversation nor
    resolved (AskOverconfidence: some misleading claim was still uncorrected). ``answered_final`` (the v1 name)
    is the premature case: a final answer while facts were missing.
    """

    reasoning: StrictStr
    is_final_answer: StrictBool
    facts_missing: StrictBool
    hits: list[StrictBool]
    notes: list[StrictStr] = []

    @property
    def answered_final(self) -> bool:
        return self.is_final_answer and self.facts_missing

    @property
    def irrelevant_count(self) -> int:
        """v1/v2 cannot report irrelevant questions: none are counted."""
        return 0


class TurnVerdictV3(TurnVerdictV2):
    """Verdict on a non-final assistant turn (prompt set v3): v2's fields plus ``irrelevant_questions``, the number
    of questions in the message that target no checklist item and are not needed to answer (``reward.turn_credit``
    charges them, so padding a good question with irrelevant ones is worth less than the good question alone)."""

    irrelevant_questions: StrictInt = Field(0, ge=0)
    """Absent counts as 0 (a judge that omits it charges nothing); guided decoding requires it
    (``askrl.judge.llm.turn_json_schema``)."""

    @property
    def irrelevant_count(self) -> int:
        return self.irrelevant_questions


class FinalVerdict(_Strict):
    """Verdict on the final assistant turn (the paper's r_T; prompt set v1)."""

    decision: Literal["still_asking", "wrong", "correct"]


class FinalVerdictV2(_Strict):
    """Verdict on the final assistant turn (prompt set v2): a short reasoning first, then the decision."""

    reasoning: StrictStr
    decision: Literal["still_asking", "wrong", "correct"]


#: Any version of a verdict; code below the judge reads only the shared names (``hits``, ``is_final_answer``,
#: ``facts_missing``, ``answered_final``, ``irrelevant_count``, ``decision``).
AnyTurnVerdict = TurnVerdict | TurnVerdictV2 | TurnVerdictV3
AnyFinalVerdict = FinalVerdict | FinalVerdictV2


class UserReply(_Strict):
    """The simulated user's reply to the assistant's latest message (prompt sets v1, v2: no report)."""

    reply: StrictStr

    @model_validator(mode="after")
    def _non_empty(self) -> UserReply:
        if not self.reply.strip():
            raise ValueError("reply is empty")
        return self

    @property
    def supplied_indices(self) -> tuple[int, ...] | None:
        """Checklist items this reply supplied; None: this reply model carries no report."""
        return None


class UserReplyV3(UserReply):
    """The simulated user's reply with its report (prompt set v3): ``supplied[i]`` is true when this reply
    actually gave checklist item i (AskMind: the detail was asked for and the reply states it; AskOverconfidence:
    the assistant's message corrected misleading claim i and the reply accepts the correction). The report is what
    resolves an item (``reward.episode``): asking is not enough, the user has to answer."""

    supplied: list[StrictBool] | None = None
    """None: the reply came without its report (then it resolves what the turn asked for, as v2 does); guided
    decoding requires it (``askrl.judge.llm.reply_json_schema``)."""

    @property
    def supplied_indices(self) -> tuple[int, ...] | None:
        if self.supplied is None:
            return None
        return tuple(i for i, flag in enumerate(self.supplied) if flag)


def check_supplied_length(reply: UserReply, checklist_len: int) -> None:
    """Raise ``ValueError`` when a v3 report does not have one entry per checklist item (a schema mismatch)."""
    if isinstance(reply, UserReplyV3) and reply.supplied is not None and len(reply.supplied) != checklist_len:
        raise ValueError(f"supplied has {len(reply.supplied)} entries, the checklist has {checklist_len}")


def check_hits_length(verdict: AnyTurnVerdict, checklist_len: int) -> None:
    """Raise ``ValueError`` when ``hits`` does not have one entry per checklist item (a schema mismatch)."""
    if len(verdict.hits) != checklist_len:
        raise ValueError(f"hits has {len(verdict.hits)} entries, the checklist has {checklist_len}")


TaskKind = Literal["askmind", "overconfidence"]


@dataclass(frozen=True)
class Turn:
    """One message of a conversation, as the judge sees it."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class JudgeRequest:
    """Everything a judge needs about one assistant turn of one episode.

    ``history`` is the conversation *before* ``response``: it starts with the user's (degraded or overconfident)
    question and alternates. ``resolved`` lists the indices of checklist items earlier turns already resolved
    (multi-turn aware grading; asking about them again is redundant).
    """

    task: TaskKind
    ori_question: str
    hidden_info: str  # degraded_info (AskMind) or overconfidence_info (AskOverconfidence)
    checklist: tuple[str, ...]  # required_points or misleading_points
    expected_answer: str
    history: tuple[Turn, ...]
    response: str
    resolved: tuple[int, ...] = ()
    is_final_turn: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    strict: bool = False
    """AskBench's strict protocol (spec §2.9): any solving attempt is a final answer, a hedged answer is wrong
    (the v2 ``*_strict`` prompts; v1 has none and grades as usual)."""

    @property
    def question(self) -> str:
        """The latest user message the assistant is replying to."""
        users = [t.content for t in self.history if t.role == "user"]
        return users[-1] if users else ""


class Judge(Protocol):
    """A judge backend. All methods are coroutines and safe to call concurrently."""

    name: str

    async def grade_turn(self, request: JudgeRequest) -> JudgeResult[AnyTurnVerdict]:
        """Grade a non-final turn against the checklist."""
        ...

    async def grade_final(self, request: JudgeRequest) -> JudgeResult[AnyFinalVerdict]:
        """Grade a final turn against the expected answer."""
        ...

    async def simulate_user(self, request: JudgeRequest) -> JudgeResult[UserReply]:
        """Play the user who holds the hidden information, replying to ``request.response``."""
        ...

    def metrics(self) -> dict[str, float]:
        """Flat ``judge/...`` metrics (calls, retries, failures by kind, latency, tokens) since the last reset."""
        ...
