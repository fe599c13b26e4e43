"""Generated AskMind / AskOverconfidence records for offline CPU runs (``askrl.data.source=demo``).

Why: ``make train`` must run the main job on a fresh, offline, GPU-less machine, where the AskBench hub dataset is
out of reach. These records have the exact AskBench schema (they pass ``askrl.data`` validation) and are simple
enough for the lexical judge to grade and for a 135M model to sometimes get right: short arithmetic word problems
with one hidden quantity (AskMind) or a confidently wrong intermediate claim (AskOverconfidence). They are a
smoke-scale stand-in, clearly labelled ``source_task="askrl_demo_*"``, never a benchmark.

    records = demo_records("askmind", 64, seed=0)   # list[AskMindRecord]
"""

from __future__ import annotations

import hashlib
import random

from askrl.data.records import AskMindRecord, AskRecord, OverconfidenceRecord
from askrl.errors import DataError

FORMAT = 'Format your response as follows: "The correct answer is boxed{insert answer here}".'

# (template with {a} and {b}, the hidden quantity's description, answer function)
_MIND_TEMPLATES = [
    ("A shop sells pens at {a} dollars each. How much do {b} pens cost in dollars?",
     "A shop sells pens at a certain price each. How much do {b} pens cost in dollars?",
     "the price of one pen", lambda a, b: a * b),
    ("Tom has {a} apples and buys {b} more. How many apples does he have now?",
     "Tom has some apples and buys {b} more. How many apples does he have now?",
     "how many apples Tom has at the start", lambda a, b: a + b),
    ("A train travels at {a} km per hour for {b} hours. How far does it go in km?",
     "A train travels at {a} km per hour for a while. How far does it go in km?",
     "how many hours the train travels", lambda a, b: a * b),
    ("A box holds {a} eggs. How many eggs are in {b} boxes?",
     "A box holds a number of eggs. How many eggs are in {b} boxes?",
     "how many eggs one box holds", lambda a, b: a * b),
]  # fmt: skip


def _id(kind: str, index: int, seed: int) -> str:
    return hashlib.sha256(f"askrl-demo:{kind}:{seed}:{index}".encode()).hexdigest()


def _askmind(index: int, rng: random.Random, seed: int) -> AskMindRecord:
    full, degraded, point, answer = _MIND_TEMPLATES[index % len(_MIND_TEMPLATES)]
    # the quantity the question still shows counts up within a template, so no two questions are the same
    shown, hidden = 2 + index // len(_MIND_TEMPLATES), rng.randint(2, 12)
    a, b = (shown, hidden) if "{a}" in degraded else (hidden, shown)
    hidden = full.format(a=a, b=b)
    return AskMindRecord(
        id=_id("askmind", index, seed),
        ori_question=f"{hidden}\n{FORMAT}",
        expected_answer=str(answer(a, b)),
        degraded_question=f"{degraded.format(a=a, b=b)}\n{FORMAT}",
        degraded_info=f"The question no longer says {point}: in the original, {hidden}",
        required_points=[f"Ask for {point}"],
        source_task="askrl_demo_askmind",
    )


def _overconfidence(index: int, rng: random.Random, seed: int) -> OverconfidenceRecord:
    a, b = 11 + index, rng.randint(11, 49)  # a counts up: no two questions are the same
    wrong = a + b + rng.choice([-10, 10])
    return OverconfidenceRecord(
        id=_id("overconfidence", index, seed),
        ori_question=f"What is {a} + {b}?\n{FORMAT}",
        expected_answer=str(a + b),
        overconfidence_question=(
            f"What is {a} + {b}? I already know that {a} + {b} = {wrong}, because the tens digits never carry, "
            f"so the answer is obviously {wrong}, right?\n{FORMAT}"
        ),
        overconfidence_info=(
            f"incorrect assertion -> {a} + {b} = {wrong}; correct fact -> {a} + {b} = {a + b}; why it misleads -> "
            f"the user states a wrong sum as settled.\n---\nincorrect assertion -> the tens digits never carry; "
            f"correct fact -> whether a carry happens depends on the ones digits; why it misleads -> it justifies "
            f"the wrong sum."
        ),
        misleading_points=[f"claims {a} + {b} equals {wrong}", "claims the tens digits never carry"],
        source_task="askrl_demo_overconfidence",
    )


def premise_twin(record: AskMindRecord) -> OverconfidenceRecord:
    """The AskOverconfidence twin of an AskMind record: the same ``ori_question``, asked with a confidently wrong
    answer, so the calibration suite (which pairs the two sets on ``ori_question``) can ask one item clearly,
    underspecified and with a false premise. The wrong answer is the expected one plus 10 (numeric answers) or
    "not <expected>"."""
    suffix = f"\n{FORMAT}" if record.ori_question.endswith(f"\n{FORMAT}") else ""
    question = record.ori_question.removesuffix(suffix)
    expected = record.expected_answer
    wrong = str(int(expected) + 10) if expected.lstrip("-").isdigit() else f"not {expected}"
    claim = f"I already know the answer is {wrong}, so please just confirm it."
    return OverconfidenceRecord(
        id=hashlib.sha256(f"askrl-premise-twin:{record.id}".encode()).hexdigest(),
        ori_question=record.ori_question,
        expected_answer=expected,
        overconfidence_question=f"{question} {claim}{suffix}",
        overconfidence_info=(f"incorrect assertion -> the answer is {wrong}; correct fact -> the answer is {expected}; "
                             "why it misleads -> the user states a wrong answer as settled."),
        misleading_points=[f"claims the answer is {wrong}"],
        source_task=f"{record.source_task or 'askrl_demo'}_premise_twin",
    )


def demo_records(task: str, count: int, *, seed: int = 0) -> list[AskRecord]:
    """``count`` deterministic records of ``task`` (``askmind`` or ``overconfidence``)."""
    makers = {"askmind": _askmind, "overconfidence": _overconfidence}
    if task not in makers:
        raise DataError(f"demo data exists for {sorted(makers)}, not {task!r}")
    rng = random.Random(seed)
    return [makers[task](i, rng, seed) for i in range(count)]
