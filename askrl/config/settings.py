"""The typed ``askrl:`` block of the composed training config (see ``askrl/config/askrl.yaml`` for each key).

Parsed once in the driver by ``askrl.train.resolve``; code below the entry point receives these models, never a DictConfig.
``rollout``, ``judge`` and ``reward`` are validated by their owners' models (``askrl.rollout.config``), so a typo in
``askrl.judge.client.endpoints`` fails here, before Ray starts, naming the key.
"""

from __future__ import annotations

from typing import Any, Literal

from omegaconf import DictConfig, OmegaConf
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from askrl.errors import ConfigError
from eval_hooks.checkpoint.config import EvalSettings


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class DataSettings(_Block):
    source: str | None = None
    """A JSONL/parquet path, a dataset name, ``hf``, ``demo``, or None (use ``data.train_files`` as given)."""
    val_frac: float = Field(0.05, ge=0.0, lt=1.0)
    """Share of records held out for validation when askrl prepares the data."""
    seed: int = 0
    """Seed of the train/validation split."""


class TrackingSettings(_Block):
    conversations_every: int = Field(10, ge=0)
    """Log a table of sample conversations every N training steps (0: never)."""
    conversations_per_step: int = Field(4, ge=1)
    """Conversations per table."""


class CpuSizes(_Block):
    max_prompt_length: int = Field(64, ge=8)
    max_response_length: int = Field(16, ge=1)
    total_training_steps: int | None = Field(2, ge=1)
    rollout_n: int = Field(4, ge=2)
    """Episodes per prompt (a GRPO group needs at least 2)."""
    max_tokens_per_turn: int = Field(64, ge=1)
    """Per-turn generation cap of the clarify loop on CPU."""
    overlong_buffer_tokens: int = Field(96, ge=1)
    """The overlong penalty's buffer on CPU (recipes that enable the penalty size it for 8k-token budgets)."""
    eval_suites: list[Any] = [{"name": "askmind", "limit": 2}]
    """What profile=cpu evaluates per evaluation save (``askrl.eval.suites``); [] for none."""
    eval_max_tokens: int = Field(48, ge=1)
    """Candidate tokens per reply in CPU evaluations (``askrl.eval.max_tokens``)."""


class AskrlSettings(_Block):
    """The ``askrl:`` block."""

    platform: Literal["cpu"] | None = None
    """None: VERL's own device detection (GPU); ``cpu``: askrl's CPU platform and ``hf_cpu`` rollout."""
    cpu_model: str = "tiny"
    """Offline model (``askrl.models``) that ``profile=cpu`` trains unless ``actor_rollout_ref.model.path`` is set."""
    dry_run: bool = False
    """Print the resolved config and exit before Ray starts."""
    verbose: bool = False
    """Print Ray's, VERL's and the libraries' output on the console, as VERL does (default: to ``<run dir>/logs/``)."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Level of askrl's loggers here and in every Ray worker."""
    task: Literal["askmind", "overconfidence"] | None = None
    """The AskBench dimension a recipe trains; None for recipes with their own data and reward (``smoke``)."""
    mode: Literal["online", "offline"] = "online"
    """online: live multi-turn episodes; offline: one sample per pre-built assistant turn (the original)."""
    data: DataSettings = DataSettings()
    preflight: bool = True
    """Run the preflight checks before Ray starts."""
    auto_cpu: bool = True
    """Apply ``profile=cpu`` by itself on a machine without a GPU when no profile is chosen."""
    tracking: TrackingSettings = TrackingSettings()
    cpu: CpuSizes = CpuSizes()
    eval: EvalSettings = EvalSettings()
    """Checkpoint evaluation (``eval_hooks.checkpoint.config``): suites, every k-th save, backend, judge, alerts."""
    rollout: dict[str, Any] = {}
    judge: dict[str, Any] = {}
    reward: dict[str, Any] = {}

    @model_validator(mode="after")
    def _check_sections(self) -> AskrlSettings:
        from askrl.rollout.config import settings_from_block

        settings_from_block({"rollout": self.rollout, "judge": self.judge, "reward": self.reward})
        if self.data.source is not None and self.task is None:
            raise ConfigError("askrl.data.source is set but askrl.task is not; set askrl.task=askmind|overconfidence")
        return self

    @classmethod
    def from_config(cls, cfg: DictConfig) -> AskrlSettings:
        block = OmegaConf.to_container(cfg.askrl, resolve=True)
        try:
            return cls.model_validate(block)
        except ValidationError as err:
            raise ConfigError.from_validation(err, "askrl", "askrl.* settings") from err
