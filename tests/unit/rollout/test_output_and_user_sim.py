"""TurnRewardOutput (per-turn ``rm_scores``, masking, validation) and the simulated user's reply cap and adapter.

Real: VERL's ``AgentLoopOutput`` (through ``askrl._verl``), the tiny model's tokenizer, the lexical judge.
"""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from askrl import _verl
from askrl.errors import RolloutError
from askrl.judge.config import LexicalConfig
from askrl.judge.lexical import NOTHING_TO_ADD, LexicalJudge
from askrl.judge.types import JudgeRequest, Turn
from askrl.rollout.output import TurnRewardOutput
from askrl.rollout.user_sim import JudgeUserSimulator, cap_reply

MASK = [1, 1, 1, 0, 0, 1, 1, 0, 0, 1]


def output(**overrides) -> TurnRewardOutput:
    fields = dict(
        prompt_ids=[7, 8],
        response_ids=list(range(100, 100 + len(MASK))),
        response_mask=MASK,
        turn_end_positions=[2, 6, 9],
        turn_rewards=[0.8, -0.8, 1.0],
        reward_score=1.0,
        metrics=_verl.AgentLoopMetrics(),
        extra_fields={"reward_extra_info": {"masked": 0.0, "judge_failed": 0.0}},
    )
    fields.update(overrides)
    return TurnRewardOutput(**fields)


def test_as_dict_puts_each_turn_reward_on_its_last_policy_token():
    d = output().as_dict()
    assert d["rm_scores"].tolist() == pytest.approx([0, 0, 0.8, 0, 0, 0, -0.8, 0, 0, 1.0])
    assert d["response_mask"].tolist() == MASK
    assert "turn_end_positions" not in d and "turn_rewards" not in d and "reward_score" not in d
    assert d["responses"].tolist() == list(range(100, 110)) and d["prompts"].tolist() == [7, 8]


def test_a_masked_trajectory_leaves_loss_and_baseline():
    masked = output(reward_score=0.0, extra_fields={"reward_extra_info": {"masked": 1.0, "judge_failed": 1.0}})
    d = masked.as_dict()
    assert masked.masked
    assert d["response_mask"].sum() == 0 and d["rm_scores"].abs().sum() == 0
    assert masked.response_mask == MASK  # the loop's record is untouched


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"turn_end_positions": [2, 7, 9]}, "not a policy token"),
        ({"turn_end_positions": [6, 2, 9]}, "must be after"),
        ({"turn_rewards": [1.0]}, "3 turn end positions|1 turn rewards"),
        ({"response_mask": MASK[:-1]}, "response_mask has 9 entries"),
    ],
)
def test_inconsistent_turns_are_refused_at_construction(overrides, message):
    with pytest.raises(RolloutError, match=message):
        output(**overrides)


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    return AutoTokenizer.from_pretrained(tiny_model)


def test_cap_reply_counts_policy_tokens(tokenizer):
    text = "Tom has 3 boxes and each box holds 4 apples."
    assert cap_reply(text, tokenizer, 1000) == (text, False)
    capped, cut = cap_reply(text, tokenizer, 4)
    assert cut and len(tokenizer.encode(capped, add_special_tokens=False)) <= 4 and text.startswith(capped)


async def test_judge_user_simulator_answers_from_the_hidden_information():
    sim = JudgeUserSimulator(LexicalJudge(LexicalConfig()))
    request = JudgeRequest(
        task="askmind",
        ori_question="Tom has 3 boxes with 4 apples each. How many apples?",
        hidden_info="Tom has 3 boxes. Each box holds 4 apples.",
        checklist=("the number of boxes",),
        expected_answer="12",
        history=(Turn("user", "Tom has some boxes of apples. How many apples?"),),
        response="How many boxes does Tom have?",
    )
    reply = await sim.reply(request)
    assert reply.failure is None and reply.text == "Tom has 3 boxes."
    unrelated = await sim.reply(JudgeRequest(**{**request.__dict__, "response": "What is your name?"}))
    assert unrelated.text == NOTHING_TO_ADD
    assert sim.name == "judge:lexical"
