"""Typed settings of the clarify agent loop, read once per process from the trainer config's ``askrl`` block.

Who calls it: ``ClarifyAgentLoop.__init__`` (through ``settings_from_trainer_config``), ``askrl.train`` (to
validate the block up front). Below this module the loop sees ``ClarifySettings``, never a ``DictConfig``.

Contract: the ``askrl`` block may hold other sections (data, eval, ...); only ``rollout``, ``judge`` and ``reward``
are read here, each validated by its own frozen, ``extra="forbid"`` model:

    askrl:
      rollout: {max_turns: 3, strict: false, max_tokens_per_turn: null, user_reply_max_tokens: 256}
      judge:   {backend: lexical}            # askrl.judge.config.JudgeConfig
      reward:  {table: paper_v1, on_judge_failure: mask}   # reward.config.RewardConfig

A missing block or section takes the defaults (lexical judge, ``paper_v1`` table, 3 turns).

How it fails: ``ConfigError`` naming the full key (``askrl.rollout.max_turns``) and the fix; pydantic's
``ValidationError`` messages are folded into it.

    settings = settings_from_trainer_config(trainer_cfg)
    settings.rollout.turn_limit      # 2 in strict mode, else max_turns
"""

from __future__ import annotations

import threading
from typing import Any

from omegaconf import DictConfig, OmegaConf
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from askrl.errors import ConfigError
from askrl.judge.config import JudgeConfig
from reward.config import RewardConfig

#: The instruction appended (after a newline) to the user message the policy sees on its last allowed turn
#: (AskBench's FORCE_FINAL_ANSWER_PROMPT, spec §2.3). The judge's history never contains it.
FORCE_FINAL_TEXT = (
    "**This is the final turn.** Based on the information you have gathered so far, you MUST provide a "
    "conclusive, final answer. Do not ask any more questions."
)
DEFAULT_MAX_TURNS = 3
STRICT_MAX_TURNS = 2


class ClarifyRolloutConfig(BaseModel):
    """The ``askrl.rollout`` block: how one clarification episode unfolds."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    max_turns: int | None = Field(None, ge=1)
    """Policy turns per episode at most (``None``: 3, or 2 in strict mode). The last one sees the force-final text."""
    strict: bool = False
    """AskBench's hard mode: exactly two turns; turn 1 must clarify or correct (a final answer there is graded as a
    premature answer), turn 2 must answer (graded as the final turn)."""
    max_tokens_per_turn: int | None = Field(None, ge=1)
    """Tokens one policy turn may generate (``None``: whatever is left of ``rollout.response_length``)."""
    user_reply_max_tokens: int = Field(256, ge=1)
    """A simulated-user reply is cut to this many tokens (policy tokenizer) before the policy sees it."""
    force_final_text: str = FORCE_FINAL_TEXT
    """Appended to the user message of the last allowed turn (set ``""`` to disable)."""
    speculative_user_reply: bool = True
    """Ask the simulated user for a reply while the turn is being graded (lower latency; the reply is discarded
    when the grade ends the episode). ``False``: grade first, then ask the user only if the episode goes on."""

    @model_validator(mode="after")
    def _strict_turns(self) -> ClarifyRolloutConfig:
        if self.strict and self.max_turns not in (None, STRICT_MAX_TURNS):
            raise ConfigError(
                f"askrl.rollout.strict=true means exactly {STRICT_MAX_TURNS} turns, but askrl.rollout.max_turns="
                f"{self.max_turns}; drop max_turns or set it to {STRICT_MAX_TURNS}"
            )
        return self

    @property
    def turn_limit(self) -> int:
        """The effective number of policy turns per episode."""
        if self.strict:
            return STRICT_MAX_TURNS
        return self.max_turns if self.max_turns is not None else DEFAULT_MAX_TURNS


class ClarifySettings(BaseModel):
    """Everything the clarify loop needs: episode shape, judge backend and reward table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rollout: ClarifyRolloutConfig = ClarifyRolloutConfig()
    judge: JudgeConfig = JudgeConfig()
    reward: RewardConfig = RewardConfig()


def settings_from_block(block: dict[str, Any] | None) -> ClarifySettings:
    """Validate the ``askrl`` block (a plain dict; other sections are ignored).

    Raises:
        ConfigError: a section is not a mapping or fails validation; the message names ``askrl.<section>``.
    """
    block = block or {}
    if not isinstance(block, dict):
        raise ConfigError(f"askrl must be a mapping, got {type(block).__name__}")
    sections: dict[str, Any] = {}
    for name in ClarifySettings.model_fields:
        value = block.get(name)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise ConfigError(f"askrl.{name} must be a mapping, got {type(value).__name__}")
        sections[name] = value
    try:
        return ClarifySettings.model_validate(sections)
    except ValidationError as err:
        raise ConfigError.from_validation(err, "askrl", "clarify-loop settings") from err


_CACHE: dict[int, tuple[Any, ClarifySettings]] = {}
_CACHE_LOCK = threading.Lock()


def settings_from_trainer_config(config: DictConfig | dict[str, Any] | None) -> ClarifySettings:
    """The settings in ``config.askrl``, parsed once per config object (an agent loop is built per trajectory).

    Raises:
        ConfigError: as ``settings_from_block``.
    """
    key = id(config)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] is config:
            return cached[1]
    if config is None:
        block = None
    elif isinstance(config, DictConfig):
        node = OmegaConf.select(config, "askrl", default=None)
        block = OmegaConf.to_container(node, resolve=True) if node is not None else None
    else:
        block = config.get("askrl")
    settings = settings_from_block(block)  # type: ignore[arg-type]
    with _CACHE_LOCK:
        _CACHE[key] = (config, settings)
    return settings
