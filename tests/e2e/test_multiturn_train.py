"""Two GRPO steps of online multi-turn clarification training on CPU: VERL's real trainer end to end.

Runs ``python -m askrl.train recipe=smoke profile=cpu`` (helper "cpu"'s launcher: FSDP2 actor over gloo, ``hf_cpu``
rollout, Ray) with the smoke recipe switched to askrl's clarify loop: AskMind rows built by
``askrl.data.verl_rows.records_to_rows`` from the project's AskBench-format AskMind file (``askbench_dir``, written
to a temporary parquet), the agent loop from ``askrl/rollout/agent_loops.yaml``,
the lexical judge (default ``askrl.judge``) as grader and simulated user, and ``askrl_turn_grpo`` advantages.

Faked: nothing inside the run. The policy is the tiny random model; because a random model almost never emits its
end-of-turn token, this test trains a *copy* of it whose ``generation_config.json`` lists 40 extra ordinary token
ids as end-of-sequence, so turns end after ~12 tokens and episodes go on to the simulated user's reply.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from transformers import AutoTokenizer

from askrl.bench.trainer_modes import policy_copy
from askrl.data.loading import load_records
from askrl.data.verl_rows import records_to_rows
from askrl.rollout import AGENT_NAME, agent_loop_config_path

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

REPO = Path(__file__).resolve().parents[2]
MAX_PROMPT_TOKENS = 96  # the demo's shortest AskMind prompts are 92 tokens long in the tiny tokenizer
RESPONSE_TOKENS = 320


def short_rows(askbench_dir: Path, tokenizer, count: int) -> list[dict]:
    """The first ``count`` AskMind rows whose chat-templated prompt fits ``MAX_PROMPT_TOKENS``."""
    loaded = load_records(askbench_dir / "ask_bench" / "ask_mind" / "test.jsonl")
    rows = []
    for row in records_to_rows(loaded.records):
        ids = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=True)["input_ids"]
        if len(ids) <= MAX_PROMPT_TOKENS:
            rows.append(row)
    if len(rows) < count:
        pytest.skip(f"only {len(rows)} AskMind prompts fit {MAX_PROMPT_TOKENS} tokens of the tiny tokenizer")
    return rows[:count]


def metric(lines: list[str], step: int, name: str) -> float | None:
    """A value from VERL's console logger line ``... step:N - key:value - ...`` (values may print as np.float64(x))."""
    for line in lines:
        if f"step:{step} - " in line:
            match = re.search(rf" - {re.escape(name)}:(?:np\.\w+\()?([-0-9.eE+]+)", line)
            if match:
                return float(match.group(1))
    return None


def test_two_steps_of_multiturn_clarification_training(askbench_dir: Path, tiny_model: Path, tmp_path: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    rows = short_rows(askbench_dir, tokenizer, count=6)
    assert all(r["agent_name"] == AGENT_NAME for r in rows)
    train, val = tmp_path / "train.parquet", tmp_path / "val.parquet"
    pd.DataFrame(rows[:4]).to_parquet(train)
    pd.DataFrame(rows[4:]).to_parquet(val)
    model = policy_copy(tiny_model, tmp_path / "policy")

    overrides = [
        "recipe=smoke",
        "profile=cpu",
        f"data.train_files={train}",
        f"data.val_files={val}",
        f"data.max_prompt_length={MAX_PROMPT_TOKENS}",
        f"data.max_response_length={RESPONSE_TOKENS}",
        f"actor_rollout_ref.model.path={model}",
        f"actor_rollout_ref.rollout.agent.agent_loop_config_path={agent_loop_config_path()}",
        f"actor_rollout_ref.rollout.agent.default_agent_loop={AGENT_NAME}",
        "algorithm.adv_estimator=askrl_turn_grpo",
        "reward.custom_reward_function.path=null",
        "trainer.val_before_train=true",
        "trainer.save_freq=-1",
        f"trainer.default_local_dir={tmp_path / 'ckpt'}",
        "askrl.verbose=true",  # this test reads VERL's console metrics lines
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "train.log"
    with log.open("w") as sink:
        proc = subprocess.run(
            [sys.executable, "-m", "askrl.train", *overrides],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            timeout=1100,
        )
    text = log.read_text()
    assert proc.returncode == 0, text[-6000:]
    lines = [line.strip() for line in text.splitlines()]

    # validation ran the clarify loop before training: its rollout/... and reward keys reached VERL's metrics
    assert re.search(r"val-(core|aux)/askrl/askmind/rollout/num_turns", text), text[-4000:]
    assert re.search(r"val-(core|aux)/askrl/askmind/rollout/ask_rate", text)
    # two optimiser steps on multi-turn episodes (num_turns counts messages: question, turns and replies)
    for step in (1, 2):
        assert metric(lines, step, "actor/pg_loss") is not None, f"no step {step} in the log"
    assert max(metric(lines, s, "training/num_turns/max") or 0 for s in (1, 2)) >= 4  # at least one user reply
