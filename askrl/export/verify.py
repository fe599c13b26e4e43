"""Checks that an exported model is the trained actor: it loads, it answers a fixed prompt set greedily exactly as
the actor checkpoint does, and (where vLLM is installed) vLLM serves it and answers the same prompts with the same
greedy tokens (:data:`PROMPTS`: 4 prompts, :data:`NEW_TOKENS` = 16 new tokens each).

Why an independent reference: the export goes through VERL's merger (shard concatenation, bf16 cast, tied weights
dropped, LoRA adapter split off) and askrl's LoRA fold. The reference is rebuilt here straight from the actor's
FSDP shards (DTensor local shards concatenated along their placement, LoRA folded as W + alpha/r * B @ A), rounded
to the export's dtype, so a wrong key, shard order, transpose or LoRA scale in the export path changes the tokens.
Both models compute in fp32, so the comparison is of weights, not of bf16 kernels.

    greedy = compare_greedy(export_dir, actor_dir)      # raises ExportError on a mismatch
    vllm_check(export_dir, greedy)                       # None (with a logged line) when vLLM is not installed
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from askrl.errors import AskrlError, ConfigError

logger = logging.getLogger(__name__)

PROMPT = "What is 12 + 7? Answer briefly."
#: The fixed prompt set of both greedy checks; the first is the one the model card and the summary show.
PROMPTS = (PROMPT, "Name the three primary colours.", "Write one sentence about the sea.",
           "Which is heavier, a kilogram of iron or a kilogram of feathers?")
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


def _greedy(model: Any, tokenizer: Any, prompt: str) -> tuple[list[int], Any]:
    """Greedy continuation of ``prompt`` and the logits over prompt and continuation."""
    import torch

    ids = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
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
    answers, gap = [], 0.0
    for prompt in PROMPTS:
        (got, got_logits), (want, want_logits) = _greedy(exported, tokenizer, prompt), _greedy(reference, tokenizer, prompt)
        if got != want:
            raise ExportError(f"{export_dir}: greedy output differs from the actor checkpoint's on {prompt!r}: "
                              f"export {tokenizer.decode(got)!r} vs actor {tokenizer.decode(want)!r}")
        # Same weights at the same precision give the same logits up to float noise; a degenerate greedy answer
        # (a random test model repeating one token) would hide a wrong weight, the logits do not.
        gap = max(gap, float((got_logits - want_logits).abs().max()))
        if gap > LOGIT_TOLERANCE:
            raise ExportError(f"{export_dir}: logits differ from the actor checkpoint's by up to {gap:.3g} "
                              f"(tolerance {LOGIT_TOLERANCE}) on {prompt!r}")
        answers.append(want)
    return {"prompt": PROMPT, "tokens": answers[0], "text": tokenizer.decode(answers[0], skip_special_tokens=True),
            "max_logit_gap": gap, "answers": answers}


def vllm_check(export_dir: Path, greedy: dict[str, Any], *, port: int | None = None,
               timeout_s: float = 900.0) -> dict[str, Any] | None:
    """vLLM serves the export (``python -m askrl.serve model --backend vllm``, as users serve it) and answers every
    prompt of :data:`PROMPTS` with ``greedy["answers"]``, token for token.

    ``greedy`` is :func:`compare_greedy`'s result (transformers on the actor's own weights), so an export that
    vLLM reads differently from the trained weights fails here. The prompts go in as the chat template's token ids
    (``/v1/completions``), so vLLM's tokenizer and template handling cannot hide or cause a difference; each
    answer is compared up to its first end-of-sequence token (vLLM stops there, transformers may pad after it).
    Returns None (logged) where no vLLM interpreter exists.
    """
    from transformers import AutoTokenizer

    from askrl.serve.vllm_env import vllm_python, vllm_server
    from eval_hooks.checkpoint.evaluate import free_port

    if vllm_python() is None:
        logger.warning("vLLM is not installed here: the vLLM serve check of %s is skipped", export_dir)
        return None
    from openai import OpenAI

    tokenizer = AutoTokenizer.from_pretrained(export_dir)
    eos = set(_eos_ids(export_dir, tokenizer))
    log = export_dir.parent / f".{export_dir.name}.vllm.log"
    try:
        with vllm_server(export_dir, port=port or free_port(), log=log, timeout_s=timeout_s) as base_url:
            client = OpenAI(base_url=base_url, api_key="EMPTY")
            served = []
            for prompt in PROMPTS:
                ids = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                                    tokenize=True, return_dict=True)["input_ids"]
                reply = client.completions.create(model="default", prompt=ids, max_tokens=NEW_TOKENS,
                                                  temperature=0.0, extra_body={"return_token_ids": True})
                served.append(list(reply.choices[0].model_extra["token_ids"]))
    except ConfigError as err:
        raise ExportError(str(err)) from None
    for prompt, got, want in zip(PROMPTS, served, greedy["answers"], strict=True):
        if _until_eos(got, eos) != _until_eos(want, eos):
            raise ExportError(f"{export_dir}: vLLM's greedy answer differs from the actor checkpoint's on {prompt!r}: "
                              f"vLLM {tokenizer.decode(got)!r} vs actor {tokenizer.decode(want)!r}; see {log}")
    return {"served": True, "prompts": len(PROMPTS), "new_tokens": NEW_TOKENS, "answers": served,
            "text": tokenizer.decode(served[0], skip_special_tokens=True)}


def _eos_ids(export_dir: Path, tokenizer: Any) -> list[int]:
    from transformers import GenerationConfig

    ids = GenerationConfig.from_pretrained(export_dir).eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    return ids + ([tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else [])


def _until_eos(tokens: list[int], eos: set[int]) -> list[int]:
    """``tokens`` cut before the first end-of-sequence id."""
    for i, token in enumerate(tokens):
        if token in eos:
            return tokens[:i]
    return tokens
