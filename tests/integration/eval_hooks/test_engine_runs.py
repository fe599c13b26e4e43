"""The engine end to end over real HTTP: a scripted server as the candidate (asks once, then answers), the
lexical or the scripted LLM judge, the real AskBench files. Resume after a kill, the calibration table on an
over-asking candidate, judge failures kept out of the scores, and the QA suites through the LLM judge path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eval_hooks.engine import EvalSpec, evaluate
from eval_hooks.results import read_records

REPO = Path(__file__).resolve().parents[3]


def _run_cli(args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "eval_hooks.run", *args], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def test_resume_after_a_kill_loses_nothing_and_repeats_nothing(judge_server_factory, askbench_dir, tmp_path):
    server = judge_server_factory(latency_ms=150)
    out = tmp_path / "out"
    args = ["--suite", "askmind", "--model-url", server.base_url, "--model-name", "scripted", "--judge", "lexical",
            "--data-dir", str(askbench_dir), "--limit", "24", "--concurrency", "3", "--out", str(out), "--no-progress"]  # fmt: skip
    proc = _run_cli(args)
    results = out / "askmind" / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if results.exists() and len(results.read_text().splitlines()) >= 6:
            break
        time.sleep(0.05)
    # from now on every candidate request hangs, so the run cannot finish before the kill, however busy the machine
    server.script([{"hang": True, "repeat": 100000}])
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = {sid for sid, r in read_records(results).items() if r["status"] == "ok"}
    assert 6 <= len(done_before) < 24
    server.reset()
    proc = _run_cli(args)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    ids = [r["sample_id"] for r in lines if r["status"] == "ok"]
    assert len(ids) == len(set(ids)) == 24  # nothing lost, nothing recorded twice
    asked = server.requests()
    assert len(asked) == 2 * (24 - len(done_before))  # each sample: one question, one answer; finished ones skipped
    first_messages = {r["messages"][0]["content"] for r in asked}
    assert not first_messages & {r["conversation_history"][0]["content"] for r in lines if r["sample_id"] in done_before}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["askmind"]["n"] == 24


async def test_calibration_table_on_an_over_asking_candidate(judge_server_factory, askbench_dir, tmp_path):
    server = judge_server_factory()  # its policy asks on every first turn, whatever the question
    spec = EvalSpec(suites=["calibration"], model_url=server.base_url, model_name="scripted", judge="lexical",
                    data_dir=askbench_dir, limit=4, out=tmp_path, progress=False)  # fmt: skip
    summary = (await evaluate(spec))["calibration"]
    assert summary["n"] == 12
    for kind in ("clear", "underspecified", "false_premise"):
        assert summary[f"{kind}_ask_rate"] == 1.0  # asking on clear prompts shows up as a high clear ask rate
        assert summary[f"{kind}_n"] == 4
    assert summary["questions_per_dialogue"] == 1.0
    md = (tmp_path / "summary.md").read_text()
    assert "| clear | 4 | 0 | 1.000 |" in md
    records = read_records(tmp_path / "calibration" / "results.jsonl")
    by_item: dict[str, set[str]] = {}
    for r in records.values():
        by_item.setdefault(r["id"], set()).add(r["kind"])
    assert all(kinds == {"clear", "underspecified", "false_premise"} for kinds in by_item.values())
    clear = next(r for r in records.values() if r["kind"] == "clear")
    same_item = {r["kind"]: r for r in records.values() if r["id"] == clear["id"]}
    firsts = {kind: r["conversation_history"][0]["content"] for kind, r in same_item.items()}
    assert len(set(firsts.values())) == 3  # three different first messages for one item
    assert clear["required_points"] == [] and same_item["underspecified"]["required_points"]


async def test_judge_failures_are_counted_not_scored(judge_server_factory, askbench_dir, tmp_path):
    candidate = judge_server_factory()
    judge = judge_server_factory(error_rate=1.0)
    spec = EvalSpec(suites=["askmind", "math500"], model_url=candidate.base_url, model_name="scripted", judge="llm",
                    judge_urls=[judge.base_url], judge_model="scripted", data_dir=askbench_dir, limit=3, out=tmp_path,
                    progress=False, judge_retry={"max_attempts": 2, "initial_delay_s": 0, "max_delay_s": 0},
                    judge_breaker={"failure_threshold": 1000})  # fmt: skip
    summary = await evaluate(spec)
    for suite in ("askmind", "math500"):
        assert summary[suite]["n"] == 0 and summary[suite]["judge_failed"] == 3 and summary[suite]["acc"] is None
    assert "| math500 | - | 0 | 3 | 0 |" in (tmp_path / "summary.md").read_text()  # unknown, not an accuracy of 0
    record = next(iter(read_records(tmp_path / "askmind" / "results.jsonl").values()))
    assert record["turn_logs"][0]["judge_failure"] == "http_error" and record["turn_logs"][0]["judge_parse_attempts"] == 2


async def test_qa_suites_and_askbench_through_the_llm_judge(judge_server_factory, askbench_dir, tmp_path):
    candidate = judge_server_factory()
    judge = judge_server_factory()
    spec = EvalSpec(suites=["overconfidence", "questbench", "in3", "medqa", "gpqa", "bbh", "healthbench"],
                    model_url=candidate.base_url, model_name="scripted", judge_urls=[judge.base_url],
                    judge_model="scripted", data_dir=askbench_dir, limit=2, out=tmp_path, progress=False,
                    candidate={"temperature": 0.3, "top_p": 0.9, "max_tokens": 77, "seed": 5})  # fmt: skip
    summary = await evaluate(spec)
    assert all(summary[s]["n"] == 2 and summary[s]["judge_failed"] == 0 for s in summary)
    to_candidate = candidate.requests()
    assert {(r["temperature"], r["max_tokens"], r["seed"]) for r in to_candidate} == {(0.3, 77, 5)}
    roles = {r["served"] for r in judge.requests()}
    assert {"eval_arbiter", "eval_rubric", "user", "judge_final"} <= roles
    health = read_records(tmp_path / "healthbench" / "results.jsonl")
    assert all(len(r["rubric_logs"]) >= 1 for r in health.values())
    with pytest.raises(Exception, match="different run"):
        await evaluate(spec.model_copy(update={"candidate": spec.candidate.model_copy(update={"temperature": 0.9})}))
