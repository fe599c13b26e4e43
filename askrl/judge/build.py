"""``build_judge``: the one place that turns a ``JudgeConfig`` into a ``Judge`` backend.

Who uses it: ``askrl.train``, the rollout's simulated user, the reward and eval code. Callers hold the result as
the ``Judge`` protocol and never branch on the backend. How it fails: ``ConfigError`` for an ``llm`` backend without
endpoints or with an API-key variable that is not set. The LLM judge owns an HTTP pool: close it with
``await judge.aclose()`` (the lexical judge has nothing to close).

    judge = build_judge(JudgeConfig(backend="lexical"))
    result = await judge.grade_turn(request)
"""

from __future__ import annotations

from askrl.errors import ConfigError
from askrl.judge.client import JudgeClient
from askrl.judge.config import JudgeConfig
from askrl.judge.lexical import LexicalJudge
from askrl.judge.llm import LLMJudge
from askrl.judge.types import Judge


def build_judge(cfg: JudgeConfig) -> Judge:
    """The backend ``cfg.backend`` names, configured from ``cfg``."""
    if cfg.backend == "lexical":
        return LexicalJudge(cfg.lexical, cfg.prompt_version)
    if cfg.client is None:  # JudgeConfig's validator already refuses this; kept for type narrowing
        raise ConfigError("askrl.judge.backend=llm needs askrl.judge.client.endpoints")
    return LLMJudge(JudgeClient(cfg.client), cfg.sampling, cfg.prompt_version)
