"""The typed ``askrl.eval`` block: which suites every checkpoint is evaluated on, how, and with which judge.

Why a block of its own: checkpoint evaluation is configured like the rest of askrl (frozen models, unknown keys
refused) and parsed once in the driver, so a typo such as ``askrl.eval.suites.askmind.limt`` fails before Ray starts.

Backends (``backend``; None picks one):
- ``serve``: merge the checkpoint into ``<run dir>/merged/global_step_N``, serve it with ``python -m askrl.serve
  model`` (vLLM on ``gpus``, kept outside Ray's pool, or the CPU server), evaluate, stop the server; in the
  background, so training does not wait. The default when ``gpus`` sets GPUs aside for it.
- ``rollout``: evaluate against the live rollout servers right after the weight sync of an evaluation step; no
  merge, no extra GPUs; training waits. The default when nothing is set aside.

    settings = EvalSettings.model_validate({"suites": [{"name": "askmind", "limit": 4}, "calibration"], "every": 2})
    settings.resolved_backend()                  # "rollout"
    settings.is_eval_step(40, save_freq=20, total_steps=500)   # True: every 2nd save
    judge_cli_args(settings.judge, training_judge={"backend": "lexical"})   # ["--judge", "lexical"]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from askrl.errors import ConfigError


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class SuiteSettings(_Block):
    """One evaluator suite (``python -m eval_hooks.run --suite NAME``); a bare name in YAML means no limit."""

    name: str
    """Suite name (``eval_hooks.suites.SUITES``: askmind, overconfidence, calibration, math500, ...)."""
    limit: int | None = Field(None, ge=1)
    """Items evaluated per checkpoint; None: the whole suite (the paper's setting)."""


class EvalJudgeSettings(_Block):
    """The evaluation judge: by default the training judge, but users often want a separate (stronger) one."""

    backend: Literal["lexical", "llm"] | None = None
    """None: the training judge's backend (``askrl.judge.backend``)."""
    urls: list[str] = []
    """OpenAI-compatible base URLs (with ``/v1``); empty: the training judge's endpoints."""
    model: str | None = None
    """Served model name; None: the first training-judge endpoint's ``model``."""
    call_timeout_s: float | None = Field(None, gt=0)
    """A judge call's whole deadline (the evaluator's ``--judge-timeout-s``); None: the training judge's
    ``askrl.judge.client.call_timeout_s``, else the evaluator's default (300 s)."""

    @model_validator(mode="after")
    def _check(self) -> EvalJudgeSettings:
        bad = [u for u in self.urls if not u.startswith(("http://", "https://"))]
        if bad:
            raise ConfigError(f"askrl.eval.judge.urls: {bad} need http(s)://")
        if self.backend == "lexical" and (self.urls or self.model):
            raise ConfigError("askrl.eval.judge.backend=lexical takes no urls or model (it is offline)")
        return self


class AlertSettings(_Block):
    """Thresholds that raise a wandb alert and a warning line."""

    clear_ask_rate: float = Field(0.3, ge=0.0, le=1.0)
    """Alert when the calibration suite's ask rate on clear prompts rises above this."""


class EvalSettings(_Block):
    """The ``askrl.eval`` block (see ``askrl/config/askrl.yaml`` for every key)."""

    suites: list[SuiteSettings] = []
    """Suites to run (a list, so a profile replaces a recipe's list instead of merging into it); empty: none."""
    every: int = Field(1, ge=1)
    """Evaluate every k-th checkpoint save (the last step's save always)."""
    before_train: bool = False
    """Also evaluate the policy before the first step, as step 0 (VERL's ``trainer.val_before_train`` for askrl's
    evaluation), so a run's results show the change training made. ``rollout`` backend only: ``serve`` evaluates
    saved checkpoints and step 0 has none, so there it is skipped with a warning."""
    backend: Literal["serve", "rollout"] | None = None
    """None: ``serve`` when ``gpus`` is set, else ``rollout``."""
    gpus: str | None = None
    """``CUDA_VISIBLE_DEVICES`` of the ``serve`` backend's vLLM server (``[8,9]`` or ``"8,9"``); keep them out of Ray's pool
    (``ray_kwargs.ray_init.num_gpus``). None: the server runs where vLLM finds GPUs, or on CPU without vLLM."""
    judge: EvalJudgeSettings = EvalJudgeSettings()
    max_pending: int = Field(2, ge=1)
    """``serve`` backend: evaluations waiting behind the running one; a newer checkpoint skips the oldest."""
    strict: bool = False
    """AskBench's two-turn hard protocol (``--strict``)."""
    attempts: int = Field(1, ge=1)
    """Samples per item (``--attempts``)."""
    concurrency: int | None = Field(None, ge=1)
    """Requests in flight per endpoint (``--concurrency``); None: the evaluator's default."""
    max_turns: int = Field(3, ge=1)
    """Assistant turns per AskBench dialogue (``--max-turns``; the paper: 3)."""
    max_tokens: int | None = Field(None, ge=1)
    """Candidate tokens per reply (``--max-tokens``); None: the evaluator's default (the paper's setting)."""
    data_dir: str | None = None
    """AskBench data folder (``--data-dir``); None: ``$ASKRL_DATA_DIR`` or the hub, as in ``askrl.data``."""
    timeout_s: float = Field(4 * 3600.0, gt=0)
    """One evaluation (merge, server start, suites) may take this long before it is stopped and logged as failed."""
    server_start_timeout_s: float = Field(900.0, gt=0)
    """Seconds the ``serve`` backend waits for its model server to answer ``/health``."""
    final_wait_s: float = Field(4 * 3600.0, ge=0)
    """When training ends, wait at most this long for pending evaluations (the last checkpoint's included)."""
    alert: AlertSettings = AlertSettings()

    @field_validator("suites", mode="before")
    @classmethod
    def _bare_names(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("gpus", mode="before")
    @classmethod
    def _gpu_list(cls, value: Any) -> Any:
        """``askrl.eval.gpus=[8,9]`` (a bare ``8,9`` is a Hydra sweep, so the command line gives a list)."""
        if isinstance(value, list | tuple) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return ",".join(str(v) for v in value)
        return value

    @model_validator(mode="after")
    def _check(self) -> EvalSettings:
        from eval_hooks.suites import SUITES

        names = [s.name for s in self.suites]
        if len(set(names)) != len(names):
            raise ConfigError(f"askrl.eval.suites: each suite once, got {names}")
        bad = [name for name in names if name not in SUITES]
        if bad:
            raise ConfigError(f"askrl.eval.suites: unknown suites {bad}; known: {', '.join(SUITES)}")
        if self.gpus is not None and not re.fullmatch(r"\d+(,\d+)*", self.gpus):
            raise ConfigError(f"askrl.eval.gpus={self.gpus!r} must be a comma-separated list of GPU ids, e.g. '8,9'")
        if self.backend == "rollout" and self.gpus is not None:
            raise ConfigError("askrl.eval.gpus sets GPUs aside for backend=serve; backend=rollout uses the rollout servers")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.suites)

    def resolved_backend(self) -> Literal["serve", "rollout"]:
        """The backend in use: the configured one, else ``serve`` when GPUs are set aside, else ``rollout``."""
        if self.backend is not None:
            return self.backend
        return "serve" if self.gpus is not None else "rollout"

    def is_eval_step(self, step: int, *, save_freq: int, total_steps: int | None) -> bool:
        """Whether the checkpoint saved at ``step`` is evaluated: every ``every``-th save, and the last step's.

        Derived from the step alone (not from a counter), so a resumed run agrees with the run it continues.
        """
        if not self.enabled or save_freq <= 0:
            return False
        if total_steps is not None and step == total_steps:
            return True
        return step % (save_freq * self.every) == 0


def judge_cli_args(judge: EvalJudgeSettings, training_judge: Mapping[str, Any]) -> list[str]:
    """The evaluator's judge options: ``--judge lexical`` or ``--judge-url U1,U2 --judge-model M``.

    ``training_judge`` is the ``askrl.judge`` block (a plain dict); whatever ``judge`` leaves unset comes from it.
    """
    backend = judge.backend or training_judge.get("backend") or "lexical"
    if backend == "lexical":
        return ["--judge", "lexical"]
    endpoints = list((training_judge.get("client") or {}).get("endpoints") or [])
    urls = judge.urls or [str(e["base_url"]) for e in endpoints]
    model = judge.model or (str(endpoints[0]["model"]) if endpoints else None)
    if not urls:
        raise ConfigError("askrl.eval.judge: an llm judge needs urls (askrl.eval.judge.urls or askrl.judge.client.endpoints)")
    args = ["--judge-url", ",".join(urls)]
    timeout = judge.call_timeout_s or (training_judge.get("client") or {}).get("call_timeout_s")
    args += ["--judge-timeout-s", str(float(timeout))] if timeout else []
    return args + (["--judge-model", model] if model else [])


def suite_groups(suites: list[SuiteSettings]) -> list[tuple[list[str], int | None]]:
    """Suites grouped by ``limit`` (the evaluator's ``--limit`` applies to a whole invocation), in config order."""
    groups: dict[int | None, list[str]] = {}
    for suite in suites:
        groups.setdefault(suite.limit, []).append(suite.name)
    return [(names, limit) for limit, names in groups.items()]
