"""Reward tables: the shipped paper table's exact values, validation of malformed tables, and hashing.

Fakes nothing: tables are real YAML files (the shipped one, and variants written to tmp_path).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from askrl.errors import ConfigError, RubricError
from reward.config import RewardConfig
from reward.table import available_tables, fingerprint, load_table

PAPER = Path(__file__).resolve().parents[3] / "reward" / "tables" / "paper_v1.yaml"


def _variant(tmp_path: Path, filename: str = "t.yaml", **changes: object) -> str:
    data = yaml.safe_load(PAPER.read_text())
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split("__")
        for p in parents:
            node = node[p]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    path = tmp_path / filename
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_paper_table_has_the_papers_values() -> None:
    t = load_table("paper_v1")
    assert (t.nonfinal.premature_answer, t.nonfinal.no_hit, t.nonfinal.some_hit, t.nonfinal.all_hit) == (
        -2.0,
        -0.8,
        0.8,
        1.0,
    )
    assert (t.final.still_asking, t.final.wrong, t.final.correct) == (-2.0, -1.0, 1.0)
    assert t.redundancy.penalty == 0.0 and t.redundancy.credit_resolved_hits is True
    assert (t.judge_failure_penalty.nonfinal, t.judge_failure_penalty.final) == (-0.8, -1.0)
    assert t.guards.of("empty", "nonfinal") == -2.0 and t.guards.of("empty", "final") == -1.0
    assert t.guards.of("no_checklist", "nonfinal") == -2.0
    assert "paper_v1" in available_tables()


def test_hash_covers_numbers_not_names(tmp_path: Path) -> None:
    base = load_table("paper_v1")
    renamed = load_table(_variant(tmp_path, "renamed.yaml", name="other", description="different words"))
    changed = load_table(_variant(tmp_path, "changed.yaml", nonfinal__some_hit=0.5))
    assert len(base.hash) == 12
    assert renamed.hash == base.hash
    assert changed.hash != base.hash


def test_fingerprint_changes_with_prompts_and_table(tmp_path: Path) -> None:
    base = load_table("paper_v1")
    other = load_table(_variant(tmp_path, redundancy__penalty=-0.5))
    fp = fingerprint(base, {"final": "aaa", "turn_askmind": "bbb"})
    assert fp == fingerprint(base, {"turn_askmind": "bbb", "final": "aaa"})  # order-free
    assert fp != fingerprint(base, {"final": "aaa", "turn_askmind": "ccc"})
    assert fp != fingerprint(other, {"final": "aaa", "turn_askmind": "bbb"})


def test_unknown_table_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown reward table 'paper_v9'.*paper_v1"):
        load_table("paper_v9")
    with pytest.raises(ConfigError, match="does not exist"):
        load_table("/nonexistent/table.yaml")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nonfinal__all_hit": None}, r"nonfinal\.all_hit: Field required"),
        ({"final__bonus": 3.0}, r"final\.bonus: Extra inputs are not permitted"),
        ({"nonfinal__some_hit": 2.0}, "no_hit <= some_hit <= all_hit"),
        ({"final__wrong": 1.0}, "wrong must be below final.correct"),
        ({"redundancy__penalty": 0.5}, r"redundancy\.penalty"),
        ({"guards__empty__final": float("nan")}, r"guards\.empty\.final"),
    ],
)
def test_malformed_tables_name_file_and_field(tmp_path: Path, changes: dict, message: str) -> None:
    path = _variant(tmp_path, **changes)
    with pytest.raises(RubricError, match=message) as info:
        load_table(path)
    assert path in str(info.value)


def test_not_yaml_is_a_rubric_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("nonfinal: [unclosed\n")
    with pytest.raises(RubricError, match="not valid YAML"):
        load_table(str(path))


def test_config_validates_its_table_at_construction(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        RewardConfig(table="nope_v1")
    with pytest.raises(ValueError, match="extra"):
        RewardConfig(on_judge_failure="mask", bogus=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        RewardConfig(on_judge_failure="ignore")  # type: ignore[arg-type]
    cfg = RewardConfig(table=_variant(tmp_path, nonfinal__some_hit=0.5))
    assert cfg.table_obj().nonfinal.some_hit == 0.5


def test_provenance_names_table_judge_and_fingerprint(tmp_path: Path) -> None:
    from askrl.judge.config import EndpointConfig, JudgeClientConfig, JudgeConfig
    from reward.config import provenance

    llm = JudgeConfig(
        backend="llm",
        client=JudgeClientConfig(endpoints=[EndpointConfig(name="e", base_url="http://127.0.0.1:1/v1", model="m")]),
    )
    lexical = JudgeConfig(backend="lexical")
    base = provenance(RewardConfig(), llm)
    assert base["reward_table"] == "paper_v1" and base["reward_table_hash"] == load_table("paper_v1").hash
    assert base["judge_backend"] == "llm" and base["on_judge_failure"] == "mask"
    assert provenance(RewardConfig(), lexical)["reward_fingerprint"] != base["reward_fingerprint"]  # prompts count
    other = RewardConfig(table=_variant(tmp_path, final__correct=2.0))
    assert provenance(other, llm)["reward_fingerprint"] != base["reward_fingerprint"]
