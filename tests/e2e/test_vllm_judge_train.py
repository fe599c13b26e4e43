"""Two CPU training steps graded by two vLLM judge servers (SmolLM2 on vLLM's CPU build), end to end.

The judges are the session's ``vllm_judges`` (``python -m askrl.serve judge --cpu`` on two ports, replies capped
server-side). Real: VERL's trainer, Ray, the clarify loop, askrl's judge client with ``response_format``
``json_schema`` (vLLM's structured outputs), the preflight's schema check. The policy is the tiny model copy that
ends its turns after a dozen tokens (``askrl.bench.trainer_modes.policy_copy``), so every turn is graded.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

from askrl.bench.trainer_modes import policy_copy, read_steps
from askrl.bench.vllm_metrics import REQUESTS, vllm_counter

# one worker for both modules of the session's vLLM judge pair (tests/conftest.py: vllm_judges), so it starts once
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800), pytest.mark.xdist_group("vllm_judges")]
TIMEOUT_S = 1200


def test_two_cpu_steps_graded_by_two_vllm_judges_with_structured_outputs(
    tmp_path: Path, tiny_model: Path, vllm_judges: list[str], run_bounded
) -> None:
    endpoints = ",".join(f'{{name:vllm{i},base_url:"{url}",model:default}}' for i, url in enumerate(vllm_judges))
    run_dir = tmp_path / "ckpt"
    cmd = [
        sys.executable, "-m", "askrl.train", "recipe=askmind_grpo",
        "askrl.cpu_model=tiny", f"actor_rollout_ref.model.path={policy_copy(tiny_model, tmp_path / 'policy')}",
        "askrl.judge.backend=llm", f"askrl.judge.client.endpoints=[{endpoints}]",
        # v1's verdicts have no free-text reasoning first: SmolLM2's v2 reasoning ran past the reply cap, every
        # verdict was cut (counted as invalid_json, all episodes masked) and VERL stopped on an empty mask.
        "+askrl.judge.prompt_version=v1",
        "trainer.total_training_steps=2", "trainer.save_freq=-1", "trainer.logger=[console]",
        "askrl.cpu.eval_suites=[]",
        "askrl.cpu.rollout_n=2",  # groups of 2: half the judge calls of the CPU profile's 4, still a GRPO group
        f"trainer.default_local_dir={run_dir}",
        f"ray_kwargs.ray_init._temp_dir={tempfile.mkdtemp(prefix='askrl-vllm-judge-', dir='/tmp')}",
    ]  # fmt: skip
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1",
           "ASKRL_DATA_DIR": ""}
    env.pop("VERL_PLATFORM", None)
    served_before = [vllm_counter(url, REQUESTS) for url in vllm_judges]
    code, wall_s = run_bounded(cmd, env=env, timeout_s=TIMEOUT_S, log=tmp_path / "train.log")
    log = (tmp_path / "train.log").read_text(errors="replace")
    assert code == 0, log[-6000:]
    served = [vllm_counter(url, REQUESTS) - before for url, before in zip(vllm_judges, served_before, strict=True)]
    steps = read_steps(run_dir)
    print(f"2 CPU steps with two vLLM judges in {wall_s:.1f}s; requests per judge {served}; "
          + "; ".join(f"step {i + 1}: " + ", ".join(f"{k}={m[k]:.3g}" for k in sorted(m) if k.startswith("judge/")
                                                     or k == "reward/judge_failed_frac")
                      for i, m in enumerate(steps)))
    assert len(steps) == 2
    assert all(n > 0 for n in served), served  # the client spread the calls over both servers
    for m in steps:
        assert m["judge/grading_calls"] > 0  # turns were graded by the LLM judge, not the lexical one
        assert "judge/failed_episodes" in m and "judge/grading_retries" in m  # failures and re-asks are counted
        assert m["reward/judge_failed_frac"] < 1.0  # some episodes got every verdict parsed (guided decoding)
        assert 0.0 < m["judge/parse_ok_frac"] <= 1.0  # the share of vLLM's replies that parsed, counted per step
