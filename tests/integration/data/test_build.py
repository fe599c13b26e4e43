"""``python -m askrl.data build`` end to end against the scripted OpenAI-compatible server as the LLM.

What is faked: only the LLM, by ``askrl/testing/scripted_server.py`` on 127.0.0.1 (its generator role answers the
build's steps by text rules, ``askrl/testing/scripted_generator.py``; queued replies play a bad generator). The
judge client, HTTP stack, retries, gates, files and ``askrl.data`` validation and preparation are real.
Covers: good generations kept and valid; every gate rejecting the generation made for it, with its reason;
field mapping; bad input stopping before any LLM call; failures retried by a re-run; offline trajectories that
``prepare --mode offline`` accepts; a build from the shared MATH-500 file.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from askrl.data.__main__ import main as data_main
from askrl.data.build.gates import GateLimits
from askrl.data.build.runner import BuildSpec, run_build
from askrl.data.loading import load_records
from askrl.data.prepare import prepare_parquet
from askrl.judge.config import BreakerConfig, RetryConfig
from askrl.testing.scripted_server import ScriptedServer

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "examples" / "qa_demo.jsonl"
FAST_RETRY = RetryConfig(initial_delay_s=0.001, max_delay_s=0.005, jitter_ratio=0.0)
MAYA = {"id": "maya", "ori_question": "Maya buys 4 notebooks that cost 3 dollars each. How much does she spend?",
        "expected_answer": "12"}  # fmt: skip


def build(server: ScriptedServer, out: Path, input_path: Path | str, **options: Any) -> dict[str, Any]:
    spec = BuildSpec(
        task=options.pop("task", "askmind"), input=str(input_path), out=out, llm_urls=(server.base_url,),
        llm_model="scripted", retry=FAST_RETRY, progress=False, **options,
    )  # fmt: skip
    return asyncio.run(run_build(spec))


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


@pytest.fixture
def server(judge_server_factory: Callable[..., ScriptedServer]) -> ScriptedServer:
    return judge_server_factory()


@pytest.mark.parametrize("task", ["askmind", "overconfidence"])
def test_good_generations_are_kept_and_validate(server: ScriptedServer, tmp_path: Path, task: str) -> None:
    report = build(server, tmp_path / "out", DEMO, task=task, limit=20)
    kept = lines(tmp_path / "out" / "records.jsonl")
    assert report["run"]["processed"] == 20
    assert len(kept) == report["run"]["kept"] == report["total"]["kept"]
    assert report["run"]["failed"] == {}
    assert len(kept) >= 19  # the scripted overconfidence generator misquotes one demo value into a true claim
    loaded = load_records(tmp_path / "out" / "records.jsonl")
    assert loaded.kind == task and len(loaded.records) == len(kept)
    assert data_main(["validate", str(tmp_path / "out" / "records.jsonl")]) == 0
    assert data_main(["validate", str(tmp_path / "out")]) == 0  # the folder: its bookkeeping files are skipped
    prepared = prepare_parquet(task, tmp_path / "out" / "records.jsonl", tmp_path / "parquet")
    assert prepared.train_rows == len(kept)
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["run"] == report["run"] and set(saved["run"]["rejected"]) >= {"still_answerable", "near_duplicate"}
    steps = {r["served"] for r in server.requests()}
    assert steps == {"generator"}


ASKMIND_REJECTS = [
    ("malformed_generation", [{"content": "I cannot help with that."}, {"content": "still not JSON"}]),
    ("unchanged_question", [{"json": {"degraded_info": "x", "required_points": ["The number of notebooks"],
                                      "degraded_question": "  maya buys 4 notebooks that cost 3 dollars each. "
                                                           "How much does she SPEND?"}}]),
    ("checklist_empty", [{"json": {"degraded_info": "x", "required_points": [" "],
                                   "degraded_question": "Maya buys some notebooks. How much does she spend?"}}]),
    ("checklist_too_long", [{"json": {"degraded_info": "x", "required_points": [f"point {i}" for i in range(7)],
                                      "degraded_question": "Maya buys some notebooks. How much does she spend?"}}]),
    ("ungrounded_checklist", [{"json": {
        "degraded_info": "The number of notebooks is 4.",
        "required_points": ["The number of notebooks", "The colour of the shop"],
        "degraded_question": "Maya buys a certain number of notebooks that cost 3 dollars each. How much does she "
                             "spend?"}}]),
    ("still_answerable", [{"json": {
        "degraded_info": "The number of notebooks is 4.", "required_points": ["The number of notebooks"],
        "degraded_question": "Maya buys some notebooks for 12 dollars in all. How much does she spend?"}}]),
]  # fmt: skip


@pytest.mark.parametrize(("reason", "script"), ASKMIND_REJECTS, ids=[r for r, _ in ASKMIND_REJECTS])
def test_each_askmind_gate_rejects_its_generation(
    server: ScriptedServer, tmp_path: Path, reason: str, script: list[dict[str, Any]]
) -> None:
    server.script(script)
    report = build(server, tmp_path / "out", write_jsonl(tmp_path / "qa.jsonl", [MAYA]), concurrency=1)
    assert report["run"]["kept"] == 0
    assert {k: v for k, v in report["run"]["rejected"].items() if v} == {reason: 1}
    (rejected,) = lines(tmp_path / "out" / "rejected.jsonl")
    assert rejected["id"] == "maya" and rejected["reason"] == reason and rejected["detail"]
    assert rejected["generation"]  # the parsed generation, or the raw reply of a malformed one
    assert not (tmp_path / "out" / "records.jsonl").read_text()


def _claims(points: list[str], question: str) -> list[dict[str, Any]]:
    return [
        {"json": {"overconfidence_info": ["a", "b"], "misleading_points": points, "overconfidence_question": question}}
    ]


OVERCONFIDENCE_REJECTS = [
    ("too_few_claims", _claims(["the number of notebooks is 5"], "Maya buys 5 notebooks, right? How much?")),
    ("premise_not_false", _claims(["the number of notebooks is 5", "the number of dollars is 4"],
                                  "Maya buys 5 notebooks at 4 dollars each, I am sure. How much does she spend?")),
    ("ungrounded_checklist", _claims(["the number of notebooks is 5", "the number of dollars is 7"],
                                     "Maya buys 5 notebooks at 3 dollars each, I am sure. How much does she spend?")),
]  # fmt: skip


@pytest.mark.parametrize(("reason", "script"), OVERCONFIDENCE_REJECTS, ids=[r for r, _ in OVERCONFIDENCE_REJECTS])
def test_each_overconfidence_gate_rejects_its_generation(
    server: ScriptedServer, tmp_path: Path, reason: str, script: list[dict[str, Any]]
) -> None:
    server.script(script)
    qa = write_jsonl(tmp_path / "qa.jsonl", [MAYA])
    report = build(server, tmp_path / "out", qa, task="overconfidence", concurrency=1)
    assert {k: v for k, v in report["run"]["rejected"].items() if v} == {reason: 1}
    assert lines(tmp_path / "out" / "rejected.jsonl")[0]["reason"] == reason


def test_near_duplicate_of_a_kept_item_is_rejected(server: ScriptedServer, tmp_path: Path) -> None:
    twin = {**MAYA, "id": "twin", "ori_question": MAYA["ori_question"].replace("4 notebooks", "6 notebooks")}
    other = {"id": "other", "ori_question": "A tank holds 200 litres and loses 15 litres per hour. What is left "
             "after 4 hours?", "expected_answer": "140"}  # fmt: skip
    qa = write_jsonl(tmp_path / "qa.jsonl", [MAYA, twin, other])
    report = build(server, tmp_path / "out", qa, concurrency=1)
    assert report["run"]["kept"] == 2 and report["run"]["rejected"]["near_duplicate"] == 1
    (dup,) = lines(tmp_path / "out" / "rejected.jsonl")
    assert dup["id"] == "twin" and "maya" in dup["detail"]
    # the same items with a stricter threshold than their similarity (1.0 here) would be kept: 1.0 is inclusive
    report = build(server, tmp_path / "strict", qa, concurrency=1, dedup_threshold=1.0)
    assert report["run"]["rejected"]["near_duplicate"] == 1


def test_max_points_is_inclusive(server: ScriptedServer, tmp_path: Path) -> None:
    server.script([{"json": {"degraded_info": "The number of notebooks is 4. The number of dollars is 3.",
                             "required_points": ["The number of notebooks", "The number of dollars"],
                             "degraded_question": "Maya buys a certain number of notebooks that cost a certain "
                                                  "number of dollars each. How much does she spend?"}}])  # fmt: skip
    qa = write_jsonl(tmp_path / "qa.jsonl", [MAYA])
    report = build(server, tmp_path / "out", qa, concurrency=1, limits=GateLimits(max_points=2))
    assert report["run"]["kept"] == 1


def test_field_mapping_reads_another_layout(server: ScriptedServer, tmp_path: Path) -> None:
    rows = [{"problem": r["ori_question"], "answer": r["expected_answer"], "worked": "by hand"}
            for r in lines(DEMO)[:3]]  # fmt: skip
    qa = write_jsonl(tmp_path / "other.jsonl", rows)
    report = build(
        server,
        tmp_path / "out",
        qa,
        mapping={"ori_question": "problem", "expected_answer": "answer", "solution": "worked"},
    )
    kept = lines(tmp_path / "out" / "records.jsonl")
    assert report["run"]["kept"] == 3
    assert {r["ori_question"] for r in kept} == {r["problem"] for r in rows}
    assert all(r["solution"] == "by hand" and len(r["id"]) == 64 for r in kept)  # ids: sha256 of the record


def test_bad_input_stops_before_any_llm_call(
    server: ScriptedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps(MAYA) + "\n" + json.dumps({"problem": "x", "expected_answer": 3}) + "\n{oops\n")
    code = data_main(["build", "--task", "askmind", "--input", str(qa), "--out", str(tmp_path / "out"),
                      "--llm-url", server.base_url, "--llm-model", "scripted", "--map", "question=problem", "--no-progress"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert f"{qa}:1: field 'problem (mapped to ori_question)': missing" in err
    assert f"{qa}:2: field 'expected_answer': input should be a valid string, got int 3" in err
    assert f"{qa}:3: invalid JSON" in err
    assert server.requests() == [] and not (tmp_path / "out").exists()


def test_failed_items_are_retried_by_a_rerun(
    judge_server_factory: Callable[..., ScriptedServer], tmp_path: Path
) -> None:
    server = judge_server_factory(error_rate=1.0)
    qa = write_jsonl(tmp_path / "qa.jsonl", lines(DEMO)[:4])
    first = build(server, tmp_path / "out", qa, concurrency=2, breaker=BreakerConfig(failure_threshold=1000))
    assert first["run"]["kept"] == 0 and sum(first["run"]["failed"].values()) == 4
    assert all(k.startswith("generate:") for k in first["run"]["failed"])
    assert len(lines(tmp_path / "out" / "failed.jsonl")) == 4
    server.configure(error_rate=0.0)
    second = build(server, tmp_path / "out", qa, concurrency=2)
    assert second["run"]["skipped_done"] == 0 and second["run"]["kept"] == 4
    assert lines(tmp_path / "out" / "failed.jsonl") == []  # this run's failures only
    assert first["llm"]["generator"]["judge/failures"] > 0


def test_another_build_in_the_same_folder_is_refused(server: ScriptedServer, tmp_path: Path) -> None:
    build(server, tmp_path / "out", DEMO, limit=2)
    code = data_main(["build", "--task", "overconfidence", "--input", str(DEMO), "--out", str(tmp_path / "out"),
                      "--llm-url", server.base_url, "--llm-model", "scripted", "--no-progress"])  # fmt: skip
    assert code == 2


def test_pass_rates_and_balance(server: ScriptedServer, tmp_path: Path) -> None:
    easy = {"id": "easy", "ori_question": "Tom keeps all 3 of his 3 apples. How many apples does Tom keep, 3?",
            "expected_answer": "3"}  # fmt: skip
    qa = write_jsonl(tmp_path / "qa.jsonl", [easy, *lines(DEMO)[:3]])
    report = build(server, tmp_path / "out", qa, pass_rate_samples=3, balance=True, buckets=2)
    rates = {r["id"]: r for r in lines(tmp_path / "out" / "pass_rates.jsonl")}
    assert rates["easy"]["pass_rate"] == 1.0 and rates["easy"]["answered"] == 3
    assert all(r["pass_rate"] == 0.0 for k, r in rates.items() if k != "easy")
    assert report["pass_rates"]["histogram"] == {"[0.00, 0.50)": 3, "[0.50, 1.00]": 1}
    assert report["run"]["rejected"]["bucket_full"] == 2  # the hard bucket is cut to the easy bucket's one item
    kept = lines(tmp_path / "out" / "records.jsonl")
    assert sorted(r["difficulty_bucket"] for r in kept) == [0, 1]
    policy = [r for r in server.requests() if "<build_step>policy_answer" in r["messages"][0]["content"]]
    assert len(policy) == 12 and all(r["temperature"] == 0.7 for r in policy)
    # a re-run reuses the rates and the balance: nothing is sampled or built again
    server.reset()
    again = build(server, tmp_path / "out", qa, pass_rate_samples=3, balance=True, buckets=2)
    assert again["run"]["skipped_done"] == 4 and server.requests() == []


@pytest.mark.parametrize("task", ["askmind", "overconfidence"])
def test_trajectories_become_offline_turn_rows(server: ScriptedServer, tmp_path: Path, task: str) -> None:
    report = build(server, tmp_path / "out", DEMO, task=task, limit=6, trajectories=True)
    kept = lines(tmp_path / "out" / "records.jsonl")
    assert report["run"]["kept"] == len(kept) >= 5
    for record in kept:
        history = record["conversation_history"]
        assert [m["role"] for m in history] == ["user", "assistant"] * (len(history) // 2)
        assert history[-1]["content"].splitlines()[-1] == f"Final Answer: {record['expected_answer']}"
    turns = sum(len(r["conversation_history"]) // 2 for r in kept)
    prepared = prepare_parquet(task, tmp_path / "out" / "records.jsonl", tmp_path / "parquet", mode="offline")
    assert prepared.train_rows == turns
    rows = pd.read_parquet(prepared.train)
    finals = [e for e in rows["extra_info"] if e["is_final_turn"]]
    assert len(finals) == len(kept)
    assert data_main(["validate", str(prepared.train)]) == 0


def test_trajectory_whose_forced_answer_is_still_wrong_is_rejected(server: ScriptedServer, tmp_path: Path) -> None:
    # Every reply scripted, in request order. The verifier and the solver run concurrently, so their two replies
    # are one object that satisfies both schemas.
    both = {"reasoning": "", "grounded": [True], "final_answer": "cannot be determined"}
    server.script([
        {"json": {"degraded_info": "The number of notebooks is 4.", "required_points": ["The number of notebooks"],
                  "degraded_question": "Maya buys a certain number of notebooks that cost 3 dollars each. How much "
                                       "does she spend?"}},
        {"json": both}, {"json": both},
        {"json": {"message": "How many notebooks does Maya buy?"}},  # ask
        {"json": {"reply": "She buys 4 notebooks."}},  # simulated user
        {"json": {"covered": [True]}},  # coverage
        {"json": {"message": "Final Answer: 7"}},  # answer
        {"json": {"reasoning": "", "decision": "wrong"}},  # judge: wrong, so force-correct
        {"json": {"message": "Final Answer: 13"}},  # a forced answer that is still wrong
        {"json": {"reasoning": "", "decision": "wrong"}},
    ])  # fmt: skip
    report = build(server, tmp_path / "out", write_jsonl(tmp_path / "qa.jsonl", [MAYA]), trajectories=True)
    assert {k: v for k, v in report["run"]["rejected"].items() if v} == {"trajectory_unresolved": 1}
    (rejected,) = lines(tmp_path / "out" / "rejected.jsonl")
    history = rejected["conversation_history"]
    assert [m["content"] for m in history[1:]] == [
        "How many notebooks does Maya buy?",
        "She buys 4 notebooks.",
        "Final Answer: 13",
    ]  # the dropped wrong answer never enters the history
    assert len(server.requests()) == 10


def test_build_from_a_math500_file(server: ScriptedServer, tmp_path: Path, askbench_dir: Path) -> None:
    report = build(server, tmp_path / "out", askbench_dir / "common" / "math500" / "test.jsonl", limit=8)
    assert report["run"]["processed"] == 8 and report["run"]["failed"] == {}
    kept = lines(tmp_path / "out" / "records.jsonl")
    # the scripted generator blurs numbers; the two questions of these eight without a plain number stay unchanged
    assert report["run"]["kept"] == len(kept) == 6 and report["run"]["rejected"]["unchanged_question"] == 2
    assert all(r["solution"] for r in kept)  # MATH-500's reference solutions are carried over
    assert load_records(tmp_path / "out" / "records.jsonl").kind == "askmind"


def test_an_llm_endpoint_that_is_down_stops_the_build_in_seconds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The endpoint check before the first item (as train and eval do): exit 2 naming the URL, instead of waiting out
    the 900 s call deadline with a breaker warning every few seconds."""
    import socket
    import time

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    code = data_main(["build", "--task", "askmind", "--input", str(DEMO), "--out", str(tmp_path / "out"),
                      "--llm-url", f"http://127.0.0.1:{port}/v1", "--no-progress"])  # fmt: skip
    assert code == 2 and time.monotonic() - started < 10
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"LLM endpoint http://127.0.0.1:{port}/v1: no answer from http://127.0.0.1:{port}/v1/models "
                   "(ConnectError); start it or fix --llm-url / --policy-url"]  # fmt: skip
    assert not (tmp_path / "out").exists()  # nothing started


def test_an_endpoint_serving_another_model_is_refused_before_any_item(server: ScriptedServer, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = data_main(["build", "--task", "askmind", "--input", str(DEMO), "--out", str(tmp_path / "out"),
                      "--llm-url", server.base_url, "--llm-model", "qwen", "--no-progress"])  # fmt: skip
    assert code == 2 and server.requests() == []
    assert "serves ['scripted'], not 'qwen'" in capsys.readouterr().err
