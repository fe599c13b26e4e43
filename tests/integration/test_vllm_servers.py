"""askrl's vLLM paths on vLLM's CPU build (``.venv-vllm``) with SmolLM2: the judge servers, structured outputs, data
building.

One pair of servers for the module and the e2e tests (the session fixture ``vllm_judges``: ``python -m askrl.serve
judge --cpu`` on two ports, replies capped at ``VLLM_MAX_NEW_TOKENS`` server-side). Nothing is faked: real vLLM
servers, askrl's judge client and ``openai``. Skipped where no vLLM interpreter exists.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import openai
import pytest
from pydantic import BaseModel

from askrl.bench.vllm_metrics import REQUESTS, vllm_counter
from askrl.judge.probe import check_judge_schemas
from askrl.judge.structured import SentSchema, check_schemas, send_schema, sent_schemas, training_schemas

# one worker for both modules of the session's vLLM judge pair (tests/conftest.py: vllm_judges), so it starts once
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800), pytest.mark.xdist_group("vllm_judges")]
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
