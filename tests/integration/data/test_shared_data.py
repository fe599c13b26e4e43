"""The real AskBench files (``-m askbench_data``): every record file under ../shared/data/askbench loads with the
kind and count askbench_spec.md §1.1 gives, and the main sets have the spec's checklist statistics.

These are the only tests that read the real data (never copied into the repo); a clone without it skips them, and
every other test reads the project's own AskBench-format records (``askbench_dir``, ``askrl.data.demo_tree``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from askrl.data.loading import load_records, record_files
from askrl.data.verl_rows import records_to_rows

EXPECTED = {
    "ask_bench/ask_mind/test.jsonl": ("askmind", 400),
    "ask_bench/ask_mind/ask_mind_math500de/test.jsonl": ("askmind", 367),
    "ask_bench/ask_mind/ask_mind_gpqade/test.jsonl": ("askmind", 187),
    "ask_bench/ask_mind/ask_mind_bbhde/test.jsonl": ("askmind", 1000),
    "ask_bench/ask_overconfidence/test.jsonl": ("overconfidence", 400),
    "ask_bench/ask_overconfidence/ask_overconfidence_math500/test.jsonl": ("overconfidence", 496),
    "ask_bench/ask_overconfidence/ask_overconfidence_gpqa/test.jsonl": ("overconfidence", 186),
    "ask_bench/ask_overconfidence/ask_overconfidence_bbh/test.jsonl": ("overconfidence", 1000),
    "ask_bench/ask_overconfidence/ask_overconfidence_bbh/test_ori.jsonl": ("overconfidence", 1500),
    "ask_bench/quest_bench/test.jsonl": ("questbench", 206),
    "ask_bench/quest_bench/test_logi.jsonl": ("questbench_logi", 288),
    "ask_bench/in3_interaction/test.jsonl": ("in3", 25),
    "common/math500/test.jsonl": ("math500", 500),
    "common/medqa/test.jsonl": ("medqa", 1273),
    "common/gpqa/test.jsonl": ("gpqa", 198),
    "common/bbh/test.jsonl": ("bbh", 1000),
    "common/bbh/test_ori.jsonl": ("bbh", 6511),
    "common/healthbench/test.jsonl": ("healthbench", 500),
}


pytestmark = pytest.mark.askbench_data


def test_every_file_loads_with_spec_kind_count_and_unique_ids(real_askbench: Path) -> None:
    for relative, (kind, count) in sorted(EXPECTED.items()):
        loaded = load_records(real_askbench / relative)
        assert (relative, loaded.kind, len(loaded.records)) == (relative, kind, count)
        assert len(set(loaded.ids)) == count, relative


def test_every_record_file_is_covered(real_askbench: Path) -> None:
    found = {str(p.relative_to(real_askbench)) for p in record_files(real_askbench)}
    assert found == set(EXPECTED)


def test_main_sets_have_spec_checklist_statistics(real_askbench: Path) -> None:
    mind = load_records(real_askbench / "ask_bench/ask_mind/test.jsonl").records
    over = load_records(real_askbench / "ask_bench/ask_overconfidence/test.jsonl").records
    assert round(sum(len(r.required_points) for r in mind) / len(mind), 2) == 3.85
    assert round(sum(len(r.misleading_points) for r in over) / len(over), 2) == 2.25
    assert {r.source_task for r in mind} == {
        "ask_mind_math500de", "ask_mind_medqade", "ask_mind_gpqade", "ask_mind_bbhde"
    }


def test_cli_validates_the_whole_folder(real_askbench: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "askrl.data", "validate", str(real_askbench)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    reports = [json.loads(line) for line in proc.stdout.splitlines()]
    by_path = {str(Path(r["path"]).relative_to(real_askbench)): (r["kind"], r["records"]) for r in reports}
    assert by_path == EXPECTED


def test_rows_from_real_records_carry_hidden_fields(real_askbench: Path) -> None:
    over = load_records(real_askbench / "ask_bench/ask_overconfidence/test.jsonl").records
    rows = records_to_rows(over[:3])
    assert rows[0]["prompt"] == [{"role": "user", "content": over[0].overconfidence_question}]
    assert rows[2]["extra_info"]["checklist"] == over[2].misleading_points
    assert rows[2]["extra_info"]["index"] == 2
