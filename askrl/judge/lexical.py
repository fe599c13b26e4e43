"""The ``lexical`` judge: a deterministic, offline stand-in for the LLM judge (token overlap, no model).

Who uses it: ``build_judge`` when ``askrl.judge.backend=lexical`` (tests, CPU smoke runs, the scripted test
server's judge role). It implements the ``Judge`` protocol, so callers never branch on the backend; every result
says ``endpoint="lexical"`` and ``metrics()`` carries ``judge/backend_lexical=1``. It is a heuristic, not a
reproduction of the paper's judge: numbers trained or evaluated with it are labelled lexical.

Contract (spec §4.2 semantics, read lexically):
- ``grade_turn``: ``hits[i]`` when a sentence that asks (AskMind: a question or explicit request) or pushes back
  (AskOverconfidence: a correction cue such as "actually/incorrect/not/wrong", or a question) contains at least
  ``hit_threshold`` of item i's distinctive content words (words shared by every item do not count).
  The turn is a final answer when it has a final-answer marker ("Final Answer:", "The answer is", ``\\boxed{``)
  and asks nothing; under ``request.strict`` (AskBench's strict protocol) a marker makes it final even when it
  also asks. Facts are missing when some item is neither resolved nor supplied (AskMind: by a later user message,
  ``hit_threshold`` of its distinctive words; AskOverconfidence: corrected by this turn).
  Prompt set v1 returns ``TurnVerdict`` (``answered_final`` = a final answer; ``irrelevant_or_redundant`` when it
  asks but hits no unresolved item), v2 ``TurnVerdictV2`` (``reasoning``, ``is_final_answer``, ``facts_missing``),
  v3 ``TurnVerdictV3`` (plus ``irrelevant_questions``: asking sentences sharing no content word with any item,
  nor, AskMind, with the question and hidden information).
- ``grade_final``: ``still_asking`` for a question without a final marker; strict: a hedged answer ("A or B") is wrong; else the committed answer is compared to the expected one by normalised
  match, then by ``math_verify`` equivalence. v1 returns ``FinalVerdict``, v2 ``FinalVerdictV2``.
- ``simulate_user``: AskMind answers each checklist item a question asks for (per clause of the question, the items
  it covers best, with at least ``hit_threshold`` of their distinctive words) with the hidden-information sentence sharing the most content words with the item and the question, and a
  question that asks for no item with the best sentence that gives no item away (at most ``user_max_sentences`` in
  all, in hidden-information order), never a sentence that contains the expected answer and never one that gives
  away an item nobody asked for; AskOverconfidence accepts a correction or keeps its position. v3 adds the report
  ``supplied``: AskMind, the items whose sentence the reply gives; AskOverconfidence, the claims the turn corrected.

How it fails: only a ``math_verify`` check that runs past ``math_verify_timeout_s`` fails (``TIMEOUT``); nothing
raises into the caller.

    judge = LexicalJudge(LexicalConfig())
    result = await judge.grade_turn(request)   # JudgeResult[TurnVerdict]
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from typing import TypeVar

from askrl.judge import text_cues as cues
from askrl.judge.config import LexicalConfig
from askrl.judge.stats import JudgeStats
from askrl.judge.templates import DEFAULT_VERSION
from askrl.judge.types import (
    AnyFinalVerdict,
    AnyTurnVerdict,
    FailureKind,
    FinalVerdict,
    FinalVerdictV2,
    JudgeRequest,
    JudgeResult,
    TurnVerdict,
    TurnVerdictV2,
    TurnVerdictV3,
    UserReply,
    UserReplyV3,
)

logger = logging.getLogger(__name__)

V = TypeVar("V")

NOTHING_TO_ADD = "I'm not sure about that; I don't have anything else to add."
#: Where one asking sentence holds several questions ("How many boxes, and how many apples in each?").
_CLAUSE = re.compile(r",|;|\band\b")
KEEP_POSITION = "I'm fairly confident about what I said. Could you answer my question?"
ACCEPT_CORRECTION = "Oh, you're right, I was mistaken about that. Thanks for correcting me."


class _MathVerifyTimeoutNoise(logging.Filter):
    """Drops math_verify's per-call warning that its signal timeout is off: we bound it with ``asyncio.wait_for``
    instead (its signal alarm only works on the main thread, and this check runs in a worker thread)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Timeout is disabled")


def _math_equivalent(expected: str, answer: str) -> bool:
    """``math_verify`` equivalence of two answers (blocking; called in a worker thread)."""
    from math_verify import parse, verify  # imported lazily: sympy costs ~0.3 s at first import

    _quiet_math_verify()
    wrapped = answer if "$" in answer or "\\boxed" in answer else f"${answer}$"
    gold = parse(f"${expected}$", parsing_timeout=None)  # type: ignore[arg-type]  # None: bounded by wait_for
    pred = parse(wrapped, parsing_timeout=None)  # type: ignore[arg-type]
    return bool(gold and pred and verify(gold, pred, timeout_seconds=None))


