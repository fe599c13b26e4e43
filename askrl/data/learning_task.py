"""A clarification task built for showing learning on CPU: a question about an unknown ``x``, and its clear twin.

Why: the learning benchmark (``scripts/bench_learning.py``) has to show a 135M policy change its behaviour in a few
GRPO steps on 2 cores, graded by the offline lexical judge. So every item is as small as a clarification item can
be: a one-line arithmetic question about ``x`` ("What is x + 3?") whose clear twin only adds the fact ("x = 5.").
Every prompt, clear or not, ends with the same instruction (``HINT``: ask what x is when you do not know it), so
the two differ in the fact alone and the policy has to learn *when* to ask, not what. Why this shape rather than word
problems ("How much do 3 pens cost?"): probing SmolLM2-135M-Instruct (Q4_1 weights) at the evaluator's sampling
settings, a question naming the missing fact of a word problem came in 0-6 % of its replies, too rare for GRPO
groups of 8 to disagree on; "what is x" comes in about 9 %, and prompts of ~50 tokens keep a step under a minute.
The checklist item ("the value of x") is hit lexically by any question that names x, including one that repeats
the user's question back; the benchmark prints sample replies so a reader sees which it learned.

What it writes:
- training rows (VERL parquet rows, ``askrl.data.verl_rows`` layout): each underspecified item, and its clear twin
  as a row with an empty checklist, marked ``extra_info.clear`` for the row checks (the clarify loop grades its
  first turn as the final answer: asking there costs ``final.still_asking``), so the reward pays for asking where
  the fact is missing and only there;
- held-out evaluation data in the AskBench layout (``ask_bench/ask_mind/test.jsonl`` and the items' false-premise
  twins in ``ask_bench/ask_overconfidence/test.jsonl``), which the evaluator's ``calibration`` suite turns into
  the clear, underspecified and false-premise dialogue of every item.

    records = learning_records(48, seed=0)
    rows = training_rows(records)
    write_eval_data(learning_records(32, seed=1), Path("eval_data"))
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from askrl.data.demo_tree import askmind_with_twins, write_records
from askrl.data.hub import DATASETS
from askrl.data.records import AskMindRecord
from askrl.data.verl_rows import record_to_row

HINT = "If x is not given, just ask: What is x? Else reply with the answer in one short sentence."
SOURCE_TASK = "askrl_learning_task"
FACT = "x = {a}."
POINT = "the value of x"


@dataclass(frozen=True)
class _Form:
    question: str  # with {b}
    answer: Callable[[int, int], int]  # of x = a and b


_FORMS = (
    _Form("What is x + {b}?", lambda a, b: a + b),
    _Form("What is {b} times x?", lambda a, b: a * b),
    _Form("What is x minus {b}?", lambda a, b: a - b),
    _Form("What is x plus {b}?", lambda a, b: a + b),
    _Form("What is {b} + x?", lambda a, b: a + b),
    _Form("What is x times {b}?", lambda a, b: a * b),
)


def learning_records(count: int, *, seed: int) -> list[AskMindRecord]:
    """``count`` deterministic items, cycling through the forms with random ``x`` and operand (``seed``)."""
    rng = random.Random(seed)
    records = []
    for index in range(count):
        form = _FORMS[index % len(_FORMS)]
        a, b = rng.randint(2, 12), rng.randint(2, 9)
        fact, question = FACT.format(a=a), form.question.format(b=b)
        records.append(AskMindRecord(
            id=hashlib.sha256(f"{SOURCE_TASK}:{seed}:{index}".encode()).hexdigest(),
            ori_question=f"{fact} {question} {HINT}",
            expected_answer=str(form.answer(a, b)),
            degraded_question=f"{question} {HINT}",
            degraded_info=fact,
            required_points=[POINT],
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
    for name, items in askmind_with_twins(records).items():
        write_records(root / DATASETS[name], items)
    return root
