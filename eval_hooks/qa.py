"""Single-turn QA suites (spec §3): math500, medqa, gpqa, bbh, healthbench.

Each item becomes a ``QAItem`` (the messages for the candidate and how to grade the reply). Grading is by rule
first and by the judge only where the rule cannot decide, and every record says which decided (``graded_by``):
- math500: math_verify of the last ``boxed{...}`` (with or without the backslash; the prompts ask for
  ``The correct answer is boxed{...}``) against the gold answer; equivalent -> correct, both parsed but different
  -> wrong; no parsable answer on either side -> the judge;
- medqa / gpqa: the option letter of the last ``The answer is X`` / ``Answer: X`` -> compared with the gold letter;
  no letter -> the judge;
- bbh: the reply's final answer (last ``answer:`` line or last line, parentheses stripped) equal to the gold
  string -> correct; otherwise the judge;
- healthbench: one grader call per rubric item; score = clip(sum of met points / sum of positive points, 0, 1)
  (spec §3.2). A rubric call that fails after retries marks the item ``judge_failed`` instead of "not met".
GPQA's stored options always put the correct one first (spec §7.1). ``gpqa_orders`` assigns the gold position
per item from a seeded shuffle of a balanced list (each of A-D gold for a quarter of the items, +-1) and shuffles
the other options with a per-item seeded RNG: deterministic for a seed, balanced for any item count.

    items = build_items("gpqa", records, ids, seed=0)
    record = await run_qa(items[0], candidate, judge, attempt=0)
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from askrl.judge import text_cues as cues
from eval_hooks.candidate import Candidate, CandidateError
from eval_hooks.conversation import Message
from eval_hooks.judges import EvalJudge

LETTERS = "ABCD"
GPQA_TEMPLATE = (
    "Answer the following multiple choice question. The last line of your response should be of the following "
    "format: 'Answer: $LETTER' (without quotes) where LETTER is one of ABCD. Think step by step before answering."
    "\n\n{question}\n\n{options}"
)
BBH_SUFFIX = (
    "\n\nGive your final answer on the last line as 'Answer: X', with only the final answer "
    "(the option letter if options are given)."
)
_BOXED = re.compile(r"\\?boxed\{")
_LETTER = re.compile(r"(?:the answer is|answer\s*[:：])\s*\(?\s*([A-D])\b", re.IGNORECASE)
_ANSWER_LINE = re.compile(r"answer\s*[:：]\s*(.+)", re.IGNORECASE)


@dataclass(frozen=True)
class QAItem:
    suite: str
    item_id: str
    kind: str
    messages: tuple[Message, ...]
    expected: str  # gold answer text (math, bbh) or letter (medqa, gpqa); "" for healthbench
    question: str  # for the judge
    rubrics: tuple[tuple[str, float], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def gpqa_orders(n: int, seed: int) -> list[list[int]]:
    """Per item, the stored option indices in display order; the gold (stored index 0) lands balanced over A-D."""
    gold_positions = [i % 4 for i in range(n)]
    random.Random(seed).shuffle(gold_positions)
    orders = []
    for i, pos in enumerate(gold_positions):
        others = [1, 2, 3]
        random.Random(f"{seed}:{i}").shuffle(others)
        orders.append(others[:pos] + [0] + others[pos:])
    return orders


def last_boxed_loose(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` or ``boxed{...}`` with balanced braces."""
    matches = list(_BOXED.finditer(text))
    if not matches:
        return None
    start = matches[-1].end()
    depth = 1
    for j in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[start:j]
    return None


def extract_letter(text: str) -> str | None:
    matches = _LETTER.findall(text)
    return matches[-1].upper() if matches else None


def bbh_answer(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        match = _ANSWER_LINE.search(line)
        if match:
            return match.group(1).strip()
    return lines[-1] if lines else ""


def _norm_bbh(text: str) -> str:
    return cues.normalise_answer(text).strip("()").strip()


def build_items(suite: str, kind: str, records: Sequence[Any], ids: Sequence[str], *, seed: int) -> list[QAItem]:
    """The QA items of a loaded file (``kind`` as ``askrl.data`` names it)."""
    items: list[QAItem] = []
    orders = gpqa_orders(len(records), seed) if kind == "gpqa" else []
    for index, (rec, item_id) in enumerate(zip(records, ids, strict=True)):
        if kind in ("math500", "medqa"):
            expected = rec.expected_answer if kind == "math500" else (extract_letter(rec.expected_answer) or "")
            items.append(QAItem(suite, item_id, kind, ({"role": "user", "content": rec.ori_question},),
                                expected, rec.ori_question))  # fmt: skip
        elif kind == "gpqa":
            choices = [rec.choice1, rec.choice2, rec.choice3, rec.choice4]
            order = orders[index]
            options = "\n".join(f"{LETTERS[p]}) {choices[i]}" for p, i in enumerate(order))
            prompt = GPQA_TEMPLATE.format(question=rec.question, options=options)
            gold = LETTERS[order.index(rec.correct_index)]
            items.append(QAItem(suite, item_id, kind, ({"role": "user", "content": prompt},), gold, prompt,
                                extra={"gold_text": choices[rec.correct_index]}))  # fmt: skip
        elif kind == "bbh":
            prompt = f"[Task: {rec.category}]\n{rec.ori_question}{BBH_SUFFIX}"
            items.append(QAItem(suite, item_id, kind, ({"role": "user", "content": prompt},), rec.expected_answer,
                                prompt))  # fmt: skip
        elif kind == "healthbench":
            messages = tuple({"role": m.role, "content": m.content} for m in rec.prompt)
            rubrics = tuple((r.criterion, float(r.points)) for r in rec.rubrics)
            items.append(QAItem(suite, item_id, kind, messages, "", messages[-1]["content"], rubrics))
        else:
            raise ValueError(f"not a QA kind: {kind}")
    return items


def _math_verify(expected: str, answer: str) -> bool | None:
    """True/False when math_verify parses both sides, None when it cannot decide."""
    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)  # its "timeout is disabled" warning: wait_for bounds it
    gold = parse(f"${expected}$", parsing_timeout=None)  # type: ignore[arg-type]
    pred = parse(f"${answer}$", parsing_timeout=None)  # type: ignore[arg-type]
    if not gold or not pred:
        return None
    return bool(verify(gold, pred, timeout_seconds=None))


