"""The suites ``python -m eval_hooks.run --suite`` knows, and how each turns its data file into samples.

A suite names a family (``askbench``, ``in3``, ``calibration``, ``qa``), the named data sets it reads (resolved by
``askrl.data.hub``: ``--data-dir``, ``$ASKRL_DATA_DIR`` or the hub) and, for the MedQA slices whose own files are
missing from the release (spec §1.1), a ``source_task`` filter on the main set. Samples are built before any
request is sent, so a bad file stops the run with askrl.data's ``FILE:LINE: field`` errors first.

Calibration (spec §1.4): the AskMind and AskOverconfidence main sets were sampled separately from the same source
benchmarks, so 247 of their 400 ``ori_question`` strings are shared. Each shared item gives three dialogues: the
original clear question, its AskMind (underspecified) variant and its AskOverconfidence (false-premise) variant.

    samples = build_samples(["askmind", "math500"], data_dir=..., limit=10, attempts=1, seed=0)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from askrl.data.hub import resolve_dataset
from askrl.data.loading import LoadedFile, load_records
from askrl.errors import UnknownNameError
from eval_hooks import qa, scenario

Family = Literal["askbench", "in3", "calibration", "qa"]


@dataclass(frozen=True)
class Suite:
    name: str
    family: Family
    datasets: tuple[str, ...]
    kind: str  # askrl.data record kind of the (first) data set
    source_filter: str | None = None


SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite("askmind", "askbench", ("ask_mind",), "askmind"),
        Suite("askmind_math500", "askbench", ("ask_mind_math500de",), "askmind"),
        Suite("askmind_medqa", "askbench", ("ask_mind",), "askmind", "ask_mind_medqade"),
        Suite("askmind_gpqa", "askbench", ("ask_mind_gpqade",), "askmind"),
        Suite("askmind_bbh", "askbench", ("ask_mind_bbhde",), "askmind"),
        Suite("overconfidence", "askbench", ("ask_overconfidence",), "overconfidence"),
        Suite("overconfidence_math500", "askbench", ("ask_overconfidence_math500",), "overconfidence"),
        Suite("overconfidence_medqa", "askbench", ("ask_overconfidence",), "overconfidence", "ask_overconfidence_medqa"),
        Suite("overconfidence_gpqa", "askbench", ("ask_overconfidence_gpqa",), "overconfidence"),
        Suite("overconfidence_bbh", "askbench", ("ask_overconfidence_bbh",), "overconfidence"),
        Suite("questbench", "askbench", ("quest_bench",), "questbench"),
        Suite("in3", "in3", ("in3_interaction",), "in3"),
        Suite("calibration", "calibration", ("ask_mind", "ask_overconfidence"), "askmind"),
        Suite("math500", "qa", ("math500",), "math500"),
        Suite("medqa", "qa", ("medqa",), "medqa"),
        Suite("gpqa", "qa", ("gpqa",), "gpqa"),
        Suite("bbh", "qa", ("bbh",), "bbh"),
        Suite("healthbench", "qa", ("healthbench",), "healthbench"),
    )
}

_SCENARIO = {
    "askmind": scenario.from_askmind,
    "overconfidence": scenario.from_overconfidence,
    "questbench": scenario.from_questbench,
    "in3": scenario.from_in3,
}


@dataclass(frozen=True)
class Sample:
    """One unit of work: a dialogue (``scenario``) or a QA item (``qa_item``), for one attempt."""

    suite: str
    sample_id: str
    item_id: str
    attempt: int
    kind: str  # askbench: scenario type; calibration: clear/underspecified/false_premise; qa: record kind
    scenario: scenario.Scenario | None = None
    qa_item: qa.QAItem | None = None

    def base_record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sample_id": self.sample_id, "id": self.item_id, "suite": self.suite,
                               "attempt": self.attempt, "kind": self.kind}  # fmt: skip
        if self.scenario is not None:
            scn = self.scenario
            out.update(source=scn.source, required_points=list(scn.checklist), ground_truth_answer=scn.expected_answer)
            if scn.vague is not None:
                out["vague"] = scn.vague
        return out


def get_suite(name: str) -> Suite:
    if name not in SUITES:
        raise UnknownNameError(f"unknown suite {name!r}; known: {', '.join(SUITES)}")
    return SUITES[name]


def _load(suite: Suite, index: int, data_dir: str | Path | None) -> LoadedFile:
    kind = suite.kind if index == 0 else "overconfidence"
    return load_records(resolve_dataset(suite.datasets[index], data_dir=data_dir), kind)


def data_files(suite: Suite, data_dir: str | Path | None) -> list[Path]:
    return [resolve_dataset(name, data_dir=data_dir) for name in suite.datasets]


def _items(suite: Suite, data_dir: str | Path | None, seed: int) -> list[tuple[str, str, Any]]:
    """``(item_id, kind, scenario or QAItem)`` for every item of the suite, in file order."""
    loaded = _load(suite, 0, data_dir)
    pairs = list(zip(loaded.ids, loaded.records, strict=True))
    if suite.source_filter is not None:
        pairs = [(i, r) for i, r in pairs if r.source_task == suite.source_filter]
    if suite.family == "qa":
        items = qa.build_items(suite.name, suite.kind, [r for _, r in pairs], [i for i, _ in pairs], seed=seed)
        return [(item.item_id, suite.kind, item) for item in items]
    if suite.family == "calibration":
        over = _load(suite, 1, data_dir)
        by_question = {r.ori_question: (i, r) for i, r in zip(over.ids, over.records, strict=True)}
        out: list[tuple[str, str, Any]] = []
        for item_id, rec in pairs:
            if rec.ori_question not in by_question:
                continue
            _, over_rec = by_question[rec.ori_question]
            out.append((item_id, "clear", scenario.clear(rec)))
            out.append((item_id, "underspecified", scenario.from_askmind(rec)))
            out.append((item_id, "false_premise", scenario.from_overconfidence(over_rec)))
        return out
    build = _SCENARIO[suite.kind]
    source = suite.datasets[0]
    return [(item_id, "", build(rec, source)) for item_id, rec in pairs]  # type: ignore[operator]


def build_samples(
    suite: Suite, *, data_dir: str | Path | None, limit: int | None, attempts: int, seed: int
) -> list[Sample]:
    """The suite's samples: the first ``limit`` items (calibration: items, each three ways) x ``attempts``."""
    items = _items(suite, data_dir, seed)
    if limit is not None:
        per_item = 3 if suite.family == "calibration" else 1
        items = items[: limit * per_item]
    samples = []
    for attempt in range(attempts):
        for item_id, kind, payload in items:
            sid = f"{item_id}:{kind}" if suite.family == "calibration" else item_id
            if attempts > 1:
                sid = f"{sid}#{attempt}"
            if isinstance(payload, qa.QAItem):
                samples.append(Sample(suite.name, sid, item_id, attempt, kind, qa_item=payload))
            else:
                samples.append(Sample(suite.name, sid, item_id, attempt, kind or payload.type, scenario=payload))
    return samples
