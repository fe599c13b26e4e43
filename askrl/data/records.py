"""Typed AskBench records, exactly as ../shared/docs/askbench_spec.md §1 describes the files.

Validation is strict on purpose: a string field holding a number, an empty checklist or a blank question is an
error at load time (named by file, line and field), not a surprise in the middle of a training run. Optional
fields the spec lists are typed; unknown extra fields are kept (``extra="allow"``) so nothing a user added is lost.

Kinds (``KIND_MODELS``): ``askmind``, ``overconfidence`` (the two AskBench dimensions), the QA benchmarks
``math500``, ``medqa``, ``gpqa``, ``bbh``, ``healthbench``, and the extra AskBench-style sets ``questbench``,
``questbench_logi`` and ``in3``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
)

NonEmptyStr = Annotated[StrictStr, StringConstraints(min_length=1, strip_whitespace=False), Field()]
Checklist = Annotated[list[NonEmptyStr], Field(min_length=1)]

Kind = Literal[
    "askmind", "overconfidence", "math500", "medqa", "gpqa", "bbh", "healthbench", "questbench", "questbench_logi", "in3"
]


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _not_blank(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be blank")
        return value


class AskMindRecord(_Record):
    """An under-specified question: the assistant sees ``degraded_question`` and must ask for ``required_points``."""

    id: NonEmptyStr
    ori_question: NonEmptyStr
    expected_answer: NonEmptyStr
    degraded_question: NonEmptyStr
    degraded_info: NonEmptyStr
    required_points: Checklist
    err_info: StrictStr | None = None
    solution: StrictStr | None = None
    category: StrictStr | None = None
    source_task: StrictStr | None = None


class OverconfidenceRecord(_Record):
    """A question with confidently asserted false premises that the assistant must correct before answering.

    The original evaluator accepts ``required_points`` as an alias of ``misleading_points``; so do we.
    """

    id: NonEmptyStr
    ori_question: NonEmptyStr
    expected_answer: NonEmptyStr
    overconfidence_question: NonEmptyStr
    overconfidence_info: NonEmptyStr
    misleading_points: Annotated[
        list[NonEmptyStr], Field(min_length=1, validation_alias=AliasChoices("misleading_points", "required_points"))
    ]
    solution: StrictStr | None = None
    source_task: StrictStr | None = None


class Math500Record(_Record):
    ori_question: NonEmptyStr
    expected_answer: NonEmptyStr
    solution: StrictStr | None = None


class MedQARecord(_Record):
    """``expected_answer`` is the sentence ``The answer is X.``; options A-D are inline in ``ori_question``."""

    ori_question: NonEmptyStr
    expected_answer: NonEmptyStr


class GPQARecord(_Record):
    """GPQA-diamond. The shipped file always stores the correct choice first (spec §7.1): shuffle before use."""

    question: NonEmptyStr
    choice1: NonEmptyStr
    choice2: NonEmptyStr
    choice3: NonEmptyStr
    choice4: NonEmptyStr
    correct_index: Annotated[StrictInt, Field(ge=0, le=3)]
    subdomain: StrictStr | None = None
    record_id: StrictStr | None = None


class BBHRecord(_Record):
    ori_question: NonEmptyStr
    expected_answer: NonEmptyStr
    category: NonEmptyStr


class HealthBenchMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    role: Literal["system", "user", "assistant"]
    content: StrictStr


class HealthBenchRubric(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    criterion: NonEmptyStr
    points: Annotated[float, Field(strict=False)]


class HealthBenchRecord(_Record):
    prompt: Annotated[list[HealthBenchMessage], Field(min_length=1)]
    rubrics: Annotated[list[HealthBenchRubric], Field(min_length=1)]
    canary: StrictStr | None = None


class QuestBenchRecord(_Record):
    """QuestBench-Math in AskBench form: ``ori_question`` already lacks one value, revealed by ``degraded_info``."""

    ori_question: NonEmptyStr
    expected_answer: NonEmptyStr
    degraded_info: NonEmptyStr
    required_points: Checklist
    degraded_question: StrictStr | None = None


class QuestBenchLogiRecord(_Record):
    """QuestBench's variable/equation form (``test_logi.jsonl``); shipped but unused by the original evaluator."""

    ori_question: NonEmptyStr
    expected_answer: NonEmptyStr
    degraded_question: NonEmptyStr
    degraded_info: NonEmptyStr
    err_info: StrictStr | None = None


class In3Record(_Record):
    """IN3 interaction tasks: vague ones have ``required_points``; clear ones have none (no gold answer at all)."""

    id: StrictInt | NonEmptyStr
    task: NonEmptyStr
    vague: StrictBool
    ori_question: NonEmptyStr
    degraded_question: NonEmptyStr
    degraded_info: NonEmptyStr
    required_points: list[NonEmptyStr]
    required_point_answers: dict[str, StrictStr] = {}
    category: StrictStr | None = None
    missing_details: list[dict[str, Any]] = []


KIND_MODELS: dict[str, type[_Record]] = {
    "askmind": AskMindRecord,
    "overconfidence": OverconfidenceRecord,
    "math500": Math500Record,
    "medqa": MedQARecord,
    "gpqa": GPQARecord,
    "bbh": BBHRecord,
    "healthbench": HealthBenchRecord,
    "questbench": QuestBenchRecord,
    "questbench_logi": QuestBenchLogiRecord,
    "in3": In3Record,
}

#: Kinds whose records carry their own ``id``; the others are identified by their line number.
KINDS_WITH_ID = frozenset({"askmind", "overconfidence", "in3"})

AskRecord = AskMindRecord | OverconfidenceRecord
