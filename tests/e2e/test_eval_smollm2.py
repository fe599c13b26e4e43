"""The evaluator against a real model: SmolLM2-135M-Instruct served by ``python -m askrl.serve model`` (the
transformers backend) as the candidate, the offline lexical judge, a few real AskBench and QA items.

Checks that every sample reaches a verdict through the real server (no candidate or judge failures), that the
dialogues hold the model's real text, and the files the checkpoint evaluation reads. Wall time: 87 s on 2 shared
cores (the evaluation 78 s of it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_smollm2_served_locally_is_evaluated_end_to_end(smollm2_model, askbench_dir, tmp_path, run_bounded):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [sys.executable, "-m", "askrl.serve", "model", "--path", str(smollm2_model), "--port", "0", "--backend", "hf"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        out = tmp_path / "eval"
        cmd = [sys.executable, "-m", "eval_hooks.run", "--suite", "askmind,calibration,math500,medqa",
               "--model-url", url, "--judge", "lexical", "--data-dir", str(askbench_dir), "--limit", "2",
               "--max-turns", "2", "--max-tokens", "48", "--temperature", "0", "--out", str(out), "--no-progress"]  # fmt: skip
        code, wall = run_bounded(cmd, env=env, timeout_s=600, log=tmp_path / "eval.log")
        assert code == 0, (tmp_path / "eval.log").read_text()[-3000:]
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    summary = json.loads((out / "summary.json").read_text())
    suites = {s: m for s, m in summary.items() if s != "config"}  # the run's settings block (provenance)
    assert {s: suites[s]["n"] for s in suites} == {"askmind": 2, "calibration": 6, "math500": 2, "medqa": 2}
    assert all(suites[s]["judge_failed"] == suites[s]["candidate_failed"] == 0 for s in suites)
    assert summary["config"]["status"] == "ok" and summary["config"]["samples"]["valid"] == 12
    record = json.loads((out / "askmind" / "results.jsonl").read_text().splitlines()[0])
    replies = [m["content"] for m in record["conversation_history"] if m["role"] == "assistant"]
    assert replies and all(r.strip() for r in replies)  # the model's own words, not a sentinel
    assert "## calibration" in (out / "summary.md").read_text()
    print(f"eval wall {wall:.1f} s")
