"""Write VERL parquet (train and validation splits) from AskBench records, for online or offline training.

    python -m askrl.data prepare --task askmind --input ../shared/data/askbench/ask_bench/ask_mind/test.jsonl --out data/askmind
    python -m askrl.data prepare --task overconfidence --input hf --out data/overconf --mode offline

``--input demo`` generates small offline records (``askrl.data.demo``) for CPU runs without the real data.
Online rows (``askrl.data.verl_rows``) start a live multi-turn episode; offline rows (``askrl.data.offline_turns``)
are one sample per assistant turn. The split is a seeded shuffle; records are validated first, so bad input
stops here with located errors.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from askrl.data.hub import resolve_dataset, resolve_input
from askrl.data.loading import load_records
from askrl.data.offline_turns import record_to_turn_rows
from askrl.data.verl_rows import DEFAULT_AGENT, record_to_row
from askrl.errors import DataError

TASK_DATASETS = {"askmind": "ask_mind", "overconfidence": "ask_overconfidence"}
DEMO_RECORDS = 64  # generated records for source "demo" (offline CPU runs)
Mode = Literal["online", "offline"]


@dataclass(frozen=True)
class PrepareResult:
    train: Path
    val: Path | None
    train_rows: int
    val_rows: int
    records: int


def _write(rows: list[dict[str, Any]], path: Path) -> None:
    """Write to a file of this process, then rename it into place: two runs preparing the same cached data at once
    (parallel tests, two launches) never read each other's half-written file."""
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pd.DataFrame(rows).to_parquet(tmp, index=False)
    tmp.replace(path)


def prepare_parquet(
    task: str,
    source: str | Path,
    out: str | Path,
    *,
    mode: Mode = "online",
    val_frac: float = 0.0,
    seed: int = 0,
    agent_name: str = DEFAULT_AGENT,
) -> PrepareResult:
    """Validate ``source`` (a path, dataset name, ``hf`` or ``demo``) as ``task`` records and write ``out/train.parquet`` (+ ``out/val.parquet``)."""
    if task not in TASK_DATASETS:
        raise DataError(f"--task must be one of {sorted(TASK_DATASETS)}, got {task!r}")
    if not 0.0 <= val_frac < 1.0:
        raise DataError(f"--val-frac must be in [0, 1), got {val_frac}")
    if str(source) == "demo":
        from askrl.data.demo import demo_records

        path: Path | str = "demo"
        records: list[Any] = demo_records(task, DEMO_RECORDS, seed=seed)
    else:
        path = resolve_dataset(TASK_DATASETS[task]) if str(source) == "hf" else resolve_input(source)
        records = list(load_records(path, task).records)
    random.Random(seed).shuffle(records)
    n_val = round(len(records) * val_frac)
    if val_frac > 0 and not 0 < n_val < len(records):
        raise DataError(f"--val-frac {val_frac} leaves an empty split for {len(records)} records")
    splits = {"val": records[:n_val], "train": records[n_val:]}

    def rows_of(part: list[Any]) -> list[dict[str, Any]]:
        if mode == "online":
            return [record_to_row(r, i, agent_name=agent_name) for i, r in enumerate(part)]
        rows: list[dict[str, Any]] = []
        for r in part:
            rows.extend(record_to_turn_rows(r, start_index=len(rows)))
        return rows

    out = Path(out)
    train_rows = rows_of(splits["train"])
    _write(train_rows, out / "train.parquet")
    val_path, val_rows = None, []
    if n_val:
        val_rows = rows_of(splits["val"])
        val_path = out / "val.parquet"
        _write(val_rows, val_path)
    (out / "askrl_data.json").write_text(
        json.dumps({"task": task, "mode": mode, "source": str(path), "seed": seed, "val_frac": val_frac,
                    "records": len(records), "train_rows": len(train_rows), "val_rows": len(val_rows)})
    )
    return PrepareResult(out / "train.parquet", val_path, len(train_rows), len(val_rows), len(records))