@functools.cache
def _quiet_math_verify() -> None:
    """Install the filter once (``functools.cache``; a rare double install from two threads is harmless)."""
    for name in ("math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).addFilter(_MathVerifyTimeoutNoise())


def distinctive_tokens(checklist: tuple[str, ...]) -> list[set[str]]:
    """Each item's content words minus those every item shares (the shared subject, e.g. "Tom", "apples"), so a
    question about one item does not also hit its siblings; an item left with no word keeps all of its own."""
    words = [cues.content_tokens(item) for item in checklist]
    shared = set.intersection(*words) if len(words) > 1 else set()
    return [(w - shared) or w for w in words]


class LexicalJudge:
    """Implements ``askrl.judge.types.Judge`` by token overlap; safe to call concurrently."""

    name = "lexical"

    def __init__(self, cfg: LexicalConfig | None = None, prompt_version: str = DEFAULT_VERSION) -> None:
        self.cfg = cfg or LexicalConfig()
        self.prompt_version = prompt_version
        """Which verdict models it returns (``v1``: ``TurnVerdict``/``FinalVerdict``; v2, v3: their models)."""
        self._stats = JudgeStats("lexical")

    def metrics(self, reset: bool = False) -> dict[str, float]:
        """Flat ``judge/...`` metrics (no endpoints, no tokens) with ``judge/backend_lexical=1``."""
        return self._stats.metrics(reset=reset)

    def _done(self, start: float, verdict: V) -> JudgeResult[V]:
        result: JudgeResult[V] = JudgeResult(verdict=verdict, latency_s=time.monotonic() - start, endpoint="lexical")
        self._stats.record_call(result)
        return result

    def turn_verdict(self, request: JudgeRequest) -> AnyTurnVerdict:
        """The verdict ``grade_turn`` returns, computed synchronously (pure function of the request)."""
        if request.task == "askmind":
            probing = cues.asking_sentences(request.response)
        else:
            probing = cues.correcting_sentences(request.response)
        probe_tokens = [cues.content_tokens(s) for s in probing]
        wanted_items = distinctive_tokens(request.checklist)
        scores = [
            max((len(wanted & toks) / len(wanted) for toks in probe_tokens), default=0.0) if wanted else 0.0
            for wanted in wanted_items
        ]
        hits = [score >= self.cfg.hit_threshold for score in scores]
        asks = bool(cues.asking_sentences(request.response))
        marker = cues.has_final_marker(request.response)
        final_answer = marker and (request.strict or not asks)
        notes = [f"item {i + 1}: overlap {score:.2f}" for i, score in enumerate(scores)]
        if self.prompt_version == "v1":
            new_hits = [hit for i, hit in enumerate(hits) if i not in request.resolved]
            redundant = bool(probing) and not any(new_hits)
            return TurnVerdict(answered_final=final_answer, hits=hits, irrelevant_or_redundant=redundant, notes=notes)
        missing = self._missing_items(request, wanted_items, hits)
        reasoning = (
            f"lexical: {'a final answer' if final_answer else 'no final answer'}; hits {sum(hits)} of "
            f"{len(hits)} items; missing {[i + 1 for i in missing]}"
        )
        fields = {"reasoning": reasoning, "is_final_answer": final_answer, "facts_missing": bool(missing), "hits": hits}
        if self.prompt_version == "v3":
            irrelevant = self._irrelevant_questions(request, wanted_items)
            return TurnVerdictV3(**fields, irrelevant_questions=irrelevant, notes=notes)
        return TurnVerdictV2(**fields, notes=notes)

    def _irrelevant_questions(self, request: JudgeRequest, wanted_items: list[set[str]]) -> int:
        """v3: asking sentences that share no content word with any checklist item (nor, AskMind, with the
        question and hidden information: asking about the problem's own subject is not irrelevant)."""
        topic = set().union(*wanted_items) if wanted_items else set()
        if request.task == "askmind":
            topic |= cues.content_tokens(request.ori_question) | cues.content_tokens(request.hidden_info)
        return sum(1 for s in cues.asking_sentences(request.response) if not cues.content_tokens(s) & topic)

    def _missing_items(self, request: JudgeRequest, wanted_items: list[set[str]], hits: list[bool]) -> list[int]:
        """Checklist items neither resolved nor supplied: AskMind by a user message after the question (at least
        ``hit_threshold`` of the item's distinctive words), AskOverconfidence by this turn's correction."""
        if request.task == "overconfidence":
            return [i for i, hit in enumerate(hits) if not hit and i not in request.resolved]
        replies = [t.content for t in request.history[1:] if t.role == "user"]
        supplied = set().union(*(cues.content_tokens(r) for r in replies)) if replies else set()
        return [
            i
            for i, wanted in enumerate(wanted_items)
            if i not in request.resolved
            and not (wanted and len(wanted & supplied) / len(wanted) >= self.cfg.hit_threshold)
        ]

    async def grade_turn(self, request: JudgeRequest) -> JudgeResult[AnyTurnVerdict]:
        """Grade a non-final turn against the checklist (one hit per item, always ``len(checklist)`` long)."""
        start = time.monotonic()
        return self._done(start, self.turn_verdict(request))

    def _final(self, decision: str, why: str) -> AnyFinalVerdict:
        if self.prompt_version == "v1":
            return FinalVerdict.model_validate({"decision": decision})
        return FinalVerdictV2.model_validate({"reasoning": f"lexical: {why}", "decision": decision})

    async def grade_final(self, request: JudgeRequest) -> JudgeResult[AnyFinalVerdict]:
        """``still_asking``, ``correct`` or ``wrong`` against ``request.expected_answer``."""
        start = time.monotonic()
        response = request.response
        if cues.asking_sentences(response) and not cues.has_final_marker(response):
            return self._done(start, self._final("still_asking", "asks and gives no final answer"))
        answer = cues.final_answer_text(response)
        if request.strict and cues.is_hedged(answer):
            return self._done(start, self._final("wrong", f"hedged answer {answer[:60]!r} (strict)"))
        expected = request.expected_answer
        if cues.normalise_answer(answer) == cues.normalise_answer(expected) or cues.contains_answer(answer, expected):
            return self._done(start, self._final("correct", "answer matches the expected answer"))
        try:
            same = await asyncio.wait_for(
                asyncio.to_thread(_math_equivalent, expected, answer), self.cfg.math_verify_timeout_s
            )
        except asyncio.TimeoutError:
            result: JudgeResult[AnyFinalVerdict] = JudgeResult(
                failure=FailureKind.TIMEOUT,
                error=f"math_verify ran past {self.cfg.math_verify_timeout_s} s",
                raw=answer[:300],
                latency_s=time.monotonic() - start,
                endpoint="lexical",
            )
            logger.warning("lexical judge: %s on answer %r", result.error, answer[:100])
            self._stats.record_call(result)
            return result
        decision, why = (
            ("correct", "equivalent to the expected answer") if same else ("wrong", "not the expected answer")
        )
        return self._done(start, self._final(decision, why))

    def user_reply(self, request: JudgeRequest) -> UserReply:
        """The reply ``simulate_user`` returns, computed synchronously (v3: with its report, ``supplied``)."""
        if request.task == "overconfidence":
            fixes = [cues.content_tokens(s) for s in cues.correcting_sentences(request.response)]
            corrected = [
                any(cues.coverage(item, toks) >= self.cfg.hit_threshold for toks in fixes) for item in request.checklist
            ]
            return self._reply(ACCEPT_CORRECTION if any(corrected) else KEEP_POSITION, corrected)
        hidden = [
            (i, sentence, cues.content_tokens(sentence))
            for i, sentence in enumerate(cues.sentences(request.hidden_info))
            if not cues.contains_answer(sentence, request.expected_answer)
        ]
        wanted = distinctive_tokens(request.checklist)
        # a sentence that gives some item away is only ever said for a question that asks for that item
        gives = {i: set(self._targets(wanted, toks)) for i, _, toks in hidden}
        chosen: dict[tuple[int, str], set[int]] = {}  # sentence -> the items it was said for
        for question in cues.asking_sentences(request.response):
            for clause in _CLAUSE.split(question):
                asked = cues.content_tokens(clause)
                for target in self._targets(wanted, asked) or [None]:
                    focus = asked | (wanted[target] if target is not None else set())
                    allowed = [h for h in hidden if gives[h[0]] <= ({target} if target is not None else set())]
                    best = max(allowed, key=lambda h: (len(h[2] & focus), -h[0]), default=None)
                    if best is not None and best[2] & focus:
                        chosen.setdefault((best[0], best[1]), set()).update([target] if target is not None else [])
        if not chosen:
            return self._reply(NOTHING_TO_ADD, [False] * len(request.checklist))
        kept = sorted(chosen)[: self.cfg.user_max_sentences]
        supplied = [False] * len(request.checklist)
        for key in kept:
            for j in chosen[key]:
                supplied[j] = True
        return self._reply(" ".join(sentence for _, sentence in kept), supplied)

    def _covers(self, wanted: set[str], tokens: set[str]) -> bool:
        return len(wanted & tokens) / len(wanted) >= self.cfg.hit_threshold

    def _targets(self, wanted: list[set[str]], asked: set[str]) -> list[int]:
        """The items one question asks for: those it covers best, if that reaches ``hit_threshold`` (a question
        sharing one word with a sibling item does not ask for it too)."""
        scores = [len(w & asked) / len(w) if w else 0.0 for w in wanted]
        top = max(scores, default=0.0)
        if top < self.cfg.hit_threshold:
            return []
        return [j for j, score in enumerate(scores) if score == top]

    def _reply(self, text: str, supplied: list[bool]) -> UserReply:
        if self.prompt_version == "v3":
            return UserReplyV3(reply=text, supplied=supplied)
        return UserReply(reply=text)

    async def simulate_user(self, request: JudgeRequest) -> JudgeResult[UserReply]:
        """Answer what the assistant asked from the hidden information, never with the expected answer."""
        start = time.monotonic()
        return self._done(start, self.user_reply(request))
