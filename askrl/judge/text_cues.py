"""Surface cues the offline ``lexical`` judge reads from text: content words, questions, corrections, answers.

Who uses it: ``askrl/judge/lexical.py`` (and through it the scripted test server). Pure functions of strings,
deterministic, no I/O, never raise on any input. English-centric; CJK characters count as one token each so
Chinese fields still overlap.

    content_tokens("How many apples does Tom have?")  # {"many", "apple", "tom"}
    asking_sentences("I can help. What is the budget?")  # ["What is the budget?"]
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?|[\u4e00-\u9fff]")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?。？！])\s+|\n+")
_STOPWORDS = frozenset(
    """
    a an the and or but if of to in on at by for with from as into about than then so that this these those it its
    is are was were be been being am do does did done have has had having can could would should will shall may might
    must i me my we our you your he she they them their his her what which who whom whose when where why how there
    here not no yes please tell let know any some all each more most much many very just also only own same other
    such up down out over under again further once both few nor too s t don ok okay give provide specify clarify
    need needs needed information info details detail question answer
    """.split()
)
_INTERROGATIVE_START = re.compile(
    r"^\s*(what|which|who|whom|whose|when|where|why|how|could|can|would|will|do|does|did|is|are|was|were|may|should|"
    r"have|has)\b",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(please (tell|specify|provide|share|clarify|confirm|let me know)|let me know|could you|can you|would you|"
    r"i need to know|clarify|confirm)\b",
    re.IGNORECASE,
)
_CORRECTION = re.compile(
    r"\b(actually|incorrect|not|wrong|mistake|mistaken|misconception|false|however|in fact|isn't|aren't|wasn't|"
    r"doesn't|don't|verify|double-check|double check|are you sure|is that right)\b|n't\b",
    re.IGNORECASE,
)
_FINAL = re.compile(r"final answer|the answer is|answer\s*:|\\boxed\{", re.IGNORECASE)
_AFTER_MARKER = re.compile(r"(?:final answer|the answer is|answer)\s*[:：]?\s*(.+)", re.IGNORECASE | re.DOTALL)


def tokens(text: str) -> list[str]:
    """Lowercase word tokens (a trailing plural ``s`` dropped from words over three letters)."""
    out = []
    for tok in _TOKEN.findall(text.lower()):
        if len(tok) > 3 and tok.endswith("s") and not tok.endswith("ss") and tok.isalpha():
            tok = tok[:-1]
        out.append(tok)
    return out


def content_tokens(text: str) -> set[str]:
    """Tokens that carry meaning (stop words and generic asking words removed)."""
    return {t for t in tokens(text) if t not in _STOPWORDS}


def sentences(text: str) -> list[str]:
    """Sentences and lines, stripped, empty ones dropped."""
    return [s.strip() for s in _SENTENCE_SPLIT.split(text) if s.strip()]


def is_asking(sentence: str) -> bool:
    """A question mark, an interrogative opening, or an explicit request for information."""
    s = sentence.strip()
    return s.endswith(("?", "？")) or bool(_INTERROGATIVE_START.match(s)) or bool(_REQUEST.search(s))


def asking_sentences(text: str) -> list[str]:
    """The sentences of ``text`` that ask the reader something."""
    return [s for s in sentences(text) if is_asking(s)]


def correcting_sentences(text: str) -> list[str]:
    """Sentences that push back on a claim: a correction cue ("actually", "not", "wrong"...) or a question."""
    return [s for s in sentences(text) if _CORRECTION.search(s) or s.endswith(("?", "？"))]


def has_final_marker(text: str) -> bool:
    """``Final Answer:``, ``The answer is``, ``Answer:`` or ``\\boxed{``."""
    return bool(_FINAL.search(text))


def coverage(item: str, text_tokens: set[str]) -> float:
    """Share of ``item``'s content tokens found in ``text_tokens`` (0 when the item has none)."""
    wanted = content_tokens(item)
    return len(wanted & text_tokens) / len(wanted) if wanted else 0.0


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (braces balanced), or ``None``."""
    start = text.rfind("\\boxed{")
    if start == -1:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
    return None


def final_answer_text(text: str) -> str:
    """The answer a final message commits to: the last boxed value, else what follows the last answer marker
    (up to the end of its line), else the whole message."""
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed
    matches = list(_AFTER_MARKER.finditer(text))
    if matches:
        tail = matches[-1].group(1).strip().splitlines()
        return tail[0] if tail else ""
    return text


_HEDGE = re.compile(r"\b(or|either|otherwise)\b", re.IGNORECASE)


def is_hedged(answer: str) -> bool:
    """Whether a committed answer offers alternatives ("A or B", "either ... or", "otherwise"): the strict
    protocol grades such an answer wrong even when one alternative matches (spec §2.5)."""
    return bool(_HEDGE.search(answer))


def normalise_answer(text: str) -> str:
    """Lowercase, no TeX wrappers or ``$``, no surrounding brackets/punctuation, single spaces."""
    s = text.lower().replace("$", "").replace("\\text{", "").replace("\\mathrm{", "")
    s = re.sub(r"\\[,;! ]", "", s).replace("{", "").replace("}", "")
    s = re.sub(r"\s+", " ", s).strip()
    return s.strip(" .,:;()[]*")


def contains_answer(text: str, answer: str) -> bool:
    """Whether the normalised ``answer`` occurs in ``text`` as whole words."""
    norm = normalise_answer(answer)
    if not norm:
        return False
    return re.search(rf"(?<![a-z0-9]){re.escape(norm)}(?![a-z0-9])", normalise_answer(text)) is not None
