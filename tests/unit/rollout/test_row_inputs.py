"""Reading a clarify episode's inputs from a VERL row built by ``records_to_rows`` (and refusing malformed ones).

Nothing is faked: rows come from the data layer's own converter; numpy values mimic a parquet round trip.
"""

from __future__ import annotations

import numpy as np
import pytest

from askrl.data.records import AskMindRecord
from askrl.data.verl_rows import records_to_rows
from askrl.errors import RolloutError
from askrl.rollout.row_inputs import episode_inputs

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
