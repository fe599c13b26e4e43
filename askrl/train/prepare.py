"""Stage 3, prepare: what must exist before VERL's checks can pass: training data, tracking, this process's platform.

- ``askrl.task`` recipes get VERL parquet prepared from ``askrl.data`` (built once per source and settings, cached
  under ``$ASKRL_HOME/data``) in ``data.train_files`` / ``data.val_files``, and askrl's agent loops.
- ``askrl.platform=cpu`` with checkpoint evaluation on AskMind/AskOverconfidence suites, no ``askrl.eval.data_dir``
  and no ``$ASKRL_DATA_DIR``: the suites read generated demo records (a held-out seed, in the AskBench layout under
  ``$ASKRL_HOME/data``), as training does, so an offline ``make train`` evaluates instead of failing on the hub.
- wandb without credentials and without ``WANDB_MODE`` runs offline (``wandb sync`` later) instead of failing.
- ``askrl.platform=cpu``: the CPU backend's env vars (:func:`askrl.cpu.env.cpu_env_vars`) go into ``os.environ``
  (this process imports VERL's platform from them) and ``askrl.plugins`` registers the backend.
- The env vars every Ray worker needs (``ASKRL_LOG_LEVEL``, the CPU backend's, ``WANDB_MODE``) go into
  ``ray_kwargs.ray_init.runtime_env.env_vars``.

    prepared = prepare(resolve(compose(["recipe=askmind_grpo", "profile=cpu"])))
    prepared.worker_env["ASKRL_LOG_LEVEL"]   # "INFO"
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from askrl.config.settings import AskrlSettings
from askrl.env_vars import ASKRL_DATA_DIR, askrl_home
from askrl.errors import ConfigError
from askrl.train.console import notice
from askrl.train.resolve import Resolved

OFFLINE_AGENT = "askrl_offline_turn"


@dataclass(frozen=True)
class Prepared:
    """The config with data files and worker env filled in (not yet validated or resolved)."""

    cfg: DictConfig
    settings: AskrlSettings
    run_dir: Path
    worker_env: dict[str, str]


def prepare(resolved: Resolved) -> Prepared:
    """Stage 3: task data and agent loops, wandb mode, platform env for this process and Ray's workers."""
    cfg, settings = resolved.cfg, resolved.settings
    wire_task(cfg, settings)
    if wire_demo_eval_data(cfg, settings):
        settings = AskrlSettings.from_config(cfg)
    env = platform_env(cfg, settings)
    return Prepared(cfg=cfg, settings=settings, run_dir=resolved.run_dir, worker_env=env)


def _data_dir(settings: AskrlSettings) -> Path:
    key = json.dumps(
        {"task": settings.task, "mode": settings.mode, **settings.data.model_dump(), "v": 1}, sort_keys=True
    )
    source = settings.data.source or ""
    if Path(source).is_file():  # a local file: its content decides the cache entry, not only its name
        key += f"|{Path(source).stat().st_mtime_ns}|{Path(source).stat().st_size}"
    return askrl_home() / "data" / f"{settings.task}-{settings.mode}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def prepare_task_data(settings: AskrlSettings) -> tuple[str, str]:
    """VERL parquet for ``askrl.data`` (built once, then reused); returns ``(train_file, val_file)``."""
    from askrl.data.prepare import prepare_parquet

    out = _data_dir(settings)
    train, val = out / "train.parquet", out / "val.parquet"
    if not (out / "askrl_data.json").is_file():
        result = prepare_parquet(
            settings.task,  # type: ignore[arg-type]  # the caller checked task is set
            settings.data.source,  # type: ignore[arg-type]
            out,
            mode=settings.mode,
            val_frac=settings.data.val_frac,
            seed=settings.data.seed,
        )
        notice(f"prepared {result.train_rows} training rows ({result.val_rows} validation) from "
               f"{settings.data.source} in {out}")
    return str(train), str(val if val.is_file() else train)


