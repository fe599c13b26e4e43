"""Every checkpoint evaluated while training goes on, end to end on CPU through VERL's real trainer.

Each run: ``python -m askrl.train recipe=askmind_grpo`` (the auto CPU profile, online AskMind episodes on generated
demo records, the tiny model) for 3 steps (the serve backend: 2) with ``trainer.save_freq=1``; every checkpoint is evaluated on 2 AskMind
items of the shared AskBench file by the real evaluator (``python -m eval_hooks.run``), with the scripted judge
server as evaluation judge (its only double: every eval-judge request, arbiter or simulated user, gets the same
scripted verdict "final and correct", so ``acc`` must be exactly 1.0 over the items the judge graded).

- rollout backend, LoRA (merged into the rollout weights): evaluated right after each weight sync; the judge is
  killed in the middle of step 3's evaluation, and training still finishes with that failure counted; wandb
  (offline) has ``eval/*`` at the right ``eval/global_step``; the LoRA run exports a merged plain model.
- serve backend (2 steps): killed right after the step-1 save and resumed with ``trainer.resume_mode=auto``; each
  step's evaluation is in the history exactly once, served by vLLM's CPU build where ``.venv-vllm`` exists (else by
  askrl's transformers server); the export of the last checkpoint loads, matches the actor's greedy output, and its
  model card carries the evaluation (its vLLM serve check is ``test_checkpoint_export.py``'s).

Wall time on the 2-core CI machine: see the printed lines (about 3 minutes per training process).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from askrl.bench.trainer_modes import kill_session
from askrl.serve.vllm_env import vllm_python

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

TRAIN_TIMEOUT_S = 900
EVAL_MODEL = "scripted"  # the scripted server's served name (the evaluator checks it)
VERDICT = {"is_final_answer": True, "is_correct": True, "all_required_points_resolved": True,
           "missing_required_points": [], "notes": "scripted"}


def offline_records(run_dir: Path) -> list:
    """The records of an offline wandb run, read from its ``run-*.wandb`` transaction log (LevelDB log format)."""
    from google.protobuf.message import DecodeError
    from wandb.proto import wandb_internal_pb2 as pb

    data = next(run_dir.glob("run-*.wandb")).read_bytes()
    block, pos, pending, records = 32768, 7, b"", []  # 7: the ":W&B" header
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:
            pos += left
            continue
        length, kind = int.from_bytes(data[pos + 4 : pos + 6], "little"), data[pos + 6]
        if kind == 0:  # block padding
            pos += left
            continue
        chunk, pos = data[pos + 7 : pos + 7 + length], pos + 7 + length
        if kind in (2, 3):  # first / middle fragment
            pending += chunk
            continue
        payload, pending = pending + chunk, b""
        record = pb.Record()
        try:
            record.ParseFromString(payload)
        except DecodeError:  # the last record of a killed run may be cut
            break
        records.append(record)
    return records


def offline_history(run_dir: Path) -> list[dict]:
    """History rows (one dict per logged step) of an offline wandb run."""
    return [{i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in r.history.item}
            for r in offline_records(run_dir) if r.WhichOneof("record_type") == "history"]


def step_metrics(wandb_dir: Path) -> dict[str, str]:
    """``define_metric`` declarations of the runs in ``wandb_dir``: metric name or glob -> its step metric."""
    return {(r.metric.name or r.metric.glob_name): r.metric.step_metric
            for run in wandb_dir.glob("wandb/offline-run-*") for r in offline_records(run)
            if r.WhichOneof("record_type") == "metric"}


def eval_rows(wandb_dir: Path) -> dict[int, dict]:
    """``eval/global_step`` -> the wandb row that carried it, over every offline run in ``wandb_dir``."""
    rows = {}
    for run in sorted(wandb_dir.glob("wandb/offline-run-*")):
        for row in offline_history(run):
            if "eval/global_step" in row:
                rows[int(row["eval/global_step"])] = row
    return rows


def history(ckpt: Path) -> list[dict]:
    path = ckpt / "eval" / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []



def run_training(cmd: list[str], env: dict, log: Path, *, until: Callable[[], bool] | None = None,
                 on_poll: Callable[[], None] | None = None) -> tuple[int | None, float]:
    """Run ``cmd`` in its own session; kill the session when ``until()`` turns true (returns None as the code)."""
    started = time.monotonic()
    with log.open("a") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            while proc.poll() is None:
                if time.monotonic() - started > TRAIN_TIMEOUT_S:
                    pytest.fail(f"training ran past {TRAIN_TIMEOUT_S}s; log tail:\n{log.read_text()[-4000:]}")
                if on_poll is not None:
                    on_poll()
                if until is not None and until():
                    kill_session(proc.pid)
                    proc.wait()
                    return None, time.monotonic() - started
                time.sleep(0.5)
        finally:
            kill_session(proc.pid)
    return proc.returncode, time.monotonic() - started


def base_command(ckpt: Path, ray_dir: str, judge_url: str, askbench_dir: Path, backend: str, steps: int) -> list[str]:
    return [
        sys.executable, "-m", "askrl.train", "recipe=askmind_grpo",
        "askrl.cpu_model=tiny", "askrl.data.source=demo",
        f"askrl.cpu.total_training_steps={steps}", "trainer.save_freq=1",
        "askrl.cpu.eval_suites=[{name:askmind,limit:2}]",
        f"askrl.eval.backend={backend}",
        "askrl.eval.before_train=false",  # this test counts the evaluations of saved checkpoints only
        "askrl.eval.judge.backend=llm", f"askrl.eval.judge.urls=[{judge_url}]", f"askrl.eval.judge.model={EVAL_MODEL}",
        f"askrl.eval.data_dir={askbench_dir}", "askrl.eval.max_tokens=24", "askrl.eval.max_turns=2",
        "trainer.logger=[console,wandb]",
        f"trainer.default_local_dir={ckpt}",
        f"ray_kwargs.ray_init._temp_dir={ray_dir}",
    ]  # fmt: skip


@pytest.fixture
def train_env(tmp_path: Path) -> dict:
    return {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1",
            "ASKRL_DATA_DIR": "", "PYTHONUNBUFFERED": "1"}


def export(ckpt: Path, out: Path, log: Path, *flags: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "askrl.export", "--run", str(ckpt), "--out", str(out), *flags],
                          capture_output=True, text=True, timeout=600)
    log.write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_rollout_backend_lora_judge_killed_mid_evaluation_and_lora_export(
    tmp_path: Path, judge_server_factory, askbench_dir: Path, train_env: dict
) -> None:
    judge = judge_server_factory()
    judge.script([{"json": VERDICT, "repeat": 100000}])
    ckpt, ray_dir = tmp_path / "ckpt", tempfile.mkdtemp(prefix="askrl-ce-", dir="/tmp")
    cmd = base_command(ckpt, ray_dir, judge.base_url, askbench_dir, "rollout", steps=3) + [
        "actor_rollout_ref.model.lora_rank=8", "actor_rollout_ref.model.lora_alpha=16",
        "actor_rollout_ref.model.lora.merge=true",
        "+askrl.eval.judge.call_timeout_s=10",  # the dead judge's calls fail after 10 s, not the default 300 s
    ]
    state = {"armed": False, "killed": False}

    def kill_judge_inside_step3_evaluation() -> None:
        if state["killed"]:
            return
        if not state["armed"] and len(history(ckpt)) == 2:
            judge.reset()  # from now on every judge request hangs: step 3's evaluation is caught inside a call
            judge.script([{"hang": True, "repeat": 100000}])
            state["armed"] = True
        elif state["armed"] and judge.requests():
            judge.stop()  # step 3's evaluation is waiting on the judge: kill it
            state["killed"] = True

    try:
        code, wall_s = run_training(cmd, train_env, tmp_path / "train.log", on_poll=kill_judge_inside_step3_evaluation)
    finally:
        shutil.rmtree(ray_dir, ignore_errors=True)
    log = (tmp_path / "train.log").read_text(errors="replace")
    print(f"rollout-backend run (3 steps, 3 evaluations, LoRA): {wall_s:.1f}s")
    assert code == 0, log[-6000:]
    assert state["killed"], "the judge was never killed inside step 3's evaluation"

    lines = history(ckpt)
    assert [(r["global_step"], r["status"], r["backend"]) for r in lines] == [
        (1, "ok", "rollout"), (2, "ok", "rollout"), (3, "degraded", "rollout")]  # step 3: over --max-failed-frac
    assert "samples failed (judge_failed" in lines[2]["error"]
    for record in lines[:2]:
        suite = record["suites"]["askmind"]
        assert suite["n"] == 2 and suite["acc"] == 1.0 and suite["judge_failed"] == 0, suite
    assert lines[2]["suites"]["askmind"]["judge_failed"] >= 1  # the dead judge: counted, not scored

    assert step_metrics(tmp_path).get("eval/*") == "eval/global_step"
    rows = eval_rows(tmp_path)
    assert sorted(rows) == [1, 2, 3]
    for step, row in rows.items():
        assert row["_step"] == step  # logged with the training step the evaluation belongs to
        assert row["eval/askmind/wall_s"] > 0
    assert rows[1]["eval/askmind/acc"] == 1.0 and rows[2]["eval/askmind/n"] == 2
    assert rows[3]["eval/askmind/judge_failed"] == lines[2]["suites"]["askmind"]["judge_failed"]

    summary = export(ckpt, tmp_path / "export", tmp_path / "export.log")
    assert summary["step"] == 3 and summary["max_logit_gap"] <= 1e-3
    exported = tmp_path / "export"
    assert (ckpt / "global_step_3" / "actor" / "lora_train_meta.json").is_file()  # it was a LoRA run
    assert not (exported / "lora_adapter").exists()  # folded into the weights
    from safetensors import safe_open

    with safe_open(str(next(exported.glob("*.safetensors"))), "pt") as weights:
        names = list(weights.keys())
    assert names and not [n for n in names if "lora" in n or "base_layer" in n], names[:5]


def test_serve_backend_killed_after_step2_resumes_each_evaluation_once_and_exports(
    tmp_path: Path, judge_server_factory, askbench_dir: Path, train_env: dict
) -> None:
    judge = judge_server_factory()
    judge.script([{"json": VERDICT, "repeat": 100000}])
    ckpt = tmp_path / "ckpt"
    walls = []
    for attempt in ("first", "resumed"):
        ray_dir = tempfile.mkdtemp(prefix="askrl-ce-", dir="/tmp")
        cmd = base_command(ckpt, ray_dir, judge.base_url, askbench_dir, "serve", steps=2) + ["trainer.resume_mode=auto"]
        until = (lambda: (ckpt / "global_step_1" / "askrl_provenance.json").is_file()) if attempt == "first" else None
        try:
            code, wall_s = run_training(cmd, train_env, tmp_path / f"train_{attempt}.log", until=until)
        finally:
            shutil.rmtree(ray_dir, ignore_errors=True)
        walls.append(wall_s)
        if attempt == "first":
            assert code is None  # killed
            assert len(history(ckpt)) < 1, "step 1's evaluation finished before the kill: nothing left to resume"
        else:
            assert code == 0, (tmp_path / "train_resumed.log").read_text(errors="replace")[-6000:]
    print(f"serve-backend run: killed after {walls[0]:.1f}s, resumed run {walls[1]:.1f}s")

    lines = history(ckpt)
    assert sorted(r["global_step"] for r in lines) == [1, 2]  # each step exactly once
    for record in lines:
        assert record["status"] == "ok" and record["backend"] == "serve", record
        assert record["suites"]["askmind"]["acc"] == 1.0 and record["suites"]["askmind"]["n"] == 2
    for step in (1, 2):  # vLLM's CPU build where .venv-vllm exists, else askrl's transformers server
        log = (ckpt / "eval" / f"global_step_{step}" / "server.log").read_text(errors="replace")
        assert ("vllm.entrypoints.openai.api_server" in log) == (vllm_python() is not None), log[-2000:]
    assert (ckpt / "merged" / "global_step_2" / "config.json").is_file()
    rows = eval_rows(tmp_path)
    assert {1, 2} <= set(rows) and all(rows[s]["eval/askmind/acc"] == 1.0 for s in (1, 2))

    # The export's vLLM serve check has its own test (tests/integration/eval_hooks/checkpoint/test_checkpoint_export.py)
    summary = export(ckpt, tmp_path / "export", tmp_path / "export.log", "--skip-vllm")
    assert summary["step"] == 2
    card = (tmp_path / "export" / "README.md").read_text()
    assert "at step 2" in card and "reward fingerprint" in card and "| askmind |" in card
