"""What an agent loop starts from, read from one VERL dataset row: the reward's episode spec and the messages.

Who calls it, with the row VERL passes as ``**kwargs`` (``RLHFDataset`` fields; values may arrive as numpy arrays
after a parquet round trip and are read as sequences):
- ``ClarifyAgentLoop.run`` -> ``episode_inputs``: a row of ``askrl.data.verl_rows.records_to_rows``
  (``raw_prompt`` and ``extra_info`` with ``task``, ``ori_question``, ``expected_answer``, ``hidden_info``,
  ``checklist``, ``id``).
- ``OfflineTurnAgentLoop.run`` -> ``turn_sample_inputs``: a row of ``askrl.data.offline_turns.record_to_turn_rows``
  (``raw_prompt`` = the dialogue up to the current user message; ``extra_info`` in the original's turn-sample layout,
  validated by ``reward.samples.parse_turn_sample``; the task from ``data_source``). The judge's history is
  ``raw_prompt``'s user/assistant messages (a system message is the policy's only), so it sees what the policy saw.

How it fails: ``RolloutError`` naming the missing or mistyped field and how to build valid rows.

    spec, messages = episode_inputs(kwargs, strict=False)
    sample = turn_sample_inputs(kwargs)
    state = EpisodeState(sample.spec, cfg, history=sample.history, resolved=sample.resolved)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from askrl.errors import DataError, RolloutError
from askrl.judge.types import TaskKind, Turn
from askrl.rollout import AGENT_NAME, OFFLINE_AGENT_NAME
from reward.episode import EpisodeSpec
from reward.samples import parse_turn_sample, task_for

_TASKS: tuple[TaskKind, ...] = ("askmind", "overconfidence")


def _field(extra_info: Mapping[str, Any], name: str) -> Any:
    if name not in extra_info or extra_info[name] is None:
        raise RolloutError(
            f"extra_info.{name} is missing from an {AGENT_NAME} row; build rows with "
            f"askrl.data.verl_rows.records_to_rows"
        )
    return extra_info[name]


def _messages(row: Mapping[str, Any], agent: str) -> list[dict[str, Any]]:
    raw_prompt = row.get("raw_prompt")
    if raw_prompt is None or len(raw_prompt) == 0:
        raise RolloutError(f"an {agent} row has no raw_prompt messages")
    messages = [dict(m) for m in raw_prompt]
    if messages[-1].get("role") != "user":
        raise RolloutError(f"raw_prompt must end with the user's message, got role {messages[-1].get('role')!r}")
    return messages


def episode_inputs(row: Mapping[str, Any], *, strict: bool) -> tuple[EpisodeSpec, list[dict[str, Any]]]:
    """The reward's episode spec and the policy's opening messages, from one dataset row.

    Raises:
        RolloutError: a field is missing or has the wrong type (the message names it).
    """
    messages = _messages(row, AGENT_NAME)
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


@dataclass(frozen=True)
class TurnSampleInputs:
    """One offline turn sample: what the judge grades against and what the policy sees."""

    spec: EpisodeSpec
    """The dialogue's hidden facts; ``question`` is its first user message."""
    history: tuple[Turn, ...]
    """The conversation so far, ending with the user message the policy answers (``EpisodeState(history=...)``)."""
    resolved: tuple[int, ...]
    """Checklist items earlier turns resolved (``extra_info.resolved``; usually empty)."""
    is_final_turn: bool
    messages: list[dict[str, Any]]
    """``raw_prompt`` as given: the policy's prompt."""


def turn_sample_inputs(row: Mapping[str, Any]) -> TurnSampleInputs:
    """The judge's view and the policy's prompt of one offline turn-sample row.

    Raises:
        RolloutError: ``raw_prompt`` is empty or does not end with a user message, or a turn-sample field is missing
            or mistyped (the message names it).
    """
    messages = _messages(row, OFFLINE_AGENT_NAME)
    conversation = [m for m in messages if m.get("role") in ("user", "assistant")]
    extra_info = row.get("extra_info") or {}
    fields = {
        **extra_info,
        "history": [{"role": m["role"], "content": m.get("content")} for m in conversation[:-1]],
        "question": conversation[-1].get("content"),
    }
    ground_truth = (row.get("reward_model") or {}).get("ground_truth")
    try:
        task = task_for(str(row.get("data_source", "")), fields)
        request = parse_turn_sample(fields, task=task, response="", ground_truth=ground_truth).request
    except DataError as err:
        raise RolloutError(
            f"an {OFFLINE_AGENT_NAME} row: {err}; build rows with askrl.data.offline_turns.record_to_turn_rows"
        ) from err
    spec = EpisodeSpec(
        task=request.task,
        ori_question=request.ori_question,
        hidden_info=request.hidden_info,
        checklist=request.checklist,
        expected_answer=request.expected_answer,
        question=request.history[0].content,
        metadata={"id": str(extra_info.get("id", ""))},
    )
    return TurnSampleInputs(
        spec=spec,
        history=request.history,
        resolved=request.resolved,
        is_final_turn=request.is_final_turn,
        messages=messages,
    )
