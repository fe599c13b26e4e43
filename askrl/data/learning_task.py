"""A clarification task built for showing learning on CPU: one missing fact per prompt, and its clear twin.

Why: the learning benchmark (``scripts/bench_learning.py``) has to show a 135M policy change its behaviour in a few
GRPO steps on 2 cores, graded by the offline lexical judge. So every item is as simple as a clarification item can
be: a one-line arithmetic question about the user's own situation with exactly one fact left out (AskMind), whose
clear twin differs from it only in that fact. The checklist item ("Ask for the pen price") has two or three content
words, so a question that names the missing quantity ("What is the price of a pen?") hits it lexically. Every
prompt ends with the same short instruction (``HINT``), clear or not, so the two differ in the fact alone and the
policy's baseline asks often enough (about a third of SmolLM2's replies) for GRPO groups to disagree.

What it writes:
- training rows (VERL parquet rows, ``askrl.data.verl_rows`` layout): each underspecified item, and its clear twin
  as a row with an empty checklist, marked ``extra_info.clear`` for the row checks (the clarify loop grades its first turn as the final answer: asking there
  costs ``final.still_asking``), so the reward pays for asking where a fact is missing and only there;
- held-out evaluation data in the AskBench layout (``ask_bench/ask_mind/test.jsonl`` and the items' false-premise
  twins in ``ask_bench/ask_overconfidence/test.jsonl``), which the evaluator's ``calibration`` suite turns into
  the clear, underspecified and false-premise dialogue of every item.

    records = learning_records(48, seed=0)
    rows = training_rows(records)
    write_eval_data(learning_records(32, seed=1), Path("eval_data"))
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from askrl.data.demo import premise_twin
from askrl.data.records import AskMindRecord
from askrl.data.verl_rows import record_to_row

HINT = "If I left out something you need, ask me for it. Reply in one short sentence."
SOURCE_TASK = "askrl_learning_task"


@dataclass(frozen=True)
class _Template:
    fact: str  # the missing fact as the user would state it, with {a}
    question: str  # the question, with {b}
    point: str  # the checklist item: what to ask for
    answer: Callable[[int, int], int]


_TEMPLATES = (
    _Template("One pen costs {a} dollars.", "How much do {b} pens cost in dollars?", "the pen price",
              lambda a, b: a * b),
    _Template("I am {a} years old.", "How old will I be in {b} years?", "how old you are now", lambda a, b: a + b),
    _Template("My car drives {a} km per hour.", "How many km does my car drive in {b} hours?", "the car speed",
              lambda a, b: a * b),
    _Template("A box holds {a} eggs.", "How many eggs are in {b} boxes?", "eggs per box", lambda a, b: a * b),
    _Template("My room is {a} meters long.", "My room is {b} meters wide: what is its area in square meters?",
              "the room length", lambda a, b: a * b),
    _Template("I read {a} pages a day.", "How many pages do I read in {b} days?", "pages per day",
              lambda a, b: a * b),
    _Template("I save {a} dollars each week.", "How many dollars do I save in {b} weeks?",
              "how much you save each week", lambda a, b: a * b),
    _Template("I had {a} apples at first.", "I buy {b} more apples. How many apples do I have now?",
              "the apples at first", lambda a, b: a + b),
)  # fmt: skip


def learning_records(count: int, *, seed: int) -> list[AskMindRecord]:
    """``count`` deterministic items, cycling through the templates with random quantities (``seed``)."""
    rng = random.Random(seed)
    records = []
    for index in range(count):
        template = _TEMPLATES[index % len(_TEMPLATES)]
        a, b = rng.randint(2, 12), rng.randint(2, 9)
        fact, question = template.fact.format(a=a), template.question.format(b=b)
        records.append(AskMindRecord(
            id=hashlib.sha256(f"{SOURCE_TASK}:{seed}:{index}".encode()).hexdigest(),
            ori_question=f"{fact} {question} {HINT}",
            expected_answer=str(template.answer(a, b)),
            degraded_question=f"{question} {HINT}",
            degraded_info=fact,
            required_points=[f"Ask for {template.point}"],
            source_task=SOURCE_TASK,
        ))
    return records


def clear_row(record: AskMindRecord, index: int) -> dict[str, Any]:
    """The clear twin as a training row: the original question, nothing hidden, an empty checklist."""
    row = record_to_row(record, index)
    row["prompt"] = [{"role": "user", "content": record.ori_question}]
    row["extra_info"] = {**row["extra_info"], "hidden_info": "", "checklist": [], "id": f"{record.id}:clear",
                         "clear": True}
    return row


def training_rows(records: Iterable[AskMindRecord]) -> list[dict[str, Any]]:
    """Every item twice, interleaved: underspecified, then its clear twin."""
    rows: list[dict[str, Any]] = []
    for record in records:
        rows.append(record_to_row(record, len(rows)))
        rows.append(clear_row(record, len(rows)))
    return rows


def write_eval_data(records: list[AskMindRecord], root: Path) -> Path:
    """The items and their false-premise twins in the AskBench layout under ``root`` (for ``--data-dir``)."""
    files = {"ask_bench/ask_mind/test.jsonl": records,
             "ask_bench/ask_overconfidence/test.jsonl": [premise_twin(r) for r in records]}
    for rel, items in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r.model_dump(mode="json", exclude_none=True)) + "\n" for r in items))
    return root
