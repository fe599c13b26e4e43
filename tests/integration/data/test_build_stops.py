"""``askrl.data build`` when things go wrong mid-run, against the scripted OpenAI-compatible server as the LLM:
the LLM killed mid-run, the build itself stopped with SIGTERM, the exit codes past ``--max-failed-frac``, the
generation's ``--max-tokens`` and the items in flight in the progress bar. Only the LLM is faked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from askrl.data.__main__ import main as data_main
from askrl.testing.scripted_server import ScriptedServer

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "examples" / "qa_demo.jsonl"
ITEMS = 24


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _command(server: ScriptedServer, out: Path) -> list[str]:
    return [sys.executable, "-m", "askrl.data", "build", "--task", "askmind", "--input", str(DEMO), "--out", str(out),
            "--llm-url", server.base_url, "--llm-model", "scripted", "--concurrency", "4", "--no-progress"]  # fmt: skip


def test_sigterm_records_the_items_in_flight_and_a_rerun_builds_them(
    judge_server_factory: Callable[..., ScriptedServer], tmp_path: Path
) -> None:
    server = judge_server_factory(latency_ms=150)
    out = tmp_path / "out"
    proc = subprocess.Popen(_command(server, out), cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    deadline = time.monotonic() + 120
    while len(_lines(out / "records.jsonl")) < 3:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    kept = {r["id"] for r in _lines(out / "records.jsonl")}
    cut = _lines(out / "failed.jsonl")
    assert cut and all(r["step"] == "interrupted" and r["kind"] == "interrupted" for r in cut)
    assert len(cut) <= 4 and not kept & {r["id"] for r in cut}  # at most --concurrency items were in flight
    assert proc.returncode == 3, err  # more than 5 % of the items were not built
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"build: {len(cut)} of {ITEMS} item(s) failed (interrupted {len(cut)}), {len(kept)} kept")
    assert last.endswith("over --max-failed-frac 0.05; re-run the same command to retry them")
    report = json.loads((out / "report.json").read_text())
    assert report["stopped"].startswith("interrupted") and report["run"]["failed"] == {"interrupted": len(cut)}

    result = subprocess.run(_command(server, out), cwd=REPO, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(_lines(out / "records.jsonl")) == ITEMS and _lines(out / "failed.jsonl") == []
    assert result.stderr.strip().splitlines()[-1] == f"build: 0 of {ITEMS - len(kept)} item(s) failed, " \
                                                     f"{ITEMS - len(kept)} kept, 0 rejected"  # fmt: skip


@pytest.mark.parametrize(("frac", "code"), [("0.05", 3), ("0.5", 0)])
def test_failed_items_past_max_failed_frac_exit_3(judge_server_factory: Callable[..., ScriptedServer], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str], frac: str, code: int) -> None:
    server = judge_server_factory()
    rows = [json.loads(line) for line in DEMO.read_text().splitlines()][:10]
    qa = tmp_path / "qa.jsonl"
    qa.write_text("".join(json.dumps(r) + "\n" for r in rows))
    # the first generation comes back as HTTP 500 on all 4 attempts: one of ten items fails (10 %)
    server.script([{"status": 500}] * 4)
    got = data_main(["build", "--task", "askmind", "--input", str(qa), "--out", str(tmp_path / "out"), "--llm-url",
                     server.base_url, "--llm-model", "scripted", "--concurrency", "1", "--max-failed-frac", frac, "--no-progress"])  # fmt: skip
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert got == code, last
    assert last.startswith("build: 1 of 10 item(s) failed (generate:http_error 1), 9 kept, 0 rejected"), last
    assert ("over --max-failed-frac" in last) == (code == 3)


def test_max_tokens_reaches_the_generation_and_the_bar_shows_items_in_flight(
    server: ScriptedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert data_main(["build", "--task", "askmind", "--input", str(DEMO), "--out", str(tmp_path / "out"), "--llm-url",
                      server.base_url, "--llm-model", "scripted", "--limit", "3", "--max-tokens", "256"]) == 0  # fmt: skip
    generated = [r for r in server.requests() if "<build_step>generate_askmind" in r["messages"][0]["content"]]
    assert len(generated) == 3 and {r["max_tokens"] for r in generated} == {256}
    assert max(r["max_tokens"] for r in server.requests()) == 256  # verify and solve calls capped too
    assert "in_flight=" in capsys.readouterr().err


@pytest.fixture
def server(judge_server_factory: Callable[..., ScriptedServer]) -> ScriptedServer:
    return judge_server_factory()
