"""askrl.data.smoke: the generated addition data (VERL's parquet layout) and the partial-credit rule reward."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from askrl.data import smoke


def test_data_is_written_once_deterministically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASKRL_HOME", str(tmp_path))
    train = Path(smoke.ensure_data("train"))
    assert train == tmp_path / "data" / "smoke" / "train.parquet" and (train.parent / "val.parquet").is_file()
    rows = pd.read_parquet(train)
    assert len(rows) == smoke.SPLIT_SIZES["train"]
    first = rows.iloc[0]
    assert first["data_source"] == smoke.DATA_SOURCE and first["reward_model"]["style"] == "rule"
    a, b = (int(x) for x in first["prompt"][0]["content"].removeprefix("What is ").split("?")[0].split(" + "))
    assert first["reward_model"]["ground_truth"] == str(a + b)
    mtime = train.stat().st_mtime_ns
    assert smoke.ensure_data("train") == str(train) and train.stat().st_mtime_ns == mtime
    with pytest.raises(ValueError, match="unknown smoke split"):
        smoke.ensure_data("test")  # type: ignore[arg-type]


def test_reward_exact_answer_and_partial_credit() -> None:
    assert smoke.compute_score(smoke.DATA_SOURCE, "#### 19", "19") == {"score": 1.0, "acc": 1.0}
    assert smoke.compute_score(smoke.DATA_SOURCE, "12 then 19", "19")["acc"] == 1.0
    assert smoke.compute_score(smoke.DATA_SOURCE, "19 then 12", "19") == {"score": 0.25, "acc": 0.0}
    assert smoke.compute_score(smoke.DATA_SOURCE, "no digits", "19") == {"score": 0.0, "acc": 0.0}
    assert smoke.compute_score(smoke.DATA_SOURCE, "", "19") == {"score": 0.0, "acc": 0.0}
