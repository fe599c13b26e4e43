"""What ``askrl.train`` decides about a run before Ray starts: hardware profile, CPU fallbacks, data, agent loop.

Each function is small and testable on a composed config; ``askrl.train.run`` calls them in order:

1. :func:`auto_profile` — no GPU and no ``profile=`` given: add ``profile=cpu`` and say so in one line.
2. :func:`apply_cpu_fallbacks` — on CPU, the recipe's LLM judge becomes the offline lexical judge unless the
   command line set ``askrl.judge``; hub data becomes generated demo data unless ``$ASKRL_DATA_DIR`` is set.
3. :func:`wire_task` — for ``askrl.task`` recipes: prepare VERL parquet from ``askrl.data`` (cached) into
   ``data.train_files`` / ``data.val_files``, and point VERL at askrl's agent loops.
4. :func:`setup_wandb` — wandb without credentials runs offline instead of failing at the first step.

Notices go to stderr as ``askrl: ...`` lines, so a user sees every substitution made for them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from askrl.config.settings import AskrlSettings
from askrl.env_vars import ASKRL_DATA_DIR, askrl_home
from askrl.errors import ConfigError

OFFLINE_AGENT = "askrl_offline_turn"


def notice(text: str) -> None:
    sys.stderr.write(f"askrl: {text}\n")


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.device_count() > 0


def _overrides_touch(overrides: list[str], key: str) -> bool:
    return any(o.lstrip("+~").startswith((f"{key}=", f"{key}.")) for o in overrides)


def auto_profile(overrides: list[str], *, has_gpu: bool | None = None) -> list[str]:
    """Add ``profile=cpu`` when this machine has no GPU and the user chose no profile (and kept auto_cpu on)."""
    if _overrides_touch(overrides, "profile") or "askrl.auto_cpu=false" in overrides:
        return overrides
    if has_gpu is None:
        has_gpu = _has_gpu()
    if has_gpu:
        return overrides
    notice(
        "no GPU found: running the CPU profile (profile=cpu: small offline model, 2 steps, the lexical judge unless "
        "askrl.judge is set on the command line); pass profile=... or askrl.auto_cpu=false to choose yourself"
    )
    return [*overrides, "profile=cpu"]


def apply_cpu_fallbacks(cfg: DictConfig, overrides: list[str]) -> None:
    """On ``askrl.platform=cpu``: lexical judge and offline data where the recipe assumed a cluster."""
    if cfg.askrl.platform != "cpu" or cfg.askrl.task is None:
        return
    with open_dict(cfg):
        judge = cfg.askrl.get("judge") or {}
        if judge.get("backend") == "llm" and not _overrides_touch(overrides, "askrl.judge"):
            cfg.askrl.judge = {"backend": "lexical"}
            notice("CPU profile: using the offline lexical judge (set askrl.judge.* on the command line for an LLM)")
        unset = OmegaConf.is_missing(cfg.askrl.data, "source") or (
            cfg.askrl.data.source == "hf" and not os.environ.get(ASKRL_DATA_DIR)
        )
        if unset and not _overrides_touch(overrides, "askrl.data.source"):
            cfg.askrl.data.source = "demo"
            notice("CPU profile: training on generated demo records (askrl.data.source=demo); pass "
                   "askrl.data.source=PATH (or a dataset name with $ASKRL_DATA_DIR set) for real data")


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


def require_data_source(cfg: DictConfig) -> None:
    """A recipe's ``askrl.data.source: ???`` must be given: say how, instead of OmegaConf's missing-value error."""
    if OmegaConf.select(cfg, "askrl.task") is not None and OmegaConf.is_missing(cfg.askrl.data, "source"):
        raise ConfigError(
            "askrl.data.source is required: pass askrl.data.source=PATH (AskBench-format training records, JSONL or "
            "parquet), a dataset name (ask_mind, ask_overconfidence: the evaluation sets), hf, or demo; or "
            "askrl.data.source=null with data.train_files=... for parquet you prepared (python -m askrl.data prepare)"
        )


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


def announce_reward(settings: AskrlSettings) -> None:
    """One line naming the reward table, judge and combined fingerprint of a task run (also in every checkpoint)."""
    if settings.task is None:
        return
    from askrl.judge.config import JudgeConfig
    from reward.config import RewardConfig, provenance

    p = provenance(RewardConfig.model_validate(settings.reward), JudgeConfig.model_validate(settings.judge))
    notice(f"reward {p['reward_table']} (hash {p['reward_table_hash']}), judge {p['judge_backend']} "
           f"(prompts {p['judge_prompt_version']}), on judge failure: {p['on_judge_failure']}, "
           f"overlong: {p['reward_overlong']}; fingerprint {p['reward_fingerprint']}")


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