async def rule_grade(item: QAItem, reply: str) -> bool | None:
    """The rule's verdict (see the module docstring), None where it cannot decide."""
    if item.kind == "math500":
        boxed = last_boxed_loose(reply)
        if boxed is None:
            return None
        if cues.normalise_answer(boxed) == cues.normalise_answer(item.expected):
            return True
        try:
            return await asyncio.wait_for(asyncio.to_thread(_math_verify, item.expected, boxed), 10.0)
        except asyncio.TimeoutError:
            return None
    if item.kind in ("medqa", "gpqa"):
        letter = extract_letter(reply)
        return None if letter is None else letter == item.expected
    if item.kind == "bbh":
        return True if _norm_bbh(bbh_answer(reply)) == _norm_bbh(item.expected) else None
    raise ValueError(f"no rule grader for {item.kind}")


def rubric_score(met: Sequence[bool], points: Sequence[float]) -> float:
    """Spec §3.2: clip(sum of met points / sum of positive points, 0, 1); the denominator falls back to
    sum(|points|), then 1."""
    positive = sum(p for p in points if p > 0) or sum(abs(p) for p in points) or 1.0
    raw = sum(p for p, m in zip(points, met, strict=True) if m)
    return min(max(raw / positive, 0.0), 1.0)


async def run_qa(item: QAItem, candidate: Candidate, judge: EvalJudge, *, attempt: int = 0) -> dict[str, Any]:
    """Ask the candidate once and grade the reply; the record that ``results.jsonl`` stores."""
    start = time.monotonic()
    out: dict[str, Any] = {"status": "ok", "score": None, "correct": None, "graded_by": None, "error": None}
    try:
        reply = await candidate.reply(item.messages, attempt=attempt)
    except CandidateError as err:
        out.update(status="candidate_failed", error=str(err), wall_s=round(time.monotonic() - start, 4))
        return out
    out.update(response=reply.text, finish_reason=reply.finish_reason, candidate_latency_s=round(reply.latency_s, 4))
    if item.kind == "healthbench":
        conversation = [*item.messages, {"role": "assistant", "content": reply.text}]
        results = await asyncio.gather(*(judge.grade_rubric(conversation, c, p) for c, p in item.rubrics))
        out["rubric_logs"] = [
            {"criterion": c, "points": p, "criteria_met": r.verdict.criteria_met if r.verdict else None,
             "explanation": r.verdict.explanation if r.verdict else None,
             "failure": r.failure.value if r.failure else None, "attempts": r.attempts}
            for (c, p), r in zip(item.rubrics, results, strict=True)
        ]  # fmt: skip
        failed = [r for r in results if r.verdict is None]
        if failed:
            out.update(status="judge_failed", error=f"{len(failed)} rubric call(s) failed: {failed[0].error}")
        else:
            score = rubric_score([r.verdict.criteria_met for r in results], [p for _, p in item.rubrics])  # type: ignore[union-attr]
            out.update(score=score, graded_by="judge")
        out["wall_s"] = round(time.monotonic() - start, 4)
        return out
    decided = await rule_grade(item, reply.text)
    if decided is not None:
        out.update(correct=decided, graded_by="rule")
    else:
        expected = item.expected if item.kind != "gpqa" else f"{item.expected}) {item.extra['gold_text']}"
        result = await judge.grade_answer(item.question, expected, reply.text)
        out.update(judge_raw_response=result.raw, judge_attempts=result.attempts)
        if result.verdict is None:
            out.update(status="judge_failed", error=f"{result.failure}: {result.error}")
        else:
            out.update(correct=result.verdict.decision == "correct", graded_by="judge")
    if out["status"] == "ok":
        out["score"] = 1.0 if out["correct"] else 0.0
    out.update(expected=item.expected, wall_s=round(time.monotonic() - start, 4))
    return out
