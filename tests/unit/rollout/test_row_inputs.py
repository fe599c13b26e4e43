"""Reading an agent loop's inputs from a VERL row built by ``records_to_rows`` (clarify) or ``record_to_turn_rows``
(offline turn samples), and refusing malformed ones.

Nothing is faked: rows come from the data layer's own converter; numpy values mimic a parquet round trip.
"""

from __future__ import annotations

import numpy as np
import pytest

from askrl.data.offline_turns import record_to_turn_rows
from askrl.data.records import AskMindRecord
from askrl.data.verl_rows import records_to_rows
from askrl.errors import RolloutError
from askrl.judge.types import Turn
from askrl.rollout.row_inputs import episode_inputs, turn_sample_inputs

RECORD = AskMindRecord(
    id="m1",
    ori_question="What is 2 + 3?",
    expected_answer="5",
    degraded_question="What is 2 + a number?",
    degraded_info="The second addend is 3.",
    required_points=["the second addend"],
)


def kwargs(**extra_info_overrides):
    [row] = records_to_rows([RECORD])
    extra_info = {**row["extra_info"], **extra_info_overrides}
    return {"raw_prompt": np.array(row["prompt"], dtype=object), "extra_info": extra_info}


def test_spec_and_messages_from_a_parquet_like_row():
    spec, messages = episode_inputs(kwargs(checklist=np.array(["the second addend"])), strict=True)
    assert messages == [{"role": "user", "content": "What is 2 + a number?"}]
    assert spec.task == "askmind" and spec.checklist == ("the second addend",) and spec.expected_answer == "5"
    assert spec.question == "What is 2 + a number?" and spec.hidden_info == "The second addend is 3."
    assert spec.metadata == {"id": "m1", "strict": "true"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hidden_info": None}, "extra_info.hidden_info is missing"),
        ({"task": "math500"}, "extra_info.task='math500'"),
        ({"checklist": "one string"}, "extra_info.checklist must be a list of strings"),
    ],
)
def test_malformed_rows_name_the_field(overrides, message):
    with pytest.raises(RolloutError, match=message):
        episode_inputs(kwargs(**overrides), strict=False)


def test_a_row_without_messages_is_refused():
    with pytest.raises(RolloutError, match="no raw_prompt"):
        episode_inputs({"raw_prompt": [], "extra_info": {}}, strict=False)


# -- offline turn-sample rows (askrl.data.offline_turns) ---------------------------------------------------------

DIALOGUE = [
    {"role": "user", "content": "What is 2 + a number?"},
    {"role": "assistant", "content": "What is the second addend?"},
    {"role": "user", "content": "It is 3."},
    {"role": "assistant", "content": "The answer is 5."},
]


def turn_kwargs(k: int, **extra_info_overrides):
    record = AskMindRecord.model_validate({**RECORD.model_dump(), "conversation_history": DIALOGUE})
    row = record_to_turn_rows(record)[k]
    return {
        "raw_prompt": np.array(row["prompt"], dtype=object),
        "data_source": row["data_source"],
        "reward_model": row["reward_model"],
        "extra_info": {**row["extra_info"], **extra_info_overrides},
    }


def test_turn_sample_from_an_offline_row():
    sample = turn_sample_inputs(turn_kwargs(1, required_points=np.array(["the second addend"])))
    assert sample.is_final_turn is True
    assert sample.messages == DIALOGUE[:3]
    assert sample.history == (
        Turn("user", "What is 2 + a number?"),
        Turn("assistant", "What is the second addend?"),
        Turn("user", "It is 3."),
    )
    spec = sample.spec
    assert spec.task == "askmind" and spec.checklist == ("the second addend",) and spec.expected_answer == "5"
    assert spec.question == "What is 2 + a number?" and spec.hidden_info == "The second addend is 3."
    assert spec.metadata == {"id": "m1:1"} and sample.resolved == ()
    first = turn_sample_inputs(turn_kwargs(0))
    assert first.is_final_turn is False and first.history == (Turn("user", "What is 2 + a number?"),)


def test_a_system_message_is_the_policys_only():
    row = turn_kwargs(1)
    row["raw_prompt"] = [{"role": "system", "content": "Be brief."}, *row["raw_prompt"]]
    sample = turn_sample_inputs(row)
    assert sample.messages[0]["role"] == "system" and len(sample.history) == 3
    assert all(t.content != "Be brief." for t in sample.history)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"degraded_info": None}, "field 'degraded_info': missing"),
        ({"is_final_turn": "maybe"}, "field 'is_final_turn'"),
        ({"expected_answer": ""}, "field 'expected_answer'"),
        ({"resolved": [7]}, "field 'resolved'"),
    ],
)
def test_malformed_offline_rows_name_the_field(overrides, message):
    row = turn_kwargs(1, **overrides)
    if "expected_answer" in overrides:
        row["reward_model"] = {}
    with pytest.raises(RolloutError, match=f"askrl_offline_turn row: {message}"):
        turn_sample_inputs(row)


def test_an_offline_row_must_end_with_the_users_message():
    row = turn_kwargs(1)
    row["raw_prompt"] = DIALOGUE
    with pytest.raises(RolloutError, match="must end with the user's message"):
        turn_sample_inputs(row)
