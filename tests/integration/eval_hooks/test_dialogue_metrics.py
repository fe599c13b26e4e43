"""AskBench metrics on scripted dialogues: the real loop (``run_dialogue``), a scripted server as candidate and
judge (exact replies queued per model name), and ``askbench_metrics`` checked against values worked out by hand.

Dialogues (checklist of two points, three turns; strict ones two):
  direct   - answers at once, correct, nothing resolved      -> final, correct, premature
  ask      - asks, user replies, answers correctly, resolved  -> asked, final, correct, covered
  premature- asks, then answers wrongly with a point missing  -> asked, final, wrong, premature
  redundant- asks (all resolved already), then answers right  -> asked, redundant, final, correct, covered
  never    - asks three times, never answers                  -> asked, not final, wrong (FailedToAnswerOnLastTurn)
  strict1  - strict: answers on turn 1, correct               -> final, wrong (StrictFinalAnswerOnFirstTurn)
  judgefail- the arbiter's endpoint answers 500 until retries run out -> judge_failed (not scored)
  candfail - the candidate answers 500 until retries run out  -> candidate_failed (not scored)
Valid = 6. acc = 3/6 (direct, ask, redundant); finals = direct, ask, premature, redundant, strict1 = 5;
covered finals = ask, redundant = 2 -> cov 0.4; unq = 1/6; ask_rate = 4/6 (ask, premature, redundant, never).
"""

from __future__ import annotations

import pytest

from askrl.judge.config import EndpointConfig, JudgeClientConfig, RetryConfig
from eval_hooks.candidate import Candidate, CandidateSettings
from eval_hooks.dialogue import FORCE_FINAL, Protocol, run_dialogue
from eval_hooks.judges import LLMEvalJudge
from eval_hooks.metrics import askbench_metrics
from eval_hooks.scenario import Scenario

POINTS = ("the number of apples", "the price of one apple")
DEFAULT = Protocol()
SCN = Scenario(type="missing_info", question="Tom buys some apples. How much does he pay?", ori_question="Tom buys 3 "
               "apples at $2. How much does he pay?", context="3 apples, $2 each", checklist=POINTS, expected_answer="6")  # fmt: skip


def verdict(final: bool, correct: bool | None, resolved: bool, missing: list[str]) -> dict:
    return {"model": "judge", "json": {"is_final_answer": final, "is_correct": correct,
                                       "all_required_points_resolved": resolved, "missing_required_points": missing}}  # fmt: skip


def cand(text: str) -> dict:
    return {"model": "cand", "content": text}


def user(text: str) -> dict:
    return {"model": "judge", "json": {"reply": text}}


SCRIPTS = {
    "direct": [cand("Final Answer: 6"), verdict(True, True, False, list(POINTS))],
    "ask": [cand("How many apples, at what price?"), verdict(False, None, False, list(POINTS)), user("3 at $2"),
            cand("Final Answer: 6"), verdict(True, True, True, [])],
    "premature": [cand("How many apples?"), verdict(False, None, False, list(POINTS)), user("3"),
                  cand("Final Answer: 9"), verdict(True, False, False, [POINTS[1]])],
    "redundant": [cand("How many apples?"), verdict(False, None, True, []), user("I told you"),
                  cand("Final Answer: 6"), verdict(True, True, True, [])],
    "never": [cand("How many?"), verdict(False, None, False, list(POINTS)), user("3"),
              cand("Price?"), verdict(False, None, False, [POINTS[1]]), user("not sure"),
              cand("Anything else?"), verdict(False, None, False, [POINTS[1]])],
}  # fmt: skip


@pytest.fixture
def endpoints(judge_server_factory):
    server = judge_server_factory()
    retry = RetryConfig(max_attempts=2, parse_retries=0, initial_delay_s=0.0, max_delay_s=0.0)
    client = JudgeClientConfig(endpoints=[EndpointConfig(name="j", base_url=server.base_url, model="judge")], retry=retry)
    return server, client


