"""Export a training run's checkpoint as a plain Hugging Face folder that vLLM serves, checked and documented.

    python -m askrl.export --run checkpoints/askrl/askmind_grpo --out /models/askmind_step500        # latest step
    python -m askrl.export --run RUN --step 200 --out /models/askmind_step200
    vllm serve /models/askmind_step500 --served-model-name default

What it does: picks the checkpoint (``--step``, else ``latest_checkpointed_iteration.txt``, else the highest
``global_step_N`` with an actor), merges it with VERL's model merger (LoRA adapters folded into the base weights,
:mod:`eval_hooks.checkpoint.merge`), then verifies (:mod:`askrl.export.verify`): the folder loads with its tokenizer and chat
template, its greedy answers to a fixed prompt set equal the actor checkpoint's token for token, and where vLLM is
installed (``.venv-vllm`` on CPU) vLLM serves it and gives the same greedy tokens (otherwise one line says the
check was skipped). Finally it writes ``README.md``, a model card (:mod:`askrl.export.model_card`), gives every
file the same mode (what a plain file gets under the umask: the merger writes its weights 0600), records the files
it wrote in ``.askrl_export.json`` and prints one JSON line: ``{"out", "step", "greedy", "vllm"}``.

It never deletes a file it did not write: an ``--out`` holding anything but an earlier export's own files is
refused, naming those files; ``--force`` replaces the folder and lists each file it replaces or removes. The
console shows askrl's lines only; the merger's, transformers' and vLLM's output goes to
``<run>/logs/export-<time>.log`` (``--verbose`` prints it).

Fails with exit code 2 and one line naming the folder and the problem (no checkpoint, no such step, a mismatch,
files it did not write).
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from askrl.errors import ConfigError
from askrl.train.console import notice
from eval_hooks.checkpoint.history import EvalHistory, EvalRecord
from eval_hooks.checkpoint.merge import actor_dir, merge_checkpoint
from eval_hooks.checkpoint.provenance import PROVENANCE_FILE

logger = logging.getLogger(__name__)

_STEP_DIR = re.compile(r"^global_step_(\d+)$")
MANIFEST = ".askrl_export.json"


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


def evaluation_config(run: Path, step: int) -> dict[str, Any] | None:
    """The ``config`` block of the step's evaluation (``eval/global_step_N/summary.json``): which data it read."""
    from eval_hooks.checkpoint.history import step_dir
    from eval_hooks.summary import load_summary

    try:
        return load_summary(step_dir(run, step))[1]
    except (FileNotFoundError, ValueError):
        return None


def evaluation_of(run: Path, step: int) -> EvalRecord | None:
    """The last history record of ``step`` (an evaluation that was redone keeps only its final outcome)."""
    records = [r for r in EvalHistory(run).records() if r.global_step == step]
    return records[-1] if records else None


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def check_out(out: Path, *, force: bool) -> list[str]:
    """The files an export into ``out`` replaces; refuse files an earlier export did not write, unless ``force``."""
    if not out.exists():
        return []
    if not out.is_dir():
        raise ConfigError(f"--out {out} is a file; choose a new or empty folder")
    files = _files(out)
    manifest = out / MANIFEST
    ours = set(json.loads(manifest.read_text())["files"]) | {MANIFEST} if manifest.is_file() else set()
    foreign = [f for f in files if f not in ours]
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise ConfigError(f"--out {out} holds {len(foreign)} file(s) askrl.export did not write ({shown}); it never "
                          "deletes them: choose a new or empty folder, or pass --force to replace the folder")
    return files


def _same_mode(folder: Path) -> int:
    """Give every file the mode a new file gets under the umask (the merger writes its weights 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    mode = 0o666 & ~umask
    for name in _files(folder):
        (folder / name).chmod(mode)
    return mode


def export(run: Path, out: Path, step: int | None = None, *, check_vllm: bool = True,
           force: bool = False) -> dict[str, Any]:
    """Merge, verify and document one checkpoint of ``run`` into ``out``; return the summary printed by the CLI."""
    from askrl.export.model_card import model_card
    from askrl.export.verify import compare_greedy, vllm_check

    before = check_out(out, force=force)
    chosen = choose_step(run, step)
    notice(f"exporting step {chosen} of {run} into {out}")
    checkpoint = run / f"global_step_{chosen}"
    actor = actor_dir(checkpoint)
    merge_checkpoint(checkpoint, out, overwrite=True)
    greedy = compare_greedy(out, actor)
    notice(f"greedy answer matches the actor checkpoint token for token: {greedy['text']!r}")
    vllm = vllm_check(out, greedy) if check_vllm else None
    provenance_path = checkpoint / PROVENANCE_FILE
    provenance = json.loads(provenance_path.read_text()) if provenance_path.is_file() else {}
    if not provenance:
        logger.warning("%s is missing: the model card lists the training setup as unknown", provenance_path)
    (out / "README.md").write_text(model_card(step=chosen, provenance=provenance, evaluation=evaluation_of(run, chosen),
                                              greedy=greedy, eval_config=evaluation_config(run, chosen)))
    written = _files(out)
    (out / MANIFEST).write_text(json.dumps({"step": chosen, "run": str(run), "files": written}, indent=1) + "\n")
    for name in before:
        notice(f"{'replaced' if name in written or name == MANIFEST else 'removed'}: {out / name}")
    mode = _same_mode(out)
    notice(f"wrote {out}: {len(written)} files, mode {mode:04o}")
    return {"out": str(out), "step": chosen, "greedy": greedy["text"], "max_logit_gap": greedy["max_logit_gap"],
            "vllm": vllm}
