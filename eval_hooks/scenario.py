"""One AskBench item as the multi-turn loop sees it: what the assistant is shown, what the judge knows.

Spec §2.1 normalises each record into a scenario type; askrl does it once, from the typed records of
``askrl.data``, into a frozen ``Scenario``:

- ``missing_info`` (AskMind): the degraded question, ``degraded_info`` as context, ``required_points``;
- ``overconfidence`` (AskOverconfidence): the overconfident question, ``overconfidence_info``, ``misleading_points``;
- ``default`` (QuestBench): ``ori_question`` (already underspecified), ``degraded_info``, ``required_points``;
- ``in3`` (IN3): the task, its missing details, the user's per-detail answers, and whether it is vague;
- ``clear`` (the calibration suite): the original, complete ``ori_question`` with an empty checklist.

    scn = from_askmind(record, source="ask_mind_math500de")
    scn.question, scn.checklist
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from askrl.data.records import AskMindRecord, In3Record, OverconfidenceRecord, QuestBenchRecord

ScenarioType = Literal["missing_info", "overconfidence", "default", "in3", "clear"]

_HEADERS: dict[ScenarioType, str] = {
    "missing_info": "Required clarification points (must be obtained before answering)",
    "overconfidence": "Misleading claims that must be addressed before answering",
    "default": "Scenario checkpoints (resolve them before answering)",
    "in3": "Missing details of the task (ask about them before carrying it out)",
    "clear": "Scenario checkpoints (resolve them before answering)",
}
CLEAR_CONTEXT = "None: the question is complete as asked; there is nothing to add."


@dataclass(frozen=True)
class Scenario:
    """Everything the loop, the arbiter and the simulated user need about one item."""

    type: ScenarioType
    question: str  # the first user message shown to the assistant
    ori_question: str
    context: str  # hidden information (judge and simulated user only)
    checklist: tuple[str, ...]
    expected_answer: str | None  # None: no gold answer (IN3)
    source: str | None = None  # the item's source subset (per-source breakdown)
    vague: bool | None = None  # IN3 only
    point_answers: dict[str, str] = field(default_factory=dict)  # IN3: checklist item -> the user's answer

    @property
    def checklist_header(self) -> str:
        return _HEADERS[self.type]


def from_askmind(record: AskMindRecord, source: str | None = None) -> Scenario:
    return Scenario(
        type="missing_info",
        question=record.degraded_question,
        ori_question=record.ori_question,
        context=record.degraded_info,
        checklist=tuple(record.required_points),
        expected_answer=record.expected_answer,
        source=record.source_task or source,
    )


def from_overconfidence(record: OverconfidenceRecord, source: str | None = None) -> Scenario:
    return Scenario(
        type="overconfidence",
        question=record.overconfidence_question,
        ori_question=record.ori_question,
        context=record.overconfidence_info,
        checklist=tuple(record.misleading_points),
        expected_answer=record.expected_answer,
        source=record.source_task or source,
    )


def from_questbench(record: QuestBenchRecord, source: str | None = None) -> Scenario:
    return Scenario(
        type="default",
        question=record.degraded_question or record.ori_question,
        ori_question=record.ori_question,
        context=record.degraded_info,
        checklist=tuple(record.required_points),
        expected_answer=record.expected_answer,
        source=source,
    )


def from_in3(record: In3Record, source: str | None = None) -> Scenario:
    return Scenario(
        type="in3",
        question=record.degraded_question,
        ori_question=record.ori_question,
        context=record.degraded_info,
        checklist=tuple(record.required_points),
        expected_answer=None,
        source=record.category or source,
        vague=record.vague,
        point_answers=dict(record.required_point_answers),
    )


def clear(record: AskMindRecord | OverconfidenceRecord, source: str | None = None) -> Scenario:
    """The original, complete question of an AskMind/AskOverconfidence item: nothing to ask, nothing to correct."""
    return Scenario(
        type="clear",
        question=record.ori_question,
        ori_question=record.ori_question,
        context=CLEAR_CONTEXT,
        checklist=(),
        expected_answer=record.expected_answer,
        source=record.source_task or source,
    )
