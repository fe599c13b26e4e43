"""askrl's vLLM judge paths on vLLM's CPU build (``.venv-vllm``) with SmolLM2: the judge servers, structured outputs,
data building, and a CPU training step graded by the two servers.

One pair of servers for the module (the session fixture ``vllm_judges``: ``python -m askrl.serve judge --cpu`` on
two ports, replies capped at ``VLLM_MAX_NEW_TOKENS`` server-side; one module, so one test worker starts it once).
Nothing is faked: real vLLM servers, askrl's judge client and ``openai``; in the training run VERL's trainer, Ray,
the clarify loop, the judge client with ``response_format`` ``json_schema`` (vLLM's structured outputs) and the
preflight's schema check. The policy there is the tiny model copy that ends its turns after a dozen tokens
(``askrl.bench.trainer_modes.policy_copy``), so every turn is graded. Skipped where no vLLM interpreter exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import openai
import pytest
from pydantic import BaseModel

from askrl.bench.trainer_modes import policy_copy, read_steps
from askrl.bench.vllm_metrics import REQUESTS, vllm_counter
from askrl.judge.probe import check_judge_schemas
from askrl.judge.structured import SentSchema, check_schemas, send_schema, sent_schemas, training_schemas

# one worker for both modules of the session's vLLM judge pair (tests/conftest.py: vllm_judges), so it starts once

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
REPO = Path(__file__).resolve().parents[2]


def test_serve_judge_cpu_mode_serves_two_vllm_judges(vllm_judges: list[str]) -> None:
    assert len(vllm_judges) == 2 and len(set(vllm_judges)) == 2
    for url in vllm_judges:
        card = httpx.get(f"{url}/models", timeout=10).json()["data"][0]
        assert card["id"] == "default" and card["owned_by"] == "vllm"  # vLLM itself, not askrl's HF server
        assert "vllm:prefix_cache_queries_total" in httpx.get(f"{url.removesuffix('/v1')}/metrics", timeout=10).text
    reply = openai.OpenAI(base_url=vllm_judges[1], api_key="EMPTY").chat.completions.create(
        model="default", messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=12, temperature=0.0)
    assert "Paris" in (reply.choices[0].message.content or "")


def test_every_schema_askrl_sends_is_accepted_by_vllm_guided_decoding(vllm_judges: list[str]) -> None:
    schemas = sent_schemas()
    names = {s.name for s in schemas}
    # The registry really walks the schema modules: a verdict, a data-building and an evaluator schema are in it.
    assert {"TurnVerdictV2", "FinalVerdict", "UserReply", "BuildAskMind", "BuildCoverage", "ArbiterVerdict"} <= names
    client = openai.OpenAI(base_url=vllm_judges[0], api_key="EMPTY", max_retries=0, timeout=300)
    finished = []
    for sent in schemas:  # a refused schema raises openai.BadRequestError here
        choice = send_schema(client, "default", sent, max_tokens=64).choices[0]
        if choice.finish_reason == "stop":  # a complete reply: guided decoding kept it to the schema
            verdict = sent.model.model_validate_json(choice.message.content or "")
            if "hits pinned" in sent.label:
                assert len(verdict.hits) == 3  # type: ignore[attr-defined]
            finished.append(sent.label)
    print(f"{len(schemas)} schemas accepted; {len(finished)} finished within 64 tokens: {finished}")
    assert len(finished) >= 3
    assert check_judge_schemas([(vllm_judges[0], "default", None, "json_schema")], "v2") == []


def test_a_schema_vllm_refuses_is_one_line_naming_it_before_any_judge_call(vllm_judges: list[str]) -> None:
    bogus = SentSchema("Bogus", "Bogus (a broken test schema)",
                       {"type": "object", "properties": {"a": {"type": "nonsense"}}, "required": ["a"]}, BaseModel)
    problems = check_schemas(vllm_judges[1], "default", [*training_schemas("v2"), bogus])
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"judge endpoint {vllm_judges[1]}: refuses the structured-output schema Bogus (a "
                                  "broken test schema): "), problems[0]
    assert "nonsense" in problems[0]  # vLLM's own reason comes with it


def test_data_build_against_vllm_served_smollm2(vllm_judges: list[str], tmp_path: Path) -> None:
    out = tmp_path / "build"
    before = sum(vllm_counter(u, REQUESTS) for u in vllm_judges)
    cmd = [sys.executable, "-m", "askrl.data", "build", "--task", "askmind", "--input",
           str(REPO / "examples" / "qa_demo.jsonl"), "--out", str(out), "--llm-url", ",".join(vllm_judges),
           "--limit", "2", "--no-progress"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: some items failed after retries (re-run retries them)
    served = sum(vllm_counter(u, REQUESTS) for u in vllm_judges) - before
    lines = {name: (out / f"{name}.jsonl").read_text().splitlines() for name in ("records", "rejected", "failed")}
    print(f"data build on vLLM SmolLM2: {served:.0f} requests; {json.loads((out / 'report.json').read_text())}")
    assert served >= 2  # at least one generation per item went to vLLM
    assert sum(len(v) for v in lines.values()) == 2  # each item has exactly one outcome
    for line in lines["rejected"]:
        assert json.loads(line)["reason"]  # a counted gate reason


TIMEOUT_S = 1200


def test_a_cpu_step_graded_by_two_vllm_judges_with_structured_outputs(
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
        "trainer.total_training_steps=1", "trainer.save_freq=-1", "trainer.logger=[console]",
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
    print(f"1 CPU step with two vLLM judges in {wall_s:.1f}s; requests per judge {served}; "
          + "; ".join(f"step {i + 1}: " + ", ".join(f"{k}={m[k]:.3g}" for k in sorted(m) if k.startswith("judge/")
                                                     or k == "reward/judge_failed_frac")
                      for i, m in enumerate(steps)))
    assert len(steps) == 1  # one step graded by both servers; the trainer's later steps have their own tests
    assert all(n > 0 for n in served), served  # the client spread the calls over both servers
    for m in steps:
        assert m["judge/grading_calls"] > 0  # turns were graded by the LLM judge, not the lexical one
        assert "judge/failed_episodes" in m and "judge/grading_retries" in m  # failures and re-asks are counted
        assert m["reward/judge_failed_frac"] < 1.0  # some episodes got every verdict parsed (guided decoding)
        assert 0.0 < m["judge/parse_ok_frac"] <= 1.0  # the share of vLLM's replies that parsed, counted per step
