"""``askrl.export.verify`` folds a LoRA actor as ``W + (alpha / r) * B @ A``: an export folded with that scale
verifies, one folded with any other scale is refused (issue 18 item 5: a wrong scale went unnoticed).

Real: the tiny random Qwen2 model, its tokenizer, HF save/load, ``compare_greedy``. The "actor checkpoint" is
written the way VERL's FSDP checkpoint lays it out for one rank (plain tensors, PEFT names, ``lora_train_meta``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from askrl.export.verify import ExportError, compare_greedy

TARGET = "model.layers.0.self_attn.q_proj"
RANK, ALPHA = 4, 32  # scale alpha / r = 8


def _actor(tmp_path: Path, tiny_model: Path) -> tuple[Path, dict[str, torch.Tensor], torch.Tensor]:
    """An actor dir with a LoRA adapter on one projection; returns it, the base weights and ``B @ A``."""
    base = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    weights = {k: v.detach().clone() for k, v in base.state_dict().items()}
    out_features, in_features = weights[f"{TARGET}.weight"].shape
    gen = torch.Generator().manual_seed(0)
    lora_a = torch.randn(RANK, in_features, generator=gen) * 0.5
    lora_b = torch.randn(out_features, RANK, generator=gen) * 0.5
    shard: dict[str, torch.Tensor] = {}
    for key, value in weights.items():
        if key == "lm_head.weight" and base.config.tie_word_embeddings:
            continue
        name = f"{TARGET}.base_layer.weight" if key == f"{TARGET}.weight" else key
        shard[f"base_model.model.{name}"] = value
    shard[f"base_model.model.{TARGET}.lora_A.default.weight"] = lora_a
    shard[f"base_model.model.{TARGET}.lora_B.default.weight"] = lora_b
    actor = tmp_path / "actor"
    (actor / "huggingface").mkdir(parents=True)
    torch.save(shard, actor / "model_world_size_1_rank_0.pt")
    (actor / "fsdp_config.json").write_text(json.dumps({"world_size": 1}))
    (actor / "lora_train_meta.json").write_text(json.dumps({"r": RANK, "lora_alpha": ALPHA}))
    base.config.save_pretrained(actor / "huggingface")
    return actor, weights, lora_b @ lora_a


def _export(tmp_path: Path, tiny_model: Path, weights: dict[str, torch.Tensor], delta: torch.Tensor, scale: float):
    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    folded = dict(weights)
    folded[f"{TARGET}.weight"] = weights[f"{TARGET}.weight"] + scale * delta
    model.load_state_dict(folded)
    out = tmp_path / f"export_scale_{scale:g}"
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_model).save_pretrained(out)
    return out


@pytest.mark.parametrize("wrong_scale", [1.0, RANK / ALPHA, ALPHA])  # no scale, r/alpha, alpha alone
def test_only_the_alpha_over_r_fold_verifies(tmp_path: Path, tiny_model: Path, wrong_scale: float) -> None:
    actor, weights, delta = _actor(tmp_path, tiny_model)
    good = _export(tmp_path, tiny_model, weights, delta, ALPHA / RANK)
    assert compare_greedy(good, actor)["max_logit_gap"] < 1e-3
    bad = _export(tmp_path, tiny_model, weights, delta, wrong_scale)
    with pytest.raises(ExportError, match="differ"):
        compare_greedy(bad, actor)
