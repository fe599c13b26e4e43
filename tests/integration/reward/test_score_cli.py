"""``python -m reward.score`` end to end in a subprocess: turn samples built from real AskMind records (read from the
shared data, written to tmp_path), scored by the lexical judge and by the real LLM client against the scripted
server; output order and fields, masking of failed judge calls, guards that send nothing, and located errors for
bad input (exit 2, no traceback).

Fakes: the judge model only (scripted server on 127.0.0.1 in this process; the CLI reaches it over HTTP).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reward.score", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def turns(askbench_dir: Path, tmp_path: Path) -> Path:
    """Seven samples from two AskMind records (the project's demo records): an asking turn (nested extra_info), a premature answer, a final turn
    (fields at top level), and three guarded turns."""
    lines = (askbench_dir / "ask_bench" / "ask_mind" / "test.jsonl").read_text(encoding="utf-8").splitlines()[:2]
    samples = []
    for i, line in enumerate(lines):
        r = json.loads(line)
        base = {
            "ori_question": r["ori_question"],
            "degraded_info": r["degraded_info"],
            # a second point the asking turn leaves open: it covers part of the checklist (0.8, not 1.0)
            "required_points": [*r["required_points"], "Ask which unit the answer should be given in"],
            "expected_answer": r["expected_answer"],
        }
        samples.append(
            {
                "id": f"{i}-ask",
                "response": f"Before I solve it: {r['required_points'][0].rstrip('.?')}?",
                "extra_info": {**base, "is_final_turn": False, "question": r["degraded_question"]},
            }
        )
        samples.append(
            {
                "id": f"{i}-final",
                "response": f"Thanks! Final Answer: {r['expected_answer']}",
                **base,
                "is_final_turn": True,
                "question": "Here are the details you asked for.",
                "context": f"user: {r['degraded_question']}\nassistant: {r['required_points'][0]}",
            }
        )
    guard_base = samples[0]["extra_info"]
    samples.append({"id": "empty", "response": " ", "extra_info": guard_base})
    samples.append({"id": "think", "response": "<think>I should ask about", "extra_info": guard_base})
    samples.append({"id": "cut", "response": "Could you tell me the", "extra_info": {**guard_base, "truncated": True}})
    path = tmp_path / "turns.jsonl"
    path.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in samples), encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_lexical_judge_scores_in_input_order(turns: Path, tmp_path: Path) -> None:
    out = tmp_path / "scored.jsonl"
    proc = _run("--task", "askmind", "--input", str(turns), "--judge", "lexical", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = _rows(out)
    assert [r["id"] for r in rows] == ["0-ask", "0-final", "1-ask", "1-final", "empty", "think", "cut"]
    assert [r["line"] for r in rows] == list(range(1, 8))
    assert [(r["outcome"], r["reward"]) for r in rows] == [
        ("ok", 0.8),
        ("ok", 1.0),
        ("ok", 0.8),
        ("ok", 1.0),
        ("guard", -2.0),
        ("guard", -2.0),
        ("guard", -2.0),
    ]
    assert rows[1]["verdict"]["decision"] == "correct" and rows[0]["verdict"]["hits"][0] is True
    assert next(iter(rows[0]["verdict"])) == "reasoning"  # the default prompt set is v2: reasoning first
    assert "scored 7 turns: ok 4, guard 3, judge_failed 0" in proc.stderr
    assert "judge failure rate 0.0000" in proc.stderr and "reward_table_hash=" in proc.stderr


def test_scripted_llm_judge_failure_is_a_null_reward(turns: Path, judge_server, tmp_path: Path) -> None:
    config = tmp_path / "judge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "backend": "llm",
                "client": {
                    "endpoints": [{"name": "scripted", "base_url": judge_server.base_url, "model": "scripted"}],
                    "retry": {"max_attempts": 2, "initial_delay_s": 0.001, "max_delay_s": 0.002},
                },
            }
        )
    )
    one_judged = tmp_path / "one.jsonl"  # the first asking turn and the three guarded turns
    rows_in = turns.read_text(encoding="utf-8").splitlines()
    one_judged.write_text("\n".join([rows_in[0], *rows_in[4:]]) + "\n", encoding="utf-8")
    judge_server.script([{"status": 500, "repeat": 2}])
    proc = _run("--task", "askmind", "--input", str(one_judged), "--judge-config", str(config))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["id"], r["outcome"], r["reward"]) for r in rows] == [
        ("0-ask", "judge_failed", None),
        ("empty", "guard", -2.0),
        ("think", "guard", -2.0),
        ("cut", "guard", -2.0),
    ]
    assert rows[0]["failure"] == "http_error" and rows[0]["attempts"] == 2
    assert len(judge_server.requests()) == 2  # both attempts of the judged turn; the guarded turns sent nothing
    assert "judge_failed 1" in proc.stderr and "judge failure rate 0.2500" in proc.stderr
    judge_server.script([{"status": 500, "repeat": 2}])
    penalized = _run(
        "--task", "askmind", "--input", str(one_judged), "--judge-config", str(config), "--on-judge-failure", "penalize"
    )
    first = json.loads(penalized.stdout.splitlines()[0])
    assert penalized.returncode == 0 and (first["outcome"], first["reward"]) == ("judge_failed", -0.8)
    judge_server.script([{"status": 500, "repeat": 2}])
    raised = _run(
        "--task", "askmind", "--input", str(one_judged), "--judge-config", str(config), "--on-judge-failure", "raise"
    )
    assert raised.returncode == 1 and "http_error" in raised.stderr and "Traceback" not in raised.stderr


def test_judge_url_flag_reaches_the_server(turns: Path, judge_server) -> None:
    proc = _run("--task", "askmind", "--input", str(turns), "--judge-url", judge_server.base_url, "--judge-model", "m1")
    assert proc.returncode == 0, proc.stderr
    log = judge_server.requests()
    assert len(log) == 4 and {e["model"] for e in log} == {"m1"}
    assert "judge latency mean" in proc.stderr and "judge_backend=llm" in proc.stderr


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"response": "x", "extra_info": {"ori_question": "q", "question": "q"}}', "field 'degraded_info': missing"),
        (
            '{"response": 3, "degraded_info": "d", "ori_question": "q", "question": "q", "expected_answer": "1"}',
            "field 'response': expected a string, got int",
        ),
        ('{"response": "x", "extra_info": "not an object"}', "field 'extra_info': expected an object"),
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
    ],
)
def test_bad_input_lines_are_located(tmp_path: Path, line: str, message: str) -> None:
    good = (
        '{"response": "What is r?", "degraded_info": "d", "ori_question": "q", "question": "q", '
        '"required_points": ["r"], "is_final_turn": false}'
    )
    path = tmp_path / "bad.jsonl"
    path.write_text(f"{good}\n\n{line}\n", encoding="utf-8")
    proc = _run("--task", "askmind", "--input", str(path), "--judge", "lexical")
    assert proc.returncode == 2
    assert f"{path}:3: " in proc.stderr and message in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_bad_flags_exit_2_without_traceback(turns: Path, tmp_path: Path) -> None:
    no_url = _run("--task", "askmind", "--input", str(turns))
    assert no_url.returncode == 2 and "needs --judge-url" in no_url.stderr
    bad_table = _run("--task", "askmind", "--input", str(turns), "--judge", "lexical", "--table", "nope")
    assert bad_table.returncode == 2 and "unknown reward table 'nope'" in bad_table.stderr
    bad_out = _run(
        "--task", "askmind", "--input", str(turns), "--judge", "lexical", "--out", str(tmp_path / "missing" / "o.jsonl")
    )
    assert bad_out.returncode == 2 and "does not exist" in bad_out.stderr
    assert all("Traceback" not in p.stderr for p in (no_url, bad_table, bad_out))
