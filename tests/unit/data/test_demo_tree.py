"""``askrl.data.demo_tree``: the project's own AskBench-format data root, which every test but the ``askbench_data``
ones reads. It must hold every named set, validate as the real files do, resolve without the hub, and pair the
calibration suite's two main files on ``ori_question``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from askrl.data.demo_tree import demo_sets, demo_tree
from askrl.data.hub import DATASETS, resolve_dataset
from askrl.data.loading import load_records, record_files
from askrl.errors import DataError

KINDS = {"ask_mind": "askmind", "ask_mind_math500de": "askmind", "ask_mind_gpqade": "askmind",
         "ask_mind_bbhde": "askmind", "ask_overconfidence": "overconfidence",
         "ask_overconfidence_math500": "overconfidence", "ask_overconfidence_gpqa": "overconfidence",
         "ask_overconfidence_bbh": "overconfidence", "quest_bench": "questbench", "in3_interaction": "in3",
         "math500": "math500", "medqa": "medqa", "gpqa": "gpqa", "bbh": "bbh", "healthbench": "healthbench"}  # fmt: skip


def test_every_named_set_is_written_and_loads_as_its_kind(askbench_dir: Path) -> None:
    assert set(KINDS) == set(DATASETS)
    found = {str(p.relative_to(askbench_dir)) for p in record_files(askbench_dir)}
    assert found == set(DATASETS.values())
    for name, kind in KINDS.items():
        loaded = load_records(askbench_dir / DATASETS[name])  # kind inferred, as for a user's file
        expected = 64 if name == "ask_overconfidence" else 32  # its own items, then the AskMind items' twins
        assert (name, loaded.kind, len(loaded.records), len(set(loaded.ids))) == (name, kind, expected, expected)


def test_no_two_items_of_a_set_ask_the_same_question(askbench_dir: Path) -> None:
    # a repeated question would be a near-duplicate to the data builder and one item twice to the evaluator
    for name in DATASETS:
        records = load_records(askbench_dir / DATASETS[name]).records
        questions = [getattr(r, "degraded_question", None) or getattr(r, "ori_question", None)
                     or getattr(r, "question", None) or r.prompt[-1].content for r in records]  # fmt: skip
        assert len(set(questions)) == len(questions), name


def test_calibration_pairs_every_askmind_item_with_its_twin(askbench_dir: Path) -> None:
    mind = load_records(askbench_dir / DATASETS["ask_mind"]).records
    over = load_records(askbench_dir / DATASETS["ask_overconfidence"]).records
    assert {r.ori_question for r in mind} <= {r.ori_question for r in over}
    assert all(r.source_task.startswith("askrl_demo") for r in [*mind, *over])


def test_named_sets_resolve_locally_without_the_hub(askbench_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import askrl.data.hub as hub

    def no_hub(*args: object, **kwargs: object) -> Path:
        raise AssertionError("the hub must not be used when a local data dir is given")

    monkeypatch.setattr(hub, "download_from_hub", no_hub)
    for name in DATASETS:
        assert resolve_dataset(name, data_dir=askbench_dir).is_file()


def test_same_seed_same_records_and_a_cached_root_is_kept(tmp_path: Path) -> None:
    assert demo_sets(3, seed=4) == demo_sets(3, seed=4)
    assert demo_sets(3, seed=4)["math500"] != demo_sets(3, seed=5)["math500"]
    root = demo_tree(tmp_path, 3, seed=4, datasets=["math500"])
    assert [p.relative_to(root).as_posix() for p in record_files(root)] == ["common/math500/test.jsonl"]
    path = root / DATASETS["math500"]
    path.write_text(path.read_text().splitlines()[0] + "\n")  # a file already there is not rewritten
    demo_tree(tmp_path, 3, seed=4, datasets=["math500"])
    assert len(path.read_text().splitlines()) == 1


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown dataset"):
        demo_tree(tmp_path, 3, datasets=["ask_minds"])
    with pytest.raises(DataError, match="count must be at least 1"):
        demo_tree(tmp_path, 0)


def test_cli_writes_and_validates_the_tree(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "askrl.data", "demo", "--out", str(tmp_path), "--count", "2"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    reports = {Path(r["path"]).relative_to(tmp_path).as_posix(): r["records"]
               for r in map(json.loads, proc.stdout.splitlines())}  # fmt: skip
    assert reports == {rel: 4 if name == "ask_overconfidence" else 2 for name, rel in DATASETS.items()}
