"""The smoke task: small-integer addition prompts in VERL's parquet layout, and a rule reward with partial credit.

Why: ``recipes/smoke.yaml`` must run VERL's real trainer end to end with nothing downloaded, and GRPO only moves
the weights when rewards differ inside a group. A random tiny model never answers correctly, so the reward also
gives partial credit for the share of digits in the reply; random replies differ in that share, so advantages and
gradients are non-zero from the first step.

Who calls it: ``askrl.train`` (resolver ``${askrl.smoke_data:train}`` -> :func:`ensure_data`, in the driver) and
VERL's reward loop (``reward.custom_reward_function.path=pkg://askrl.data.smoke``, name ``compute_score``).

Contract:
- :func:`ensure_data` writes ``$ASKRL_HOME/data/smoke/{train,val}.parquet`` once (seeded, deterministic) and returns
  the path of the requested split. Rows: ``data_source="askrl/smoke_add"``, ``prompt`` (one user message),
  ``ability``, ``reward_model={"style": "rule", "ground_truth": "<sum>"}``, ``extra_info={split, index}``.
- :func:`compute_score` returns ``{"score": s, "acc": a}`` with ``a`` = 1.0 when the last integer in the reply is the
  sum and ``s`` = 1.0 then, else ``s = 0.5 * digit share`` in [0, 0.5].

    path = ensure_data("train")
    compute_score("askrl/smoke_add", "the answer is 19", "19")   # {"score": 1.0, "acc": 1.0}
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from askrl.env_vars import askrl_home

DATA_SOURCE = "askrl/smoke_add"
SPLIT_SIZES = {"train": 256, "val": 16}
_SEEDS = {"train": 0, "val": 1}
_INTEGER = re.compile(r"-?\d+")


def _rows(split: str) -> list[dict[str, Any]]:
    rng = random.Random(_SEEDS[split])
    rows = []
    for index in range(SPLIT_SIZES[split]):
        a, b = rng.randint(0, 20), rng.randint(0, 20)
        # Phrased like the tiny tokenizer's training text, so prompts stay short (about 37 tokens with the template).
        question = f"What is {a} + {b}? Answer after ####."
        rows.append(
            {
                "data_source": DATA_SOURCE,
                "prompt": [{"role": "user", "content": question}],
                "ability": "math",
                "reward_model": {"style": "rule", "ground_truth": str(a + b)},
                "extra_info": {"split": split, "index": index},
            }
        )
    return rows


def data_dir() -> Path:
    return askrl_home() / "data" / "smoke"


def ensure_data(split: Literal["train", "val"]) -> str:
    """Return the parquet path of ``split``, writing both splits first if they are missing (atomic rename)."""
    if split not in SPLIT_SIZES:
        raise ValueError(f"unknown smoke split {split!r}; use one of {sorted(SPLIT_SIZES)}")
    directory = data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    for name in SPLIT_SIZES:
        target = directory / f"{name}.parquet"
        if not target.is_file():
            partial = target.with_suffix(".parquet.partial")
            pd.DataFrame(_rows(name)).to_parquet(partial, index=False)
            partial.replace(target)
    return str(directory / f"{split}.parquet")


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """Exact answer -> 1.0; otherwise 0.5 x the share of non-space characters that are digits (see module doc)."""
    integers = _INTEGER.findall(solution_str)
    if integers and integers[-1] == ground_truth.strip():
        return {"score": 1.0, "acc": 1.0}
    visible = [c for c in solution_str if not c.isspace()]
    share = sum(c.isdigit() for c in visible) / len(visible) if visible else 0.0
    return {"score": 0.5 * share, "acc": 0.0}
