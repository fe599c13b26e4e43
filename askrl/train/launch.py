"""Stage 5, launch: start Ray and run VERL's trainer to the end (or, for ``askrl.dry_run``, print the config).

Mirrors ``verl.trainer.main_ppo.main``: ``run_ppo`` does ``ray.init(**ray_kwargs.ray_init)`` and runs
:mod:`askrl.trainer.task_runner`'s TaskRunner. On CPU an unset ``ray_kwargs.ray_init._temp_dir`` gets a fresh
private dir first, unless the driver joins a running cluster (``ray_init.address: HOST:PORT``, multi-node). While
it trains, a quiet console (:mod:`askrl.train.console`) shows the progress bar, one metrics line per step and
evaluation results (:class:`askrl.train.progress.StepWatcher`); at the end every run prints its summary table
(:mod:`askrl.train.summary`).

    launch(check(prepare(resolve(compose(["recipe=smoke", "profile=cpu"])))))
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time

from omegaconf import DictConfig, OmegaConf, open_dict

from askrl.train import console
from askrl.train.check import Checked
from askrl.train.preflight import joins_cluster
from askrl.train.progress import StepWatcher
from askrl.train.summary import print_summary, summary_rows

logger = logging.getLogger(__name__)


def launch(checked: Checked) -> None:
    """Stage 5: the dry run's YAML, or Ray + VERL's trainer with progress, then the summary table."""
    import ray

    from askrl import _verl
    from askrl.trainer.task_runner import task_runner_class

    cfg, settings = checked.cfg, checked.settings
    if settings.dry_run:
        sys.stdout.write(OmegaConf.to_yaml(cfg))
        return
    ray_init = cfg.ray_kwargs.ray_init
    # A driver that joins a running cluster (multi-node) uses the temp dir of the node it attaches to.
    if settings.platform == "cpu" and not joins_cluster(ray_init) and ray_init.get("_temp_dir") is None:
        with open_dict(cfg):
            cfg.ray_kwargs.ray_init._temp_dir = _private_ray_dir()
    logger.info("launching VERL trainer; Ray temp dir %s", cfg.ray_kwargs.ray_init.get("_temp_dir"))
    watcher = StepWatcher(checked.run_dir, total_steps(cfg), console.stream()) if console.is_quiet() else None
    started = time.time()
    if watcher is not None:
        watcher.start()
    try:
        _verl.run_ppo(cfg, task_runner_class=task_runner_class())
    finally:
        if watcher is not None:
            watcher.stop()
        if ray.is_initialized():
            ray.shutdown()
    rows = summary_rows(checked.run_dir, wall_s=time.time() - started, started=started, log_path=console.log_path())
    print_summary(rows, console.stream())


def _private_ray_dir() -> str:
    # Short on purpose: Ray puts unix sockets under it, and socket paths must stay below 108 bytes.
    return tempfile.mkdtemp(prefix="askrl-ray-", dir="/tmp")


def total_steps(cfg: DictConfig) -> int | None:
    """The step count VERL will train: ``trainer.total_training_steps``, else batches per epoch x epochs."""
    if cfg.trainer.get("total_training_steps"):
        return int(cfg.trainer.total_training_steps)
    import pyarrow.parquet as pq

    files = cfg.data.train_files
    files = [files] if isinstance(files, str) else list(files)
    try:
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    except (OSError, ValueError):
        return None  # the bar then shows steps without a total
    batches = rows // int(cfg.data.train_batch_size)
    return batches * int(cfg.trainer.total_epochs) or None
