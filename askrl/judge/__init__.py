"""askrl's judge: grades assistant turns against a checklist and plays the simulated user.

Who uses it: reward (turn grading), rollout (the simulated user), eval hooks. It may import openai, httpx and
pydantic; never ``verl``. Build a backend with ``build_judge(JudgeConfig(...))`` and use the ``Judge`` protocol
(``types.py``): every call returns a ``JudgeResult`` (a verdict or an explicit ``FailureKind``), never raises into
the training loop and never invents a score. Exports resolve lazily (PEP 562), so ``import askrl.judge.types``
does not pay for importing ``openai`` (about 0.4 s).

    judge = build_judge(JudgeConfig(backend="llm", client=JudgeClientConfig(endpoints=[...])))
    result = await judge.grade_turn(request)
    wandb.log(judge.metrics(reset=True))
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "build_judge": "askrl.judge.build",
    "JudgeClient": "askrl.judge.client",
    "BreakerConfig": "askrl.judge.config",
    "EndpointConfig": "askrl.judge.config",
    "JudgeClientConfig": "askrl.judge.config",
    "JudgeConfig": "askrl.judge.config",
    "LexicalConfig": "askrl.judge.config",
    "RetryConfig": "askrl.judge.config",
    "SamplingConfig": "askrl.judge.config",
    "LexicalJudge": "askrl.judge.lexical",
    "LLMJudge": "askrl.judge.llm",
    "prompt_hashes": "askrl.judge.templates",
    "FailureKind": "askrl.judge.types",
    "FinalVerdict": "askrl.judge.types",
    "Judge": "askrl.judge.types",
    "JudgeRequest": "askrl.judge.types",
    "JudgeResult": "askrl.judge.types",
    "Turn": "askrl.judge.types",
    "TurnVerdict": "askrl.judge.types",
    "UserReply": "askrl.judge.types",
    "check_hits_length": "askrl.judge.types",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'askrl.judge' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
