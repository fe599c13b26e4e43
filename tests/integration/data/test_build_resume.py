"""Resume after a kill: ``python -m askrl.data build`` killed mid-run (SIGKILL), then run again to completion.

What is faked: only the LLM (the scripted server, 40 ms per reply, in this process's background thread). The
build runs as a real subprocess and is killed without warning; a torn last line is appended to the output to
stand for a write cut short. Checks: the re-run skips exactly the items already on disk, drops the torn line,
builds the rest, and the final file has every input id once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from askrl.testing.scripted_server import ScriptedServer

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "examples" / "qa_demo.jsonl"


def _command(server: ScriptedServer, out: Path) -> list[str]:
    return [sys.executable, "-m", "askrl.data", "build", "--task", "askmind", "--input", str(DEMO), "--out", str(out),
            "--llm-url", server.base_url, "--llm-model", "scripted", "--concurrency", "2", "--no-progress"]  # fmt: skip


def _ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_killed_build_resumes_where_it_stopped(
    judge_server_factory: Callable[..., ScriptedServer], tmp_path: Path
) -> None:
    server = judge_server_factory(latency_ms=40)
    out = tmp_path / "out"
    records = out / "records.jsonl"
    proc = subprocess.Popen(_command(server, out), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (records.exists() and len(records.read_text().splitlines()) >= 4):
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the build wrote nothing within 120 s"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    done_before = _ids(records)
    assert 4 <= len(done_before) < 24
    with records.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "demo-torn", "ori_question": "cut sh')  # a write the kill cut short

    server.reset()
    result = subprocess.run(_command(server, out), cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["kept"] == 24 and summary["failed"] == 0
    final = _ids(records)
    assert sorted(final) == sorted({json.loads(line)["id"] for line in DEMO.read_text().splitlines()})
    assert final[: len(done_before)] == done_before  # appended, never rewritten
    generated = [r for r in server.requests() if "<build_step>generate_askmind" in r["messages"][0]["content"]]
    assert len(generated) == 24 - len(done_before)  # finished items are skipped, in-flight ones built again
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["skipped_done"] == len(done_before)
