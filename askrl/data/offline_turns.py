"""Offline (per-turn) training samples, as the original AskBench recipe trained: one sample per assistant turn.

A record that carries a ``conversation_history`` (the pipeline's dialogues: user/assistant alternating, ending
with a correct answer) gives one sample per assistant turn k: the prompt is every message up to and including
the k-th user message, and the policy writes one assistant message that the judge grades with the per-turn
rubric. A record without a history gives one first-turn sample (the degraded / overconfident question alone).

``extra_info`` uses the original's field names (askbench_spec.md §4.1) so the reward function and third-party
tools read them unchanged: ``is_final_turn``, ``ori_question``, ``question``, ``context``, ``expected_answer``,
plus ``degraded_info`` + ``required_points`` (AskMind) or ``overconfidence_info`` + ``misleading_points``.

Each row names ``agent_name: askrl_offline_turn``: VERL runs ``askrl.rollout.offline_turn_loop.OfflineTurnAgentLoop``
for it, which generates the turn, grades it and keeps a judge failure out of the gradient (``reward.masking``).
"""

from __future__ import annotations

from typing import Any

from askrl.data.records import AskMindRecord, AskRecord
from askrl.data.verl_rows import task_of
from askrl.errors import DataError
from askrl.rollout import OFFLINE_AGENT_NAME

OFFLINE_DATA_SOURCES = {"askmind": "ask_mind_qa", "overconfidence": "overconfidence_qa"}
NO_CONTEXT = "No previous conversation."


def _history(record: AskRecord, first_question: str) -> list[dict[str, str]]:
    raw = (record.model_extra or {}).get("conversation_history")
    if raw is None:
        return [{"role": "user", "content": first_question}]
    if not isinstance(raw, list) or not all(
        isinstance(m, dict) and m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str) for m in raw
    ):
        raise DataError(f"record {record.id}: field 'conversation_history': expected a list of {{role, content}} messages")
    return [{"role": m["role"], "content": m["content"]} for m in raw]


def record_to_turn_rows(record: AskRecord, start_index: int = 0) -> list[dict[str, Any]]:
    """One VERL row per assistant turn of ``record`` (see the module docstring for the layout)."""
    task = task_of(record)
    if isinstance(record, AskMindRecord):
        question = record.degraded_question
        hidden = {"degraded_info": record.degraded_info, "required_points": list(record.required_points)}
    else:
        question = record.overconfidence_question
        hidden = {"overconfidence_info": record.overconfidence_info, "misleading_points": list(record.misleading_points)}
    history = _history(record, question)
    user_positions = [i for i, m in enumerate(history) if m["role"] == "user"]
    assistant_count = sum(1 for m in history if m["role"] == "assistant")
    # A history without assistant turns still yields its first turn; one with k answers yields k samples.
    turns = user_positions[: max(assistant_count, 1)]
    rows = []
    for k, pos in enumerate(turns):
        prompt = history[: pos + 1]
        context = "\n".join(f"{m['role']}: {m['content']}" for m in prompt[:-1]) or NO_CONTEXT
        rows.append(
            {
                "data_source": OFFLINE_DATA_SOURCES[task],
                "prompt": prompt,
                "agent_name": OFFLINE_AGENT_NAME,
                "ability": "clarification",
                "reward_model": {"style": "rubric", "ground_truth": record.expected_answer},
                "extra_info": {
                    "index": start_index + len(rows),
                    "id": f"{record.id}:{k}",
                    "is_final_turn": assistant_count > 0 and k == len(turns) - 1,
                    "ori_question": record.ori_question,
                    "question": prompt[-1]["content"],
                    "context": context,
                    "expected_answer": record.expected_answer,
                    **hidden,
                },
            }
        )
    return rows