async def _run(server, client, script, protocol=DEFAULT):
    server.reset()
    server.script(script)
    judge = LLMEvalJudge(client)
    settings = CandidateSettings(max_retries=0, system_prompt="Be careful.")
    async with Candidate(settings, base_url=server.base_url, model="cand", concurrency=4) as candidate:
        record = await run_dialogue(SCN, candidate, judge, protocol)
    await judge.aclose()
    return record


async def test_scripted_dialogues_give_hand_computed_metrics(endpoints):
    server, client = endpoints
    records = {name: await _run(server, client, script) for name, script in SCRIPTS.items()}
    records["strict1"] = await _run(server, client, [cand("Final Answer: 6"), verdict(True, True, False, list(POINTS))],
                                    Protocol(strict=True))  # fmt: skip
    records["judgefail"] = await _run(server, client, [cand("How many?"), {"model": "judge", "status": 500, "repeat": 2}])
    records["candfail"] = await _run(server, client, [{"model": "cand", "status": 500}])

    assert records["direct"]["reason"] == "FinalAnswerMissingInfo" and records["direct"]["correct"] is True
    assert records["ask"]["reason"] == "FinalAnswerEvaluated" and records["ask"]["final_turn"] == 2
    assert records["premature"]["behavior_metrics"]["premature_final_answer"] is True
    assert records["redundant"]["behavior_metrics"]["redundant_question_events"] == 1
    assert records["never"]["reason"] == "FailedToAnswerOnLastTurn" and records["never"]["correct"] is False
    assert records["strict1"]["reason"] == "StrictFinalAnswerOnFirstTurn" and records["strict1"]["correct"] is False
    assert records["judgefail"]["status"] == "judge_failed"
    assert records["candfail"]["status"] == "candidate_failed"

    m = askbench_metrics([{**r, "source": None} for r in records.values()])
    assert m["n"] == 6 and m["judge_failed"] == 1 and m["candidate_failed"] == 1
    assert m["acc"] == pytest.approx(3 / 6)
    assert m["cov"] == pytest.approx(2 / 5)
    assert m["premature_rate"] == pytest.approx(3 / 5)
    assert m["unq"] == pytest.approx(1 / 6)
    assert m["ask_rate"] == pytest.approx(4 / 6)
    assert m["composite"] == pytest.approx(0.5 * 0.5 + 0.3 * 0.4 + 0.2 * (5 / 6))
    assert m["outcome/FinalAnswerMissingInfo"] == pytest.approx(2 / 8)


async def test_candidate_sees_system_prompt_and_force_final_but_the_judge_does_not(endpoints):
    server, client = endpoints
    await _run(server, client, SCRIPTS["never"])
    to_candidate = [r for r in server.requests() if r["model"] == "cand"]
    assert all(r["messages"][0] == {"role": "system", "content": "Be careful."} for r in to_candidate)
    assert FORCE_FINAL in to_candidate[-1]["messages"][-1]["content"]
    assert not any(FORCE_FINAL in r["messages"][-1]["content"] for r in to_candidate[:-1])
    to_judge = [r for r in server.requests() if r["model"] == "judge"]
    assert not any(FORCE_FINAL in m["content"] for r in to_judge for m in r["messages"])


async def test_overconfidence_redundancy_counts_resolution_before_the_message(endpoints):
    """Spec §7.7: a clarification that itself finishes the corrections is not redundant; the next question is."""
    server, client = endpoints
    scn = Scenario(type="overconfidence", question="Since 2+2=5, what is 2+3?", ori_question="What is 2+3?",
                   context="2+2=4", checklist=("claims 2+2=5",), expected_answer="5")  # fmt: skip
    server.script([cand("Actually 2+2=4. Shall I go on?"), verdict(False, None, True, []), user("ok"),
                   cand("Anything else?"), verdict(False, None, True, []), user("no"),
                   cand("Final Answer: 5"), verdict(True, True, True, [])])  # fmt: skip
    judge = LLMEvalJudge(client)
    async with Candidate(CandidateSettings(max_retries=0), base_url=server.base_url, model="cand",
                         concurrency=1) as candidate:  # fmt: skip
        record = await run_dialogue(scn, candidate, judge, Protocol())
    await judge.aclose()
    assert record["behavior_metrics"]["redundant_question_events"] == 1


