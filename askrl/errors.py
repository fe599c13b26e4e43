"""askrl's error types: one per boundary, each message saying what happened, the bad value and the fix.

Callers catch ``AskrlError`` at the command-line edge and print its message (never a traceback for bad input).
"""

from __future__ import annotations

DEGRADED_EXIT = 3
"""The exit code of a command that finished but lost more than ``--max-failed-frac`` of its work (the evaluator,
``python -m eval_hooks.run``, and the data builder, ``python -m askrl.data build``): 0 is a clean run, 2 bad input."""


class AskrlError(Exception):
    """Base of every error askrl raises on purpose."""


class ConfigError(AskrlError):
    """A configuration value is missing, malformed or an unsupported combination; the message names the key."""

    @classmethod
    def from_validation(cls, err: Exception, prefix: str, what: str) -> ConfigError:
        """Fold a pydantic ``ValidationError`` into one message naming each full YAML key (``prefix.loc``)."""
        errors = err.errors(include_url=False)  # type: ignore[attr-defined]
        problems = "; ".join(f"{prefix}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
        return cls(f"invalid {what}: {problems}")


class UnknownNameError(AskrlError, KeyError):
    """A registry lookup failed; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class DataError(AskrlError):
    """Input data is invalid; the message names the file, the line (record) and the field."""


class ModelPrepError(AskrlError):
    """An offline model could not be built or failed its generation check."""


class RubricError(AskrlError):
    """A rubric (checklist, reward table or prompt template) is malformed."""


class RolloutError(AskrlError):
    """A multi-turn rollout hit an inconsistent state (never used for judge failures, which are outcomes)."""


class EvalError(AskrlError):
    """An evaluation run could not proceed."""


class JudgeError(AskrlError):
    """Inside the judge client only: a failed attempt. Callers receive a failed ``JudgeResult`` instead."""
