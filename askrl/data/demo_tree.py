"""Every named AskBench set (``askrl.data.hub.DATASETS``) filled with generated records, in the AskBench layout.

Why: the evaluator, data preparation, checkpoint evaluation and their tests read AskBench *files* from a data
root (``--data-dir``, ``askrl.eval.data_dir``, ``$ASKRL_DATA_DIR``). A fresh clone has none and an offline machine
cannot reach the hub, so this writes a root of the same shape whose records pass ``askrl.data`` validation: the
AskMind and AskOverconfidence demo records of ``askrl.data.demo`` (the overconfidence file also holds the AskMind
items' false-premise twins, so the ``calibration`` suite pairs the two files on ``ori_question``), and small
arithmetic stand-ins for QuestBench, IN3 and the QA benchmarks (MATH-500, MedQA, GPQA, BBH, HealthBench). Every
record is labelled ``askrl_demo`` where its kind has a field for it. They are fixtures and CPU demos, never a
benchmark, and never copies of AskBench.

    root = demo_tree(tmp_path / "askbench", count=32, seed=0)   # then --data-dir root
    python -m askrl.data demo --out DIR [--count N] [--seed S]
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel

from askrl.data.demo import demo_records, premise_twin
from askrl.data.hub import DATASETS
from askrl.data.records import (
    AskMindRecord,
    BBHRecord,
    GPQARecord,
    HealthBenchRecord,
    In3Record,
    Math500Record,
    MedQARecord,
    QuestBenchRecord,
)
from askrl.errors import DataError

SOURCE = "askrl_demo"
LETTERS = "ABCD"


def write_records(path: Path, records: Iterable[BaseModel]) -> Path:
    """``records`` as JSON lines at ``path`` (parents created), written to a file of this process and renamed into
    place, so a reader (or a second writer of the same cached file) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text("".join(json.dumps(r.model_dump(mode="json", exclude_none=True)) + "\n" for r in records),
                   encoding="utf-8")  # fmt: skip
    tmp.replace(path)
    return path


def askmind_with_twins(askmind: Sequence[AskMindRecord], overconfidence: Sequence[BaseModel] = ()) -> dict[str, list]:
    """The two main files of an evaluation root: AskMind items, and the AskOverconfidence file holding
    ``overconfidence`` first, then every AskMind item's false-premise twin (which ``calibration`` pairs with it)."""
    return {"ask_mind": list(askmind), "ask_overconfidence": [*overconfidence, *map(premise_twin, askmind)]}


def _questbench(count: int, rng: random.Random) -> list[QuestBenchRecord]:
    out = []
    for index in range(count):
        a, b = rng.randint(2, 12), 2 + index  # b counts up: no two questions are the same
        out.append(QuestBenchRecord(
            ori_question=f"Each box holds N eggs. How many eggs are in {b} boxes?",
            expected_answer=str(a * b), degraded_info=f"N = {a} [Eggs per box]",
            required_points=["What is the value of N (Eggs per box)?"]))  # fmt: skip
    return out


def _in3(count: int, rng: random.Random) -> list[In3Record]:
    out = []
    for index in range(count):
        people, days = rng.randint(2, 9), 2 + index  # days counts up: no two tasks are the same
        vague = f"Book a table at an Italian restaurant in {days} days."
        full = f"Book a table for {people} people at an Italian restaurant in {days} days."
        if index % 2:  # a clear task: nothing to ask
            out.append(In3Record(id=index, task=full, vague=False, ori_question=full, degraded_question=full,
                                 degraded_info="The task is clear.", required_points=[], category=SOURCE))  # fmt: skip
            continue
        point = "How many people is the table for?"
        out.append(In3Record(
            id=index, task=vague, vague=True, ori_question=full, degraded_question=vague,
            degraded_info=f"The table is for {people} people.", required_points=[point],
            required_point_answers={point: f"{people} people"}, category=SOURCE))  # fmt: skip
    return out


_WORDS = ("one two three four five six seven eight nine ten eleven twelve").split()
#: MATH-500 stand-ins: (question with {a} and {b}, answer); two of every eight spell their numbers out, as some
#: MATH-500 questions have no plain number, which the data builder cannot blur.
_MATH = (
    ("A baker makes {a} trays of {b} rolls. How many rolls does the baker make?", lambda a, b: a * b),
    ("Ana reads {a} pages a day for {b} days. How many pages does she read?", lambda a, b: a * b),
    ("A bus carries {a} people on each of {b} trips. How many people does it carry in all?", lambda a, b: a * b),
    ("What is {wa} plus {wb}?", lambda a, b: a + b),
    ("A garden has {a} rows with {b} tulips in each row. How many tulips are there?", lambda a, b: a * b),
    ("Leo saves {a} dollars a week for {b} weeks. How many dollars does he save?", lambda a, b: a * b),
    ("A shelf holds {a} jars and {b} more are added. How many jars are on the shelf now?", lambda a, b: a + b),
    ("What is {wa} times {wb}?", lambda a, b: a * b),
)


