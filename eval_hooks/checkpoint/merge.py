"""Merge one FSDP checkpoint into a Hugging Face folder with VERL's model merger, LoRA adapters folded in.

Why here: the ``serve`` backend serves ``<run dir>/merged/global_step_N`` (outside ``global_step_N/``, whose
``actor/`` VERL deletes when it rotates checkpoints), and ``python -m askrl.export`` publishes the same merge. VERL's
``FSDPModelMerger`` concatenates the shards, casts to bf16 and writes weights, config, tokenizer and generation
config; a LoRA run's adapter comes out separately (``lora_adapter/``), so it is merged into the base weights here:
vLLM and transformers then load a plain model.

The merge is written to a temporary sibling and renamed into place, so a folder with ``config.json`` is complete.
Runs on CPU without a process group; needs host RAM for all shards plus the bf16 copy.

    python -m eval_hooks.checkpoint.merge --checkpoint RUN/global_step_20 --out RUN/merged/global_step_20
    merge_checkpoint(Path("RUN/global_step_20"), Path("/tmp/out"))
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

from askrl.errors import AskrlError, ConfigError

logger = logging.getLogger(__name__)

LORA_ADAPTER = "lora_adapter"


def merged_dir(run_dir: str | Path, step: int) -> Path:
    """``<run dir>/merged/global_step_N``."""
    return Path(run_dir) / "merged" / f"global_step_{step}"


def actor_dir(checkpoint_dir: Path) -> Path:
    """``global_step_N/actor``, checked to hold FSDP shards and the HF config VERL saved next to them."""
    actor = checkpoint_dir / "actor"
    if not (actor / "fsdp_config.json").is_file():
        raise ConfigError(f"{checkpoint_dir}: no FSDP actor checkpoint (missing actor/fsdp_config.json)")
    if not (actor / "huggingface" / "config.json").is_file():
        raise ConfigError(f"{checkpoint_dir}: actor/huggingface/config.json is missing (VERL saves it with the shards)")
    return actor


def fold_lora(folder: Path) -> bool:
    """Merge ``folder/lora_adapter`` into the base weights in ``folder`` (fp32 arithmetic, saved as bf16).

    Returns False when there is no adapter. The adapter folder is removed afterwards: the result is a plain model.
    """
    adapter = folder / LORA_ADAPTER
    if not adapter.is_dir():
        return False
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, adapter).merge_and_unload()
    for old in folder.glob("*.safetensors"):
        old.unlink()
    model.to(torch.bfloat16).save_pretrained(folder)
    shutil.rmtree(adapter)
    logger.info("LoRA adapter merged into the base weights in %s", folder)
    return True


def merge_checkpoint(checkpoint_dir: Path, out: Path, *, overwrite: bool = False) -> Path:
    """Merge ``checkpoint_dir/actor`` into the HF folder ``out``; return ``out``."""
    from askrl import _verl

    actor = actor_dir(checkpoint_dir)
    if (out / "config.json").is_file() and not overwrite:
        return out
    tmp = out.parent / f".{out.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    config = _verl.ModelMergerConfig(
        operation="merge",
        backend="fsdp",
        local_dir=str(actor),
        target_dir=str(tmp),
        hf_model_config_path=str(actor / "huggingface"),
    )
    merger = _verl.FSDPModelMerger(config)
    merger.merge_and_save()
    merger.cleanup()
    fold_lora(tmp)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    logger.info("merged %s into %s", actor, out)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eval_hooks.checkpoint.merge", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="a global_step_N folder of a run")
    parser.add_argument("--out", type=Path, required=True, help="the HF folder to write")
    parser.add_argument("--overwrite", action="store_true", help="merge again even if OUT already holds a model")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        merge_checkpoint(args.checkpoint, args.out, overwrite=args.overwrite)
    except AskrlError as err:
        sys.stderr.write(f"eval_hooks.checkpoint.merge: {err}\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
