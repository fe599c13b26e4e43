"""Turn AskBench records into VERL RL rows (the parquet schema VERL's ``RLHFDataset`` reads).

A row carries what the policy sees and, hidden in ``extra_info``, what only the judge and the simulated user may
see. Keys are the same for both tasks so one parquet schema fits a mixed dataset:

- ``prompt``: the chat the policy starts from, ``[{"role": "user", "content": <degraded/overconfident question>}]``
- ``data_source``: ``askrl/askmind`` or ``askrl/overconfidence`` (per-source validation metrics in VERL)
- ``agent_name``: which agent loop VERL runs for the row (the multi-turn clarify loop by default)
- ``reward_model``: ``{"style": "rubric", "ground_truth": expected_answer}``
- ``extra_info``: ``index``, ``id``, ``task``, ``ori_question``, ``expected_answer``, ``hidden_info``
  (degraded_info / overconfidence_info), ``checklist`` (required_points / misleading_points), ``source_task``.

    rows = records_to_rows(load_records(path).records, agent_name="askrl_clarify")
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from askrl.data.records import AskMindRecord, AskRecord, OverconfidenceRecord
from askrl.errors import DataError

DEFAULT_AGENT = "askrl_clarify"
DATA_SOURCES = {"askmind": "askrl/askmind", "overconfidence": "askrl/overconfidence"}


def task_of(record: AskRecord) -> str:
    if isinstance(record, AskMindRecord):
        return "askmind"
    if isinstance(record, OverconfidenceRecord):
        return "overconfidence"
    raise DataError(f"only AskMind and AskOverconfidence records become RL rows, got {type(record).__name__}")


def record_to_row(record: AskRecord, index: int, *, agent_name: str = DEFAULT_AGENT) -> dict[str, Any]:
    """One VERL row for one record (``index`` is its position, kept for VERL's per-sample bookkeeping)."""
    task = task_of(record)
    if isinstance(record, AskMindRecord):
        question, hidden, checklist = record.degraded_question, record.degraded_info, record.required_points
    else:
        question, hidden, checklist = (
            record.overconfidence_question,
            record.overconfidence_info,
            record.misleading_points,
        )
    return {
        "data_source": DATA_SOURCES[task],
        "prompt": [{"role": "user", "content": question}],
        "agent_name": agent_name,
        "ability": "clarification",
        "reward_model": {"style": "rubric", "ground_truth": record.expected_answer},
        "extra_info": {
            "index": index,
            "id": record.id,
            "task": task,
            "ori_question": record.ori_question,
            "expected_answer": record.expected_answer,
            "hidden_info": hidden,
            "checklist": list(checklist),
            "source_task": record.source_task or "",
        },
    }


def records_to_rows(records: Iterable[AskRecord], *, agent_name: str = DEFAULT_AGENT) -> list[dict[str, Any]]:
    return [record_to_row(r, i, agent_name=agent_name) for i, r in enumerate(records)]
