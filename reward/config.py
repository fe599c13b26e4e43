"""Typed settings of the rubric reward: which reward table, what a judge failure means, how to find the answer,
and the optional DAPO overlong penalty.

Who calls it: ``askrl.train`` (the ``askrl.reward`` YAML block), ``reward.verl_fn`` (VERL's ``reward_kwargs.reward``)
and ``reward.score`` (CLI flags). Below those entry points code receives a ``RewardConfig``, never a dict.

Contract: frozen, unknown keys rejected. Every number a turn's rubric reward can take lives in the reward table
(``reward/tables/*.yaml``), not here, so the table hash names it exactly; the one shaping term outside the table,
``overlong`` (``reward.overlong``, off by default), is folded into the fingerprint when enabled.

How it fails: pydantic ``ValidationError`` for a bad field; ``ConfigError``/``RubricError`` at construction when the
table is missing or malformed.

    cfg = RewardConfig(table="paper_v1", on_judge_failure="mask", overlong={"enable": True, "buffer_tokens": 512})
    cfg.table_obj().final.correct   # 1.0
    provenance(cfg, judge_cfg)      # {"reward_table": "paper_v1", "reward_table_hash": ..., "reward_fingerprint": ...}
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from askrl.judge.config import JudgeConfig
from askrl.judge.templates import prompt_hashes
from reward.table import RewardTable, fingerprint, load_table

JudgeFailurePolicy = Literal["mask", "penalize", "raise"]


class OverlongConfig(BaseModel):
    """The ``askrl.reward.overlong`` block: DAPO's overlong penalty, counted on policy tokens (``reward.overlong``).

    Applied by askrl's agent loops (``askrl_clarify``, ``askrl_offline_turn``) with ``max_len`` =
    ``actor_rollout_ref.rollout.response_length``; ``reward.verl_fn`` has no token counts and ignores it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    enable: bool = False
    """Add the penalty to the trajectory's last turn reward (0 everywhere when false)."""
    buffer_tokens: int = Field(1024, ge=1)
    """The last ``buffer_tokens`` of the response budget are the soft zone: the penalty grows linearly across it."""
    penalty_factor: float = Field(1.0, ge=0)
    """The penalty at the full budget (``-penalty_factor`` when every budget token is a policy token)."""


class RewardConfig(BaseModel):
    """The ``askrl.reward`` block."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    table: str = "paper_v1"
    """A shipped table name (``reward/tables/<name>.yaml``) or a path to a ``.yaml`` table."""
    on_judge_failure: JudgeFailurePolicy = "mask"
    """``mask``: a turn whose judge call failed gets no reward and its trajectory leaves the loss and the group
    baseline (``reward.masking``); ``penalize``: the table's ``judge_failure_penalty`` (the original's -0.8 / -1.0,
    for ablations); ``raise``: stop with ``RubricError`` (debugging)."""
    think_open: str = "<think>"
    """Opening tag of a reasoning block; text inside it is never graded."""
    think_close: str = "</think>"
    """Closing tag of a reasoning block; only the text after the last one is graded."""
    overlong: OverlongConfig = OverlongConfig()
    """DAPO's overlong penalty on policy tokens (off by default)."""
    allow_audit_violations: bool = False
    """Launch with a table that violates an ordering of ``python -m reward.audit`` (ablations only; the pre-launch
    check refuses such a table otherwise, ``reward.guards_config``)."""

    @model_validator(mode="after")
    def _tags(self) -> RewardConfig:
        if not self.think_open or not self.think_close or self.think_open == self.think_close:
            raise ValueError("reward.think_open and reward.think_close must be two different non-empty tags")
        load_table(self.table)  # a missing or malformed table fails here, at construction
        return self

    def table_obj(self) -> RewardTable:
        """The validated reward table (loaded once per process and cached)."""
        return load_table(self.table)


def provenance(cfg: RewardConfig, judge_cfg: JudgeConfig) -> dict[str, str]:
    """What to log with every run or results file: the table, its hash, the judge and one combined fingerprint.

    The fingerprint covers the table's numbers and, for the ``llm`` backend, the hash of every judge prompt at
    ``judge_cfg.prompt_version`` (the lexical backend has no prompts), and the overlong penalty when enabled
    (a disabled penalty leaves the fingerprint as it was before the option existed).
    """
    table = cfg.table_obj()
    prompts = prompt_hashes(judge_cfg.prompt_version) if judge_cfg.backend == "llm" else {}
    overlong = cfg.overlong
    shaping = (
        {"overlong": f"buffer_tokens={overlong.buffer_tokens},penalty_factor={overlong.penalty_factor}"}
        if overlong.enable
        else {}
    )
    return {
        "reward_table": table.name,
        "reward_table_hash": table.hash,
        "on_judge_failure": cfg.on_judge_failure,
        "reward_overlong": shaping.get("overlong", "off"),
        "judge_backend": judge_cfg.backend,
        "judge_prompt_version": judge_cfg.prompt_version,
        "reward_fingerprint": fingerprint(table, prompts, shaping),
    }
