"""Checks that an exported model is the trained actor: it loads, it answers a fixed prompt greedily exactly as the
actor checkpoint does, and (where vLLM is installed) vLLM serves it.

Why an independent reference: the export goes through VERL's merger (shard concatenation, bf16 cast, tied weights
dropped, LoRA adapter split off) and askrl's LoRA fold. The reference is rebuilt here straight from the actor's
FSDP shards (DTensor local shards concatenated along their placement, LoRA folded as W + alpha/r * B @ A), rounded
to the export's dtype, so a wrong key, shard order, transpose or LoRA scale in the export path changes the tokens.
Both models compute in fp32, so the comparison is of weights, not of bf16 kernels.

    greedy = compare_greedy(export_dir, actor_dir)      # raises ExportError on a mismatch
    vllm_check(export_dir)                               # None (with a logged line) when vLLM is not installed
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from askrl.errors import AskrlError

logger = logging.getLogger(__name__)

PROMPT = "What is 12 + 7? Answer briefly."
NEW_TOKENS = 16
LOGIT_TOLERANCE = 1e-3
_LORA_A = "lora_A.default.weight"
_LORA_B = "lora_B.default.weight"


class ExportError(AskrlError):
    """The exported folder is not a faithful, loadable copy of the checkpoint."""


def actor_state_dict(actor: Path) -> dict[str, Any]:
    """The actor's full parameters from its FSDP shards (1-D meshes: FSDP without TP), in the training dtype."""
    import torch
    from torch.distributed.tensor import DTensor

    world = int(json.loads((actor / "fsdp_config.json").read_text())["world_size"])
    shards = [torch.load(actor / f"model_world_size_{world}_rank_{r}.pt", map_location="cpu", weights_only=False)
              for r in range(world)]
    full: dict[str, Any] = {}
    for key in shards[0]:
        parts = [s[key] for s in shards]
        if not isinstance(parts[0], DTensor):
            full[key] = parts[0]
            continue
        if len(parts[0].placements) != 1:
            raise ExportError(f"{actor}: {key} is sharded over a {len(parts[0].placements)}-D mesh; only FSDP "
                              "without tensor parallelism can be verified")
        placement = parts[0].placements[0]
        locals_ = [p._local_tensor for p in parts]
        full[key] = torch.cat(locals_, dim=placement.dim) if placement.is_shard() else locals_[0]
    return full


def fold_lora_state(state: dict[str, Any], actor: Path) -> dict[str, Any]:
    """PEFT-named LoRA parameters folded into plain HF names: ``W = W_base + (alpha / r) * B @ A``."""
    a_keys = [k for k in state if k.endswith(_LORA_A)]
    if not a_keys:
        return state
    meta_path = actor / "lora_train_meta.json"
    if not meta_path.is_file():
        raise ExportError(f"{actor}: LoRA weights without lora_train_meta.json (rank and alpha)")
    meta = json.loads(meta_path.read_text())
    scale = float(meta["lora_alpha"]) / float(meta["r"])
    out = dict(state)
    for key in a_keys:
        prefix = key[: -len(_LORA_A)]
        a, b = out.pop(key).float(), out.pop(prefix + _LORA_B).float()
        base = prefix + "base_layer.weight"
        out[base] = out[base].float() + scale * (b @ a)
    return {k.replace("base_model.model.", "", 1).replace(".base_layer.", "."): v for k, v in out.items()}


def _greedy(model: Any, tokenizer: Any) -> tuple[list[int], Any]:
    """Greedy continuation of :data:`PROMPT` and the logits over prompt and continuation."""
    import torch

    ids = tokenizer.apply_chat_template([{"role": "user", "content": PROMPT}], add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=NEW_TOKENS, do_sample=False)
        logits = model(out).logits[0]
    return out[0, ids["input_ids"].shape[1]:].tolist(), logits


def compare_greedy(export_dir: Path, actor: Path) -> dict[str, Any]:
    """Greedy tokens of the export and of the actor's own weights on :data:`PROMPT`; raise ExportError if they differ."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(export_dir)
    if not getattr(tokenizer, "chat_template", None):
        raise ExportError(f"{export_dir}: the tokenizer has no chat template")
    exported = AutoModelForCausalLM.from_pretrained(export_dir, dtype=torch.float32).eval()
    export_dtype = AutoConfig.from_pretrained(export_dir).dtype or torch.bfloat16
    reference = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(actor / "huggingface"),
                                                 dtype=torch.float32).eval()
    state = {k: v.to(export_dtype).float() for k, v in fold_lora_state(actor_state_dict(actor), actor).items()}
    missing, unexpected = reference.load_state_dict(state, strict=False)
    tied = {"lm_head.weight"} if reference.config.tie_word_embeddings else set()
    if set(missing) - tied or unexpected:
        raise ExportError(f"{actor}: shard names do not match the model: missing {sorted(set(missing) - tied)[:5]}, "
                          f"unexpected {sorted(unexpected)[:5]}")
    if tied:
        reference.tie_weights()
    reference.generation_config = exported.generation_config
    (got, got_logits), (want, want_logits) = _greedy(exported, tokenizer), _greedy(reference, tokenizer)
    if got != want:
        raise ExportError(f"{export_dir}: greedy output differs from the actor checkpoint's on {PROMPT!r}: "
                          f"export {tokenizer.decode(got)!r} vs actor {tokenizer.decode(want)!r}")
    # Same weights at the same precision give the same logits up to float noise; a degenerate greedy answer
    # (a random test model repeating one token) would hide a wrong weight, the logits do not.
    gap = float((got_logits - want_logits).abs().max())
    if gap > LOGIT_TOLERANCE:
        raise ExportError(f"{export_dir}: logits differ from the actor checkpoint's by up to {gap:.3g} "
                          f"(tolerance {LOGIT_TOLERANCE}) on {PROMPT!r}")
    return {"prompt": PROMPT, "tokens": got, "text": tokenizer.decode(got, skip_special_tokens=True), "max_logit_gap": gap}


def vllm_installed() -> bool:
    from importlib.util import find_spec

    return find_spec("vllm") is not None


def vllm_check(export_dir: Path, *, port: int = 8765, timeout_s: float = 900.0) -> dict[str, Any] | None:
    """Serve the export with ``vllm serve`` and ask it one chat question; None (logged) without vLLM."""
    if not vllm_installed():
        logger.warning("vLLM is not installed here: the vLLM serve check of %s is skipped", export_dir)
        return None
    import httpx

    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(export_dir),
           "--served-model-name", "default", "--host", "127.0.0.1", "--port", str(port)]
    log = export_dir.parent / f".{export_dir.name}.vllm.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ExportError(f"vllm serve {export_dir} exited with {proc.returncode}; see {log}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1.0)
        else:
            raise ExportError(f"vllm serve {export_dir} did not become healthy in {timeout_s:.0f}s; see {log}")
        from openai import OpenAI

        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="EMPTY")
        reply = client.chat.completions.create(model="default", messages=[{"role": "user", "content": PROMPT}],
                                               max_tokens=NEW_TOKENS, temperature=0.0)
        return {"served": True, "text": reply.choices[0].message.content}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
