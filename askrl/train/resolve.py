"""Stage 2, resolve: the composed config -> the run askrl will actually do, with its typed ``askrl:`` settings.

- On ``askrl.platform=cpu`` the recipe's LLM judge becomes the offline lexical judge unless the command line set
  ``askrl.judge``, and hub data becomes generated demo data unless the command line (or ``$ASKRL_DATA_DIR``) says
  otherwise; each substitution is said in one notice.
- A task recipe's required ``askrl.data.source`` must be given (one line saying how, not OmegaConf's error).
- ``askrl:`` is parsed once into :class:`askrl.config.settings.AskrlSettings`; ``trainer.default_local_dir`` (the
  run dir: checkpoints, metrics, conversations, evaluations, logs) becomes absolute, since VERL uses it as-is
  inside Ray actors.

    resolved = resolve(compose(["recipe=askmind_grpo", "profile=cpu"]))
    resolved.settings.judge   # {"backend": "lexical"}
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from askrl.config.settings import AskrlSettings
from askrl.env_vars import ASKRL_DATA_DIR
from askrl.errors import ConfigError
from askrl.train.compose import Composed, overrides_touch
from askrl.train.console import notice


@dataclass(frozen=True)
class Resolved:
    """The config after askrl's substitutions, its typed ``askrl:`` block and the absolute run dir."""

    cfg: DictConfig
    settings: AskrlSettings
    run_dir: Path


def resolve(composed: Composed) -> Resolved:
    """Stage 2: CPU fallbacks, required data source, typed settings, absolute run dir."""
    cfg = composed.cfg
    apply_cpu_fallbacks(cfg, composed.overrides)
    require_data_source(cfg)
    settings = AskrlSettings.from_config(cfg)
    logging.getLogger("askrl").setLevel(settings.log_level)
    with open_dict(cfg):
        run_dir = Path(cfg.trainer.default_local_dir).expanduser().absolute()
        cfg.trainer.default_local_dir = str(run_dir)
    return Resolved(cfg=cfg, settings=settings, run_dir=run_dir)


def apply_cpu_fallbacks(cfg: DictConfig, overrides: list[str]) -> None:
    """On ``askrl.platform=cpu``: lexical judge and offline data where the recipe assumed a cluster."""
    if cfg.askrl.platform != "cpu" or cfg.askrl.task is None:
        return
    with open_dict(cfg):
        judge = cfg.askrl.get("judge") or {}
        if judge.get("backend") == "llm" and not overrides_touch(overrides, "askrl.judge"):
            cfg.askrl.judge = {"backend": "lexical"}
            notice("CPU profile: using the offline lexical judge (set askrl.judge.* on the command line for an LLM)")
        unset = OmegaConf.is_missing(cfg.askrl.data, "source") or (
            cfg.askrl.data.source == "hf" and not os.environ.get(ASKRL_DATA_DIR)
        )
        if unset and not overrides_touch(overrides, "askrl.data.source"):
            cfg.askrl.data.source = "demo"
            notice("CPU profile: training on generated demo records (askrl.data.source=demo); pass "
                   "askrl.data.source=PATH (or a dataset name with $ASKRL_DATA_DIR set) for real data")


def require_data_source(cfg: DictConfig) -> None:
    """A recipe's ``askrl.data.source: ???`` must be given: say how, instead of OmegaConf's missing-value error."""
    if OmegaConf.select(cfg, "askrl.task") is not None and OmegaConf.is_missing(cfg.askrl.data, "source"):
        raise ConfigError(
            "askrl.data.source is required: pass askrl.data.source=PATH (AskBench-format training records, JSONL or "
            "parquet), a dataset name (ask_mind, ask_overconfidence: the evaluation sets), hf, or demo; or "
            "askrl.data.source=null with data.train_files=... for parquet you prepared (python -m askrl.data prepare)"
        )
