"""The reward table: every number the turn-level rubric reward can give, loaded from a versioned YAML file.

Who calls it: ``reward.scoring`` (verdict → reward), ``reward.config`` (which table a run uses), ``reward.score``
(the CLI logs the hash). It imports only pydantic and PyYAML.

Contract: a table file (``reward/tables/<name>.yaml``, or any path ending in ``.yaml``/``.yml``) is validated into a
frozen ``RewardTable``; unknown keys, missing keys, non-finite numbers and tiers out of order are errors.
``RewardTable.hash`` is a short sha256 of the numbers alone (name and description excluded), so two files that
reward identically share a hash; ``fingerprint`` combines it with the judge's prompt hashes for run logs.

How it fails: ``ConfigError`` for a table that cannot be found, ``RubricError`` for one that is malformed.

    table = load_table("paper_v1")
    table.nonfinal.some_hit          # 0.8
    table.hash                       # e.g. "3f2a9c81d0b4"
    fingerprint(table, {"grade_turn_v1": "ab12"})
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from askrl.errors import ConfigError, RubricError

TurnKind = Literal["nonfinal", "final"]
GuardKind = Literal["empty", "truncated", "think_only", "no_checklist"]

_TABLES_PACKAGE = "reward.tables"


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, use_attribute_docstrings=True)


class NonFinalRewards(_Table):
    """Reward of a graded non-final turn (the paper's r_t)."""

    premature_answer: float
    """The turn committed to a final answer while information was missing (``answered_final``)."""
    no_hit: float
    """The turn targeted no checklist item."""
    some_hit: float
    """The turn targeted some but not all checklist items."""
    all_hit: float
    """The turn targeted every checklist item."""

    @model_validator(mode="after")
    def _ordered(self) -> NonFinalRewards:
        if not (self.no_hit <= self.some_hit <= self.all_hit):
            raise ValueError("nonfinal tiers must satisfy no_hit <= some_hit <= all_hit")
        return self


class FinalRewards(_Table):
    """Reward of a graded final turn (the paper's r_T)."""

    still_asking: float
    wrong: float
    correct: float

    @model_validator(mode="after")
    def _ordered(self) -> FinalRewards:
        if not self.wrong < self.correct:
            raise ValueError("final.wrong must be below final.correct")
        return self


class Redundancy(_Table):
    """How re-targeting an item an earlier turn already resolved is treated (multi-turn only)."""

    penalty: float = Field(le=0)
    """Added to a non-premature non-final turn that is redundant; 0 reproduces the paper."""
    credit_resolved_hits: bool
    """True: hits on resolved items count towards the some/all tiers (the paper). False: tiers count only the
    items still unresolved, so "all" means "all that remained"."""


class PerKind(_Table):
    """One value for a non-final turn and one for a final turn."""

    nonfinal: float
    final: float

    def of(self, kind: TurnKind) -> float:
        return self.nonfinal if kind == "nonfinal" else self.final


class GuardPenalties(_Table):
    """Fixed rewards of turns stopped before any judge call (``reward.guards``)."""

    empty: PerKind
    """Nothing but whitespace."""
    truncated: PerKind
    """Cut off at the token limit."""
    think_only: PerKind
    """Nothing outside the think block (or a think block never closed)."""
    no_checklist: float
    """A non-final turn of a sample without a checklist (nothing to grade it against)."""

    def of(self, guard: GuardKind, kind: TurnKind) -> float:
        if guard == "no_checklist":
            return self.no_checklist
        return getattr(self, guard).of(kind)


class RewardTable(_Table):
    """A complete reward table; see ``reward/tables/paper_v1.yaml`` for the meaning of each value."""

    name: str
    description: str = ""
    nonfinal: NonFinalRewards
    final: FinalRewards
    redundancy: Redundancy
    judge_failure_penalty: PerKind
    """Rewards of a turn whose judge call failed, used only with ``on_judge_failure: penalize``."""
    guards: GuardPenalties

    @cached_property
    def hash(self) -> str:
        """12 hex characters of sha256 over the numbers (name and description excluded)."""
        payload = self.model_dump(exclude={"name", "description"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def available_tables() -> list[str]:
    """Names of the tables shipped in ``reward/tables``."""
    return sorted(
        p.name[: -len(".yaml")] for p in resources.files(_TABLES_PACKAGE).iterdir() if p.name.endswith(".yaml")
    )


def _read(ref: str) -> tuple[str, str]:
    if ref.endswith((".yaml", ".yml")):
        path = Path(ref)
        if not path.is_file():
            raise ConfigError(
                f"reward table file {ref!r} does not exist; set reward.table to a shipped name "
                f"{available_tables()} or an existing .yaml path"
            )
        return str(path), path.read_text(encoding="utf-8")
    resource = resources.files(_TABLES_PACKAGE) / f"{ref}.yaml"
    if not resource.is_file():
        raise ConfigError(f"unknown reward table {ref!r}; known: {available_tables()} (or give a .yaml path)")
    return f"reward/tables/{ref}.yaml", resource.read_text(encoding="utf-8")


@lru_cache(maxsize=32)
def load_table(ref: str) -> RewardTable:
    """Load and validate a table by shipped name (``paper_v1``) or by path (``/x/my_table.yaml``).

    Raises:
        ConfigError: the table does not exist.
        RubricError: the file is not YAML or not a valid table (the message names the file and the field).
    """
    where, text = _read(ref)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise RubricError(f"reward table {where}: not valid YAML: {err}") from err
    try:
        return RewardTable.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in err.errors())
        raise RubricError(f"reward table {where}: {problems}") from err


def fingerprint(
    table: RewardTable, prompt_hashes: Mapping[str, str], shaping: Mapping[str, str] | None = None
) -> str:
    """One short hash naming everything that decides a reward: the table's numbers, the judge's prompts and any
    enabled shaping term outside the table (``shaping``: name -> its settings; empty or None leaves it out)."""
    payload: dict[str, object] = {"table": table.hash, "prompts": dict(sorted(prompt_hashes.items()))}
    if shaping:
        payload["shaping"] = dict(sorted(shaping.items()))
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]