def wire_task(cfg: DictConfig, settings: AskrlSettings) -> None:
    """Data files and agent loops for an ``askrl.task`` recipe (a no-op for recipes without a task)."""
    if settings.task is None:
        return
    from askrl.rollout import AGENT_NAME, agent_loop_config_path

    with open_dict(cfg):
        if settings.data.source is not None:
            cfg.data.train_files, cfg.data.val_files = prepare_task_data(settings)
        agent = cfg.actor_rollout_ref.rollout.agent
        if not agent.get("agent_loop_config_path"):
            agent.agent_loop_config_path = agent_loop_config_path()
        agent.default_agent_loop = AGENT_NAME if settings.mode == "online" else OFFLINE_AGENT


#: The suites that read only the two main files, which demo records stand in for.
_DEMO_EVAL_SUITES = {"askmind", "overconfidence", "calibration"}
_DEMO_EVAL_SEED = 1  # training's demo records use seed 0: evaluation items are not training items
_DEMO_EVAL_COUNT = 32


def wire_demo_eval_data(cfg: DictConfig, settings: AskrlSettings) -> bool:
    """Point CPU checkpoint evaluation at generated demo records when it has no data of its own; True if it did."""
    suites = {s.name for s in settings.eval.suites}
    if (
        settings.platform != "cpu"
        or not suites
        or not suites <= _DEMO_EVAL_SUITES
        or settings.eval.data_dir is not None
        or os.environ.get(ASKRL_DATA_DIR)
    ):
        return False
    from askrl.data.demo_tree import demo_tree

    root = askrl_home() / "data" / f"eval-demo-seed{_DEMO_EVAL_SEED}-n{_DEMO_EVAL_COUNT}-twins"
    demo_tree(root, _DEMO_EVAL_COUNT, seed=_DEMO_EVAL_SEED, datasets=["ask_mind", "ask_overconfidence"])
    with open_dict(cfg):
        cfg.askrl.eval.data_dir = str(root)
    notice(f"CPU profile: checkpoint evaluation reads generated demo records ({root}); set askrl.eval.data_dir "
           "(or $ASKRL_DATA_DIR) for AskBench itself")
    return True


def _wandb_logged_in() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    netrc = Path.home() / ".netrc"
    return netrc.is_file() and "api.wandb.ai" in netrc.read_text(errors="ignore")


def setup_wandb(cfg: DictConfig) -> dict[str, str]:
    """wandb with no credentials and no ``WANDB_MODE`` runs offline (``wandb sync`` later) instead of failing."""
    loggers = list(OmegaConf.select(cfg, "trainer.logger", default=[]) or [])
    if "wandb" not in loggers or os.environ.get("WANDB_MODE") or _wandb_logged_in():
        return {}
    notice("wandb: no credentials found, logging offline (WANDB_MODE=offline; `wandb sync` uploads the run later)")
    os.environ["WANDB_MODE"] = "offline"
    return {"WANDB_MODE": "offline"}


def platform_env(cfg: DictConfig, settings: AskrlSettings) -> dict[str, str]:
    """Set up this process for the platform and return the env for Ray workers (also put into the config)."""
    from askrl import _verl, plugins
    from askrl.plugins import ASKRL_LOG_LEVEL

    env = {ASKRL_LOG_LEVEL: settings.log_level}
    with open_dict(cfg):
        if settings.platform == "cpu":
            from askrl.cpu.env import cpu_env_vars

            env.update(cpu_env_vars(os.environ))
        env.update(setup_wandb(cfg))
        runtime_env = cfg.ray_kwargs.ray_init.runtime_env
        runtime_env.env_vars = {**(runtime_env.get("env_vars") or {}), **env}
    os.environ.update(env)
    current = _verl.platform_manager._current_platform
    if settings.platform is not None and current is not None and current.device_name != settings.platform:
        raise ConfigError(
            f"VERL chose platform {current.device_name!r} before askrl could select {settings.platform!r}; "
            "something imported and used VERL's platform too early in this process"
        )
    plugins.register()
    return env