def _math500(count: int, rng: random.Random) -> list[Math500Record]:
    out = []
    for index in range(count):
        question, answer = _MATH[index % len(_MATH)]
        a, b = 1 + (index // len(_MATH)) % len(_WORDS), rng.randint(2, 12)  # a counts up: no two are the same
        value = answer(a, b)
        out.append(Math500Record(ori_question=question.format(a=a, b=b, wa=_WORDS[a - 1], wb=_WORDS[b - 1]),
                                 expected_answer=str(value), solution=f"From {a} and {b}: {value}."))  # fmt: skip
    return out


def _choices(index: int, rng: random.Random) -> tuple[str, int, list[int]]:
    a, b = 11 + index, rng.randint(11, 49)  # a counts up: no two questions are the same
    right = a + b
    return f"What is {a} + {b}?", right, [right, right + 10, right - 10, right + 1]


def _medqa(count: int, rng: random.Random) -> list[MedQARecord]:
    out = []
    for index in range(count):
        question, _, values = _choices(index, rng)
        shuffled = rng.sample(values, 4)
        options = "\n".join(f"{LETTERS[i]}. {v}" for i, v in enumerate(shuffled))
        out.append(MedQARecord(
            ori_question=("Please answer the following multiple-choice question, ending your response with the "
                          f"correct option in the format: 'The answer is A.'.\n\n{question}\n{options}"),
            expected_answer=f"The answer is {LETTERS[shuffled.index(values[0])]}."))  # fmt: skip
    return out


def _gpqa(count: int, rng: random.Random) -> list[GPQARecord]:
    """As the shipped GPQA file: the correct choice always first (``correct_index`` 0); the evaluator shuffles."""
    out = []
    for index in range(count):
        question, _, values = _choices(index, rng)
        out.append(GPQARecord(question=question, choice1=str(values[0]), choice2=str(values[1]),
                              choice3=str(values[2]), choice4=str(values[3]), correct_index=0, subdomain=SOURCE,
                              record_id=f"{SOURCE}_{index}"))  # fmt: skip
    return out


def _bbh(count: int, rng: random.Random) -> list[BBHRecord]:
    out = []
    for index in range(count):
        a, b, c = 2 + index, rng.randint(-9, 9), rng.randint(2, 5)  # a counts up: no two are the same
        out.append(BBHRecord(ori_question=f"(({a} + {b}) * {c}) =", expected_answer=str((a + b) * c),
                             category="multistep_arithmetic_two"))  # fmt: skip
    return out


def _healthbench(count: int, rng: random.Random) -> list[HealthBenchRecord]:
    out = []
    for index in range(count):
        hours = 2 + index  # no two prompts are the same
        prompt = f"I have had a mild headache after {hours} hours at a screen. What should I do?"
        out.append(HealthBenchRecord(prompt=[{"role": "user", "content": prompt}], rubrics=[
            {"criterion": "Suggests regular breaks from the screen", "points": 5},
            {"criterion": "Advises seeing a doctor if the headache is severe or does not go away", "points": 3},
            {"criterion": "Recommends a prescription drug without seeing a doctor", "points": -4},
        ], canary=SOURCE))  # fmt: skip
    return out


_QA_MAKERS: dict[str, Callable[[int, random.Random], list]] = {
    "quest_bench": _questbench, "in3_interaction": _in3, "math500": _math500, "medqa": _medqa, "gpqa": _gpqa,
    "bbh": _bbh, "healthbench": _healthbench,
}  # fmt: skip


def demo_sets(count: int, *, seed: int = 0) -> dict[str, list]:
    """Records of every named set: ``count`` per set (the AskOverconfidence files also hold the AskMind twins)."""
    sets = askmind_with_twins(demo_records("askmind", count, seed=seed), demo_records("overconfidence", count, seed=seed))
    for offset, (mind, over) in enumerate((("ask_mind_math500de", "ask_overconfidence_math500"),
                                           ("ask_mind_gpqade", "ask_overconfidence_gpqa"),
                                           ("ask_mind_bbhde", "ask_overconfidence_bbh")), start=1):  # fmt: skip
        sub_seed = seed * 10 + offset  # each slice its own items, as the real slices are
        sets[mind] = demo_records("askmind", count, seed=sub_seed)
        sets[over] = demo_records("overconfidence", count, seed=sub_seed)
    rng = random.Random(seed)
    for name, make in _QA_MAKERS.items():
        sets[name] = make(count, rng)
    missing = set(DATASETS) - set(sets)
    if missing:  # a set added to the hub table must get generated records too
        raise DataError(f"demo_tree has no generator for {sorted(missing)}")
    return sets


def demo_tree(root: Path, count: int = 32, *, seed: int = 0, datasets: Iterable[str] | None = None) -> Path:
    """Write the generated records of ``datasets`` (default: every named set) under ``root`` in the AskBench layout;
    files already there are kept, so a cached root costs nothing. Returns ``root``."""
    if count < 1:
        raise DataError(f"demo_tree: count must be at least 1, got {count}")
    wanted = list(DATASETS) if datasets is None else list(datasets)
    unknown = [name for name in wanted if name not in DATASETS]
    if unknown:
        raise DataError(f"demo_tree: unknown dataset(s) {unknown}; known: {sorted(DATASETS)}")
    if all((root / DATASETS[name]).is_file() for name in wanted):
        return root
    sets = demo_sets(count, seed=seed)
    for name in wanted:
        if not (root / DATASETS[name]).is_file():
            write_records(root / DATASETS[name], sets[name])
    return root

