"""The evaluator's provenance and exit codes over real HTTP, on demo records the project generates itself.

A scripted server plays the candidate; the LLM judge is a scripted server in its own process, killed mid-run (as a
judge that dies would be). The run exits 3 with the counts on its last line and a ``config`` block that says
``degraded``; a re-run against a judge that is back resumes the failed samples only and exits 0.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from askrl.data.demo import demo_records
from askrl.data.demo_tree import write_records
from askrl.data.hub import DATASETS
from askrl.testing.scripted_server import spawn
from eval_hooks.results import read_records

REPO = Path(__file__).resolve().parents[3]
ITEMS = 10


def demo_data(root: Path) -> Path:
    """AskMind demo records in the AskBench layout the evaluator reads (``ask_bench/ask_mind/test.jsonl``)."""
    write_records(root / DATASETS["ask_mind"], demo_records("askmind", ITEMS, seed=1))
    return root


def start_judge(port: int = 0, latency_ms: int = 200) -> tuple[subprocess.Popen[str], str]:
    proc, url = spawn("--latency-ms", str(latency_ms), port=port)
    return proc, f"{url}/v1"


def run_cli(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "eval_hooks.run", *args], cwd=REPO, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip


def test_a_judge_killed_mid_run_exits_3_with_counts_and_a_rerun_resumes(judge_server_factory, tmp_path: Path):
    candidate = judge_server_factory()
    data = demo_data(tmp_path / "data")
    judge, judge_url = start_judge()
    port = judge_url.split(":")[-1].removesuffix("/v1")
    out = tmp_path / "out"
    args = ["--suite", "askmind", "--model-url", candidate.base_url, "--model-name", "scripted", "--judge-url",
            judge_url, "--judge-model", "scripted", "--data-dir", str(data), "--limit", str(ITEMS), "--concurrency",
            "2", "--judge-timeout-s", "4", "--guidance", "weak", "--out", str(out), "--no-progress"]  # fmt: skip
    try:
        proc = run_cli(args)
        results = out / "askmind" / "results.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and sum(r["status"] == "ok" for r in read_records(results).values()) < 2:
            time.sleep(0.05)
        judge.send_signal(signal.SIGKILL)
        judge.wait()
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if judge.poll() is None:
            judge.kill()
    assert proc.returncode == 3, stderr
    records = read_records(results)
    ok = sum(r["status"] == "ok" for r in records.values())
    failed = sum(r["status"] == "judge_failed" for r in records.values())
    assert ok >= 2 and failed >= 1 and ok + failed == ITEMS
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"eval: {failed} of {ITEMS} samples failed (judge_failed {failed}, candidate_failed 0), "
                           f"{ok} valid: over --max-failed-frac 0.05")  # fmt: skip
    assert json.loads(stdout.strip().splitlines()[-1])["askmind"]["n"] == ok

    summary = json.loads((out / "summary.json").read_text())
    config = summary["config"]
    assert summary["askmind"]["n"] == ok  # the suite metrics stay where readers find them
    assert config["status"] == "degraded" and config["max_failed_frac"] == 0.05
    assert config["samples"] == {"total": ITEMS, "valid": ok, "judge_failed": failed, "candidate_failed": 0}
    assert config["suites"]["askmind"]["samples"] == config["samples"]
    assert config["suites"]["askmind"]["limit"] == ITEMS
    assert list(config["suites"]["askmind"]["data"]) == ["test.jsonl"]
    assert config["protocol"] == {"max_turns": 3, "strict": False, "guidance": "weak"}
    assert config["candidate"]["name"] == "scripted" and config["candidate"]["url"] == candidate.base_url
    assert config["candidate"]["max_tokens"] == 4096 and config["attempts"] == 1
    assert config["judge"]["name"] == "scripted" and list(config["judge"]["roots"]) == [judge_url]
    assert config["judge"]["prompts"]  # the judge prompts' hashes
    assert config["askrl_version"] and config["git_commit"] and config["started_at"].endswith("+00:00")
    assert 0 < config["wall_s"] < 180
    md = (out / "summary.md").read_text()
    assert "- status: **degraded**" in md and "guidance weak" in md and f"limit {ITEMS}" in md

    judge, _ = start_judge(int(port), latency_ms=0)  # the judge is back on its address
    try:
        proc = run_cli(args)
        _, stderr = proc.communicate(timeout=180)
    finally:
        judge.kill()
        judge.wait()
    assert proc.returncode == 0, stderr
    assert stderr.strip().splitlines()[-1] == f"eval: 0 of {ITEMS} samples failed (judge_failed 0, candidate_failed " \
                                              f"0), {ITEMS} valid"  # fmt: skip
    assert json.loads((out / "run_stats.json").read_text())["samples_run"] == failed  # only the failed ones again
    assert json.loads((out / "summary.json").read_text())["config"]["status"] == "ok"


def test_checkpoint_evaluation_records_a_degraded_run_in_the_history(judge_server_factory, tmp_path: Path):
    """Training-time evaluation: the evaluator's exit 3 becomes ``status: degraded`` with the valid samples'
    metrics and the counts, not a failed evaluation and not an ok one."""
    from eval_hooks.checkpoint.config import SuiteSettings
    from eval_hooks.checkpoint.evaluate import EvalPlan, run_evaluator
    from eval_hooks.checkpoint.history import EvalHistory
    from eval_hooks.checkpoint.worker import EvalJob, EvalWorker

    candidate = judge_server_factory()
    judge = judge_server_factory(error_rate=1.0)  # every judge call fails
    plan = EvalPlan(run_dir=tmp_path / "run", suites=[SuiteSettings(name="askmind", limit=3)],
                    judge_args=["--judge-url", judge.base_url, "--judge-model", "scripted", "--judge-timeout-s", "1"],
                    data_dir=str(demo_data(tmp_path / "data")))  # fmt: skip
    history = EvalHistory(plan.run_dir)
    worker = EvalWorker(lambda job, stop: run_evaluator(plan, step=job.step, model_url=candidate.base_url,
                                                        model_name="scripted", stop=stop),
                        history, backend="serve", max_pending=1)  # fmt: skip
    worker.submit(EvalJob(step=2, checkpoint_dir=plan.run_dir / "global_step_2"))
    assert worker.wait(timeout_s=120)
    worker.stop()
    [record] = history.records()
    assert record.status == "degraded", record.error
    assert record.suites["askmind"]["judge_failed"] == 3.0 and record.suites["askmind"]["n"] == 0.0
    assert record.error.startswith("3 of 3 samples failed (judge_failed 3, candidate_failed 0), 0 valid")


async def test_compare_shows_the_settings_diff_first_then_metrics_in_paper_order_with_deltas(judge_server_factory,
                                                                                              tmp_path: Path):
    from eval_hooks.compare import compare, main
    from eval_hooks.engine import EvalSpec, evaluate

    candidate = judge_server_factory()
    data = demo_data(tmp_path / "data")
    base = EvalSpec(suites=["askmind"], model_url=candidate.base_url, model_name="scripted", judge="lexical",
                    data_dir=data, limit=4, out=tmp_path / "base", progress=False)  # fmt: skip
    first = await evaluate(base)
    second = await evaluate(base.model_copy(update={"limit": 6, "guidance": "weak", "out": tmp_path / "weak"}))
    text = compare([tmp_path / "base", tmp_path / "weak"])
    lines = text.splitlines()
    assert lines[0] == "## Settings that differ"
    assert "| protocol.guidance | none | weak |" in lines and "| suites.askmind.limit | 4 | 6 |" in lines
    assert not [line for line in lines if line.startswith(("| started_at", "| wall_s", "| samples", "| status"))]
    table = lines[lines.index("## askmind"):]
    rows = [line.split(" | ")[0].removeprefix("| ") for line in table[4:] if line.startswith("| ")]
    assert rows[:6] == ["acc", "cov", "unq", "ask_rate", "premature_rate", "composite"]
    assert rows[-4:] == ["n", "judge_failed", "candidate_failed", "redundant_question_events"]  # counts last
    assert "| n | 4 | 6 (+2) |" in table  # integers, with an integer delta
    delta = second["askmind"]["unq"] - first["askmind"]["unq"]
    assert f"| unq | {first['askmind']['unq']:.3f} | {second['askmind']['unq']:.3f} ({delta:+.3f}) |" in table

    data_json = json.loads(compare([tmp_path / "base", tmp_path / "weak"], fmt="json"))
    assert data_json["settings"]["protocol.guidance"] == ["none", "weak"]
    assert data_json["suites"]["askmind"]["n"] == {"values": [4, 6], "deltas": [None, 2]}
    assert main([str(tmp_path / "base"), str(tmp_path / "missing")]) == 2
