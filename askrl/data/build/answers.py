"""Does a solver's or the policy's final answer match the expected one? A rule check, no LLM.

Who uses it: the ``still_answerable`` gate (``pipeline.py``) and pass-rate sampling (``difficulty.py``). Both sides
are reduced to the bare answer the same way (the content of the last ``boxed{...}``, else the text after the last
"Final Answer:" / "The answer is" marker, wrappers and end punctuation removed), then compared by normalised
equality and, failing that, ``math_verify`` equivalence under a deadline. There is deliberately no "contains"
rule: "cannot be determined without the 3 values" must not match the answer ``3``. It reads exact-form answers
(numbers, LaTeX, option letters, short strings); for free-text answers it errs towards "no match".

How it fails: returns ``None`` when ``math_verify`` ran past its deadline; the caller counts that sample as failed
rather than guessing.

    await answer_matches("12", "The correct answer is boxed{12}")   # True
    await answer_matches("The answer is B.", "B")                    # True
"""

from __future__ import annotations

import asyncio
import logging
import re

from askrl.judge import text_cues as cues

logger = logging.getLogger(__name__)

MATH_VERIFY_TIMEOUT_S = 5.0
_MATHY = re.compile(r"[0-9\\^_/*+=<>π√]")
_MATH_LOCKS: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
_MARKER = re.compile(r"(?:final answer|the (?:correct |final )?answer is|answer)\s*[:：]?\s*", re.IGNORECASE)


def _last_boxed(text: str) -> str | None:
    """The content of the last ``boxed{...}`` (with or without the backslash), braces balanced."""
    start = max(text.rfind("\\boxed{"), text.rfind("boxed{"))
    if start == -1:
        return None
    depth = 0
    begin = text.index("{", start)
    for j in range(begin, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[begin + 1 : j]
    return None


def bare_answer(text: str) -> str:
    """The answer ``text`` commits to, without markers, wrappers or end punctuation."""
    boxed = _last_boxed(text)
    if boxed is not None:
        return boxed.strip()
    parts = _MARKER.split(text)
    tail = parts[-1].strip().splitlines() if len(parts) > 1 else [text.strip()]
    return (tail[0] if tail else "").strip()


def _math_lock() -> asyncio.Lock:
    """The running loop's lock around ``math_verify`` (a lock belongs to one event loop)."""
    loop = asyncio.get_running_loop()
    if loop not in _MATH_LOCKS:
        _MATH_LOCKS.clear()  # an earlier loop is finished: its lock is of no use
        _MATH_LOCKS[loop] = asyncio.Lock()
    return _MATH_LOCKS[loop]


class _NoTimeoutWarning(logging.Filter):
    """Drops math_verify's per-call note that its own timeout is off: ``asyncio.wait_for`` bounds it instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Timeout is disabled")


for _name in ("math_verify.parser", "math_verify.grader"):
    logging.getLogger(_name).addFilter(_NoTimeoutWarning())


def _math_equivalent(expected: str, answer: str) -> bool:
    from math_verify import parse, verify  # lazily: sympy costs ~0.3 s at first import

    gold = parse(f"${expected}$", parsing_timeout=None)  # type: ignore[arg-type]  # bounded by wait_for
    pred = parse(f"${answer}$", parsing_timeout=None)  # type: ignore[arg-type]
    return bool(gold and pred and verify(gold, pred, timeout_seconds=None))


def _looks_mathematical(text: str) -> bool:
    """A digit, TeX or an operator: worth a ``math_verify`` check (plain words never are)."""
    return bool(_MATHY.search(text))


async def answer_matches(expected: str, answer: str) -> bool | None:
    """``True``/``False``, or ``None`` when the equivalence check timed out."""
    gold, pred = bare_answer(expected), bare_answer(answer)
    if not cues.normalise_answer(pred):
        return False
    if cues.normalise_answer(gold) == cues.normalise_answer(pred):
        return True
    if not _looks_mathematical(pred):
        return False
    try:
        # One check at a time: concurrent sympy work in threads only contends for the GIL (and, at first use,
        # for its import), so the deadline bounds the check itself rather than time spent queueing for the GIL.
        async with _math_lock():
            return await asyncio.wait_for(asyncio.to_thread(_math_equivalent, gold, pred), MATH_VERIFY_TIMEOUT_S)
    except asyncio.TimeoutError:
        logger.warning("math_verify ran past %.1f s comparing %r with %r", MATH_VERIFY_TIMEOUT_S, pred[:80], gold[:80])
        return None
