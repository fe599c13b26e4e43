"""An episode's judge cost (grading and simulated user) in ``reward_extra_info`` and the step metrics.

Real: VERL's agent-loop machinery around ``ClarifyAgentLoop`` and ``OfflineTurnAgentLoop``, the LLM judge over HTTP
to the scripted server (which reports word counts as token usage), ``askrl.trainer.tracking.step_metrics``.
Faked: the policy (``ScriptedPolicy`` plays fixed turns).
"""

from __future__ import annotations

import pytest

from askrl.rollout import OFFLINE_AGENT_NAME
from askrl.rollout.judge_cost import COST_KEYS
from askrl.trainer.tracking import step_metrics

pytestmark = pytest.mark.usefixtures("judges_closed")


def prompt_words(requests: list[dict]) -> float:
    """Prompt words of the logged requests (what the scripted server reports as ``prompt_tokens``)."""
    return float(sum(len(str(m.get("content", "")).split()) for r in requests for m in r["messages"]))


async def test_an_episode_carries_every_judge_call_it_made(kit, tokenizer, judge_server) -> None:
    judge_server.reset()
    server = kit.ScriptedPolicy(tokenizer, [kit.GOOD_ASK, kit.ANSWER])
    askrl = {"judge": kit.llm_judge_block(judge_server.base_url)}
    loop = kit.build_loop(kit.trainer_config(askrl=askrl), server, tokenizer)
    out = await loop.run(dict(kit.SAMPLING), **kit.row_kwargs(kit.MIND))
    info = out.extra_fields["reward_extra_info"]
    requests = judge_server.requests()
    assert info["judge_cost/calls"] == len(requests) == 3  # grade + user reply (together), final grade
    assert info["judge_cost/user_calls"] == 1.0 and info["judge_calls"] == 2.0  # the reward counts grading only
    assert info["judge_cost/prompt_tokens"] == prompt_words(requests) > 0
    assert info["judge_cost/completion_tokens"] > 0 and info["judge_cost/user_latency_s"] > 0

    m = step_metrics([out.extra_fields, out.extra_fields])
    assert m["judge/calls_per_episode"] == 3.0 and m["judge/user_calls"] == 2.0 and m["judge/grading_calls"] == 4.0
    assert m["judge/prompt_tokens_per_episode"] == info["judge_cost/prompt_tokens"]
    assert m["judge/completion_tokens_per_episode"] == info["judge_cost/completion_tokens"]
    assert m["judge/user_latency_s/episode_mean"] == pytest.approx(info["judge_cost/user_latency_s"])
    assert "judge/latency_s/episode_mean" in m  # grading's latency, next to the user's
    assert info["judge_cost/replied"] == 3.0 and info["judge_cost/unparsed"] == 0.0
    assert m["judge/parse_ok_frac"] == 1.0


async def test_both_loops_carry_the_same_cost_keys(kit, tokenizer, judge_server) -> None:
    judge_server.reset()
    server = kit.ScriptedPolicy(tokenizer, [kit.GOOD_ASK])
    config = kit.trainer_config(askrl={"judge": kit.llm_judge_block(judge_server.base_url)})
    loop = kit.build_loop(config, server, tokenizer, name=OFFLINE_AGENT_NAME)
    out = await loop.run(dict(kit.SAMPLING), **kit.turn_row_kwargs(kit.MIND))
    info = out.extra_fields["reward_extra_info"]
    assert set(COST_KEYS) <= set(info)
    assert info["judge_cost/calls"] == len(judge_server.requests()) == 1 and info["judge_cost/user_calls"] == 0.0


async def test_a_judge_answering_garbage_shows_in_parse_success(kit, tokenizer, judge_server) -> None:
    judge_server.reset()
    judge_server.configure(malformed_rate=1.0)  # every reply is 200 with text that is no JSON verdict
    try:
        server = kit.ScriptedPolicy(tokenizer, [kit.GOOD_ASK, kit.ANSWER])
        askrl = {"judge": kit.llm_judge_block(judge_server.base_url)}
        loop = kit.build_loop(kit.trainer_config(askrl=askrl), server, tokenizer)
        out = await loop.run(dict(kit.SAMPLING), **kit.row_kwargs(kit.MIND))
    finally:
        judge_server.reset()
    info = out.extra_fields["reward_extra_info"]
    assert info["masked"] == 1.0 and info["judge_cost/unparsed"] == info["judge_cost/replied"] >= 1.0
    assert step_metrics([out.extra_fields])["judge/parse_ok_frac"] == 0.0


async def test_the_lexical_judge_costs_calls_but_no_tokens(kit, tokenizer) -> None:
    server = kit.ScriptedPolicy(tokenizer, [kit.GOOD_ASK, kit.ANSWER])
    loop = kit.build_loop(kit.trainer_config(), server, tokenizer)
    out = await loop.run(dict(kit.SAMPLING), **kit.row_kwargs(kit.MIND))
    info = out.extra_fields["reward_extra_info"]
    assert info["judge_cost/calls"] == 3.0 and info["judge_cost/prompt_tokens"] == 0.0