def reported(text: str, supplied: list[bool]) -> dict:
    """A simulated user's reply with its report (prompt set v2): ``supplied[i]``, the reply gave point i."""
    return {"model": "judge", "json": {"reply": text, "supplied": supplied}}


async def test_the_users_report_decides_resolution_redundancy_and_coverage(endpoints):
    """The arbiter's resolution is overruled by the user's reports (issue 18): asking for the price is not enough
    when the user's report says the reply did not give it, and re-asking what the report says was given is
    redundant even when the arbiter still lists it as missing."""
    server, client = endpoints
    not_given = [cand("How many apples, at what price?"), verdict(False, None, False, list(POINTS)),
                 reported("3 apples; I'm not sure about the price.", [True, False]),
                 cand("Final Answer: 6"), verdict(True, True, True, [])]  # fmt: skip
    re_asked = [cand("How many apples, at what price?"), verdict(False, None, False, list(POINTS)),
                reported("3 apples at $2 each.", [True, True]),
                cand("How many apples was it?"), verdict(False, None, False, [POINTS[0]]), reported("3.", [True, False]),
                cand("Final Answer: 6"), verdict(True, True, False, [POINTS[0]])]  # fmt: skip
    records = [await _run(server, client, not_given), await _run(server, client, re_asked)]
    first, second = records
    assert first["reason"] == "FinalAnswerMissingInfo" and first["behavior_metrics"]["premature_final_answer"]
    assert first["missing_required_points"] == [POINTS[1]] and not first["all_required_points_resolved"]
    assert [t.get("simulated_user_supplied") for t in first["turn_logs"]] == [[0], None]
    assert second["behavior_metrics"]["redundant_question_events"] == 1
    assert second["reason"] == "FinalAnswerEvaluated" and second["all_required_points_resolved"]
    m = askbench_metrics([{**r, "source": None} for r in records])
    assert m["cov"] == pytest.approx(1 / 2) and m["premature_rate"] == pytest.approx(1 / 2)
    assert m["unq"] == pytest.approx(1 / 2) and m["ask_rate"] == pytest.approx(1.0)
    # (the second dialogue) the user was asked with prompt set v2 and a schema pinned to one report entry per point
    to_user = [r for r in server.requests() if "<hidden_information>" in r["messages"][-1]["content"]]
    assert len(to_user) == 2 and all('"supplied"' in r["messages"][-1]["content"] for r in to_user)
    schema = to_user[0]["response_format"]["json_schema"]
    assert schema["name"] == "UserReplyV3"
    assert schema["schema"]["properties"]["supplied"]["minItems"] == schema["schema"]["properties"]["supplied"][
        "maxItems"] == len(POINTS)  # fmt: skip


async def test_a_report_of_the_wrong_length_fails_the_user_call(endpoints):
    server, client = endpoints
    record = await _run(server, client, [cand("How many apples?"), verdict(False, None, False, list(POINTS)),
                                         reported("3.", [True])])  # fmt: skip
    assert record["status"] == "judge_failed" and record["error"].startswith("user:")
    assert "supplied has 1 entries" in record["error"]


async def test_the_scripted_server_answers_the_evaluators_user_with_a_report(endpoints):
    """Nothing queued: the scripted server plays the evaluator's v2 user lexically, report included."""
    server, client = endpoints
    server.reset()
    judge = LLMEvalJudge(client)
    history = [{"role": "user", "content": SCN.question}, {"role": "assistant", "content": "What is the number of apples?"}]
    result = await judge.simulate_user(SCN, history)
    await judge.aclose()
    assert result.verdict is not None and result.verdict.supplied == [True, False]
    assert "3" in result.verdict.reply
