"""Training entry point: five stages that read top to bottom, each a function in its own module.

    python -m askrl.train recipe=smoke profile=cpu                       # 2 GRPO steps on CPU, tiny model
    python -m askrl.train recipe=smoke profile=cpu askrl.cpu_model=smollm2
    python -m askrl.train recipe=smoke profile=cpu askrl.dry_run=true    # print the resolved config, exit
    python -m askrl.train recipe=askmind_grpo                            # the main job (CPU profile without a GPU)
    python -m askrl.train recipe=smoke --cfg job [--resolve]             # the composed config, nothing prepared

1. :mod:`~askrl.train.compose`: recipe, hardware profile and overrides -> one Hydra config;
2. :mod:`~askrl.train.resolve`: CPU fallbacks, the typed ``askrl:`` settings, the run dir;
3. :mod:`~askrl.train.prepare`: training data, wandb mode, the platform's env for this process and Ray's workers;
4. :mod:`~askrl.train.check`: VERL's validation, the reward announcement, askrl's preflight;
5. :mod:`~askrl.train.launch`: Ray and VERL's trainer, with progress and a summary table (or the dry run's YAML).

From stage 3 on, unless ``askrl.verbose=true`` or a dry run, the console shows only askrl's lines and Ray, VERL
and library output goes to ``<run dir>/logs/`` (:mod:`askrl.train.console`).

Fails with exit code 2 and a one-line message for an :class:`askrl.errors.AskrlError` (unknown recipe or key, bad
``askrl.*`` value, missing data source, preflight problems); errors inside VERL or Ray propagate in full.
"""

from __future__ import annotations

import contextlib
import sys

from omegaconf import DictConfig

from askrl.errors import AskrlError
from askrl.train import check, compose, console, launch, prepare, resolve

__all__ = ["main", "run"]


def run(args: list[str]) -> DictConfig:
    """All five stages in order; return the resolved config."""
    composed = compose.compose(args)
    resolved = resolve.resolve(composed)
    quiet = not (resolved.settings.verbose or resolved.settings.dry_run)
    with console.quiet_session(resolved.run_dir) if quiet else contextlib.nullcontext():
        console.release()
        prepared = prepare.prepare(resolved)
        checked = check.check(prepared)
        launch.launch(checked)
    return checked.cfg


def main(argv: list[str] | None = None) -> None:
    console.configure_logging()
    args = list(sys.argv[1:] if argv is None else argv)
    console.hold()
    try:
        if "--cfg" in args:
            compose.print_config(args)
            return
        run(args)
    except AskrlError as err:
        console.release()
        cause = getattr(err, "cause", None)  # raised in a Ray actor: the original error, without Ray's traceback
        sys.stderr.write(f"askrl.train: {cause if isinstance(cause, AskrlError) else err}\n")
        raise SystemExit(2) from None
    finally:
        console.release()
