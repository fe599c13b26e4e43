"""What a clarify episode starts from, read from one VERL dataset row: the reward's episode spec and the messages.

Who calls it: ``ClarifyAgentLoop.run`` with the row VERL passes as ``**kwargs`` (``RLHFDataset`` fields of a row
built by ``askrl.data.verl_rows.records_to_rows``: ``raw_prompt`` and ``extra_info`` with ``task``,
``ori_question``, ``expected_answer``, ``hidden_info``, ``checklist``, ``id``). Values may arrive as numpy arrays
after a parquet round trip; they are read as sequences.

How it fails: ``RolloutError`` naming the missing or mistyped field and how to build valid rows.

    spec, messages = episode_inputs(kwargs, strict=False)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from askrl.errors import RolloutError
from askrl.judge.types import TaskKind
from askrl.rollout import AGENT_NAME
from reward.episode import EpisodeSpec

_TASKS: tuple[TaskKind, ...] = ("askmind", "overconfidence")


def _field(extra_info: Mapping[str, Any], name: str) -> Any:
    if name not in extra_info or extra_info[name] is None:
        raise RolloutError(
            f"extra_info.{name} is missing from an {AGENT_NAME} row; build rows with "
            f"askrl.data.verl_rows.records_to_rows"
        )
    return extra_info[name]


def episode_inputs(row: Mapping[str, Any], *, strict: bool) -> tuple[EpisodeSpec, list[dict[str, Any]]]:
    """The reward's episode spec and the policy's opening messages, from one dataset row.

    Raises:
        RolloutError: a field is missing or has the wrong type (the message names it).
    """
    raw_prompt = row.get("raw_prompt")
    if raw_prompt is None or len(raw_prompt) == 0:
        raise RolloutError(f"an {AGENT_NAME} row has no raw_prompt messages")
    messages = [dict(m) for m in raw_prompt]
    if messages[-1].get("role") != "user":
        raise RolloutError(f"raw_prompt must end with the user's question, got role {messages[-1].get('role')!r}")
    extra_info = row.get("extra_info") or {}
    task = _field(extra_info, "task")
    if task not in _TASKS:
        raise RolloutError(f"extra_info.task={task!r} is not one of {_TASKS}")
    checklist = _field(extra_info, "checklist")
    if isinstance(checklist, str) or not all(isinstance(item, str) for item in checklist):
        raise RolloutError(f"extra_info.checklist must be a list of strings, got {checklist!r}")
    metadata = {"id": str(extra_info.get("id", "")), "strict": str(strict).lower()}
    spec = EpisodeSpec(
        task=task,
        ori_question=str(_field(extra_info, "ori_question")),
        hidden_info=str(_field(extra_info, "hidden_info")),
        checklist=tuple(checklist),
        expected_answer=str(_field(extra_info, "expected_answer")),
        question=str(messages[-1]["content"]),
        metadata=metadata,
    )
    return spec, messages
