"""One judge per process and event loop, created on first use, shared by every episode of that process.

Why: VERL builds a new agent-loop object for every trajectory, but the judge owns an HTTP pool, a concurrency
limit and counters that must be shared by all episodes of a worker (spec: "one ``JudgeClient`` per process").
An HTTP pool belongs to the event loop that opened it, so the cache is keyed by the running loop as well as by the
judge config: a worker has one loop for its lifetime; tests get a fresh judge per test loop.

Who calls it: ``ClarifyAgentLoop.run`` (inside the worker's running loop). Nothing here calls the network.

How it fails: ``RolloutError`` when called outside a running event loop; ``build_judge``'s ``ConfigError`` for a
bad backend configuration.

    judge = shared_judge(settings.judge)    # same object for every episode of this process and loop
    await close_shared_judges()             # at shutdown (tests: at the end of each test loop)
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from askrl.errors import RolloutError
from askrl.judge.build import build_judge
from askrl.judge.config import JudgeConfig
from askrl.judge.types import Judge

logger = logging.getLogger(__name__)

_JUDGES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Judge]] = weakref.WeakKeyDictionary()


def shared_judge(cfg: JudgeConfig) -> Judge:
    """The judge for ``cfg`` in the running event loop, built on the first call."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError as err:
        raise RolloutError("shared_judge() must be called from inside the agent loop's running event loop") from err
    per_loop = _JUDGES.setdefault(loop, {})
    key = cfg.model_dump_json()
    judge = per_loop.get(key)
    if judge is None:
        judge = build_judge(cfg)
        per_loop[key] = judge
        logger.info("built the %s judge for this process (pid-wide, shared by all episodes)", judge.name)
    return judge


async def close_shared_judges() -> None:
    """Close and forget the judges of the running loop (their HTTP pools); the next call builds fresh ones."""
    judges = _JUDGES.pop(asyncio.get_running_loop(), {})
    for judge in judges.values():
        close = getattr(judge, "aclose", None)
        if close is not None:
            await close()
