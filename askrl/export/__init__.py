"""Export a training run's checkpoint as a plain Hugging Face folder that vLLM serves, checked and documented.

    python -m askrl.export --run checkpoints/askrl/askmind_grpo --out /models/askmind_step500        # latest step
    python -m askrl.export --run RUN --step 200 --out /models/askmind_step200
    vllm serve /models/askmind_step500 --served-model-name default

What it does: picks the checkpoint (``--step``, else ``latest_checkpointed_iteration.txt``, else the highest
``global_step_N`` with an actor), merges it with VERL's model merger (LoRA adapters folded into the base weights,
:mod:`eval_hooks.merge`), then verifies (:mod:`askrl.export.verify`): the folder loads with its tokenizer and chat
template, its greedy answers to a fixed prompt set equal the actor checkpoint's token for token, and where vLLM is
installed (``.venv-vllm`` on CPU) vLLM serves it and gives the same greedy tokens (otherwise one line says the
check was skipped). Finally it writes ``README.md``, a model
card (:mod:`askrl.export.model_card`), and prints one JSON line: ``{"out", "step", "greedy", "vllm"}``.

Fails with exit code 2 and one line naming the folder and the problem (no checkpoint, no such step, a mismatch).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from askrl.errors import ConfigError
from eval_hooks.history import EvalHistory, EvalRecord
from eval_hooks.merge import actor_dir, merge_checkpoint
from eval_hooks.provenance import PROVENANCE_FILE

logger = logging.getLogger(__name__)

_STEP_DIR = re.compile(r"^global_step_(\d+)$")


def checkpoint_steps(run: Path) -> list[int]:
    """Steps of ``run`` that still hold an actor checkpoint, ascending."""
    steps = []
    for child in run.iterdir() if run.is_dir() else []:
        match = _STEP_DIR.match(child.name)
        if match and (child / "actor" / "fsdp_config.json").is_file():
            steps.append(int(match.group(1)))
    return sorted(steps)


def choose_step(run: Path, step: int | None) -> int:
    """``step`` if its actor checkpoint exists, else the run's latest checkpoint."""
    steps = checkpoint_steps(run)
    if not steps:
        raise ConfigError(f"{run}: no global_step_N/actor checkpoint here (is --run a trainer.default_local_dir?)")
    if step is not None:
        if step not in steps:
            raise ConfigError(f"{run}: no actor checkpoint for step {step}; checkpoints kept: {steps}")
        return step
    latest = run / "latest_checkpointed_iteration.txt"
    if latest.is_file() and latest.read_text().strip().isdigit() and int(latest.read_text()) in steps:
        return int(latest.read_text())
    return steps[-1]


def evaluation_of(run: Path, step: int) -> EvalRecord | None:
    """The last history record of ``step`` (an evaluation that was redone keeps only its final outcome)."""
    records = [r for r in EvalHistory(run).records() if r.global_step == step]
    return records[-1] if records else None


def export(run: Path, out: Path, step: int | None = None, *, check_vllm: bool = True) -> dict[str, Any]:
    """Merge, verify and document one checkpoint of ``run`` into ``out``; return the summary printed by the CLI."""
    from askrl.export.model_card import model_card
    from askrl.export.verify import compare_greedy, vllm_check

    if out.exists() and any(out.iterdir()) and not (out / "config.json").is_file():
        raise ConfigError(f"--out {out} exists and is not a model folder; choose a new or empty folder (it is replaced)")
    chosen = choose_step(run, step)
    checkpoint = run / f"global_step_{chosen}"
    actor = actor_dir(checkpoint)
    merge_checkpoint(checkpoint, out, overwrite=True)
    greedy = compare_greedy(out, actor)
    vllm = vllm_check(out, greedy) if check_vllm else None
    provenance_path = checkpoint / PROVENANCE_FILE
    provenance = json.loads(provenance_path.read_text()) if provenance_path.is_file() else {}
    if not provenance:
        logger.warning("%s is missing: the model card lists the training setup as unknown", provenance_path)
    (out / "README.md").write_text(model_card(step=chosen, provenance=provenance, evaluation=evaluation_of(run, chosen),
                                              greedy=greedy))
    return {"out": str(out), "step": chosen, "greedy": greedy["text"], "max_logit_gap": greedy["max_logit_gap"],
            "vllm": vllm}
