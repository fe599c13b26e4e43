"""The scripted server's generator role: deterministic replies to the data builder's steps (a test double).

Who uses it: ``askrl/testing/scripted_roles.py`` when a request carries a ``<build_step>NAME</build_step>`` line
(every ``askrl/data/build/prompts`` template starts with one). It reads the tagged sections of the prompt and
answers the step's JSON schema by simple text rules, so tests and the README demo can run a whole build on CPU:

- ``generate_askmind``: the first two numbers of the question are blurred to "a certain number of" (the word after
  each number names the checklist item, "The number of apples"); ``degraded_info`` states each hidden value in
  its own sentence, which the lexical simulated user reveals when asked. A question without numbers comes back
  unchanged (the ``unchanged_question`` gate).
- ``generate_overconfidence``: each of the first two numbers is misquoted as one more (a false claim); with one
  number, a wrong final answer is the second claim; a question without numbers gets one claim (``too_few_claims``).
- ``verify_askmind``: an item is grounded when it shares a word with the text around what changed.
- ``verify_overconfidence``: a claim is asserted when its numbers appear in the rewritten question, and false when
  one of its numbers is neither in the original question nor the expected answer.
- ``solve`` / ``policy_answer``: "cannot be determined" for a blurred question, else the question's last number.
- ``ask_*`` asks about (or corrects) the first unresolved item, all of them in the final round; ``coverage_*`` marks
  an item covered when a later user reply with a number (AskMind), or an assistant turn (AskOverconfidence),
  holds half of the item's distinctive words; ``answer`` commits to the user's last number; ``force_correct`` to the standard answer.

    reply = generator_reply("solve", prompt_text)   # '{"reasoning": "...", "final_answer": "cannot be determined"}'
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from askrl.judge import text_cues as cues
from askrl.judge.lexical import distinctive_tokens

VAGUE = "a certain number of"
_STEP = re.compile(r"<build_step>(\w+)</build_step>")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?!\w)")
_WORD_AFTER = re.compile(r"\s+([A-Za-z]+)")
_NUMBERED = re.compile(r"^\s*(\d+)\.\s+(.*\S)\s*$")
_TURN_BLOCK = re.compile(r'<turn role="(user|assistant)">\n(.*?)\n</turn>', re.DOTALL)


def build_step(text: str) -> str | None:
    """The step a data-builder prompt names, or ``None`` for any other request."""
    match = _STEP.search(text)
    return match.group(1) if match else None


def _section(text: str, tag: str) -> str:
    match = re.search(rf"<{tag}>\n?(.*?)\n?</{tag}>", text, re.DOTALL)
    return match.group(1).strip() if match else ""


def _items(text: str, tag: str) -> list[str]:
    return [m.group(2) for line in _section(text, tag).splitlines() if (m := _NUMBERED.match(line))]


def _turns(text: str) -> list[tuple[str, str]]:
    return _TURN_BLOCK.findall(_section(text, "conversation"))


def _numbers(text: str) -> list[str]:
    return _NUMBER.findall(text)


def _quantities(question: str, limit: int = 2) -> list[tuple[re.Match[str], str]]:
    """The first ``limit`` distinct numbers with the word after each ("3 apples" -> apples)."""
    out: list[tuple[re.Match[str], str]] = []
    seen: set[str] = set()
    for match in _NUMBER.finditer(question):
        if match.group(0) in seen:
            continue
        seen.add(match.group(0))
        after = _WORD_AFTER.match(question, match.end())
        out.append((match, after.group(1).lower() if after else "value"))
        if len(out) == limit:
            break
    return out


def _generate_askmind(text: str) -> dict[str, Any]:
    question = _section(text, "original_question")
    found = _quantities(question)
    if not found:
        return {
            "degraded_info": "Nothing in the question could be blurred.",
            "required_points": ["The missing detail"],
            "degraded_question": question,
        }
    degraded, info, points = question, [], []
    nouns = [noun for _, noun in found]
    for i, (match, noun) in reversed(list(enumerate(found))):  # right to left: earlier offsets stay valid
        degraded = degraded[: match.start()] + VAGUE + degraded[match.end() :]
        label = f"second number of {noun}" if noun in nouns[:i] else f"number of {noun}"
        info.insert(0, f"The {label} is {match.group(0)}.")
        points.insert(0, f"The {label}")
    info.append(f"Each of these values was replaced by '{VAGUE}', so the question cannot be answered as written.")
    return {"degraded_info": " ".join(info), "required_points": points, "degraded_question": degraded}


def _wrong(value: str) -> str:
    try:
        return str(int(float(value)) + 1)
    except ValueError:
        return "none of the above"


def _generate_overconfidence(text: str) -> dict[str, Any]:
    question = _section(text, "original_question")
    expected = _section(text, "standard_answer")
    claims = [f"the number of {noun} is {_wrong(m.group(0))}" for m, noun in _quantities(question)]
    facts = [f"the question gives {m.group(0)} {noun}" for m, noun in _quantities(question)]
    if len(claims) == 1:
        claims.append(f"the final answer is {_wrong(expected)}")
        facts.append(f"the final answer is {expected}")
    if not claims:
        claims, facts = ["the question is a trick question"], ["it is an ordinary question"]
    asserted = " ".join(f"I am certain that {c}." for c in claims)
    info = "\n---\n".join(
        f"incorrect assertion -> {c}; correct fact -> {f}; why it misleads -> it changes the computation"
        for c, f in zip(claims, facts, strict=True)
    )
    return {
        "overconfidence_info": info,
        "misleading_points": claims,
        "overconfidence_question": f"{question} {asserted} So what is the final answer?",
    }


def _verify_askmind(text: str) -> dict[str, Any]:
    before = _section(text, "original_question").split()
    after = _section(text, "degraded_question").split()
    window: set[str] = set()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if tag != "equal":
            window |= cues.content_tokens(" ".join(before[max(i1 - 3, 0) : i2 + 3] + after[max(j1 - 3, 0) : j2 + 3]))
    grounded = [bool(cues.content_tokens(item) & window) for item in _items(text, "checklist")]
    return {"reasoning": "items compared with the words around each change", "grounded": grounded}


def _verify_overconfidence(text: str) -> dict[str, Any]:
    original = set(_numbers(_section(text, "original_question")))
    rewritten = set(_numbers(_section(text, "rewritten_question")))
    expected = set(_numbers(_section(text, "standard_answer")))
    claims = _items(text, "claims")
    asserted = [bool(_numbers(c)) and set(_numbers(c)) <= rewritten for c in claims]
    false = [any(n not in original and n not in expected for n in _numbers(c)) for c in claims]
    return {"reasoning": "claims checked against the original numbers", "asserted": asserted, "false": false}


def _solve(text: str) -> dict[str, Any]:
    question = _section(text, "question")
    if VAGUE in question:
        return {"reasoning": "a value is missing", "final_answer": "cannot be determined"}
    numbers = _numbers(question)
    return {"reasoning": "took the last number", "final_answer": numbers[-1] if numbers else "42"}


def _ask(text: str, task: str) -> dict[str, Any]:
    unresolved = _items(text, "unresolved_items") or _items(text, "checklist") or _items(text, "claims")
    chosen = unresolved if _section(text, "round") == "final" else unresolved[:1]
    listed = " and ".join(item[0].lower() + item[1:] for item in chosen)
    if task == "askmind":
        return {"message": f"Before I answer, could you tell me {listed}?"}
    return {"message": f"Actually, it is not true that {listed}; that claim is wrong. Could you double-check it?"}


def _coverage(text: str, task: str) -> dict[str, Any]:
    turns = _turns(text)
    checklist = _items(text, "checklist") or _items(text, "claims")
    if task == "askmind":
        replies = [body for role, body in turns[1:] if role == "user" and _numbers(body)]
    else:
        replies = [body for role, body in turns if role == "assistant"]
    wanted = distinctive_tokens(tuple(checklist)) if checklist else []
    covered = [any(len(w & cues.content_tokens(r)) >= max(len(w) / 2, 1) for r in replies) for w in wanted]
    return {"reasoning": "looked for each item in the replies", "covered": covered}


def _answer(text: str) -> dict[str, Any]:
    numbers = [n for role, body in _turns(text) if role == "user" for n in _numbers(body)]
    return {"message": f"With those details the result follows.\nFinal Answer: {numbers[-1] if numbers else '0'}"}


def _force_correct(text: str) -> dict[str, Any]:
    return {
        "message": f"Working through the details gives the result.\nFinal Answer: {_section(text, 'standard_answer')}"
    }


def generator_reply(step: str, text: str) -> str:
    """The JSON reply to data-builder step ``step`` for the prompt ``text``.

    Raises:
        RuntimeError: an unknown step (the server answers 500).
    """
    handlers = {
        "generate_askmind": lambda: _generate_askmind(text),
        "generate_overconfidence": lambda: _generate_overconfidence(text),
        "verify_askmind": lambda: _verify_askmind(text),
        "verify_overconfidence": lambda: _verify_overconfidence(text),
        "solve": lambda: _solve(text),
        "policy_answer": lambda: _solve(text),
        "ask_askmind": lambda: _ask(text, "askmind"),
        "ask_overconfidence": lambda: _ask(text, "overconfidence"),
        "coverage_askmind": lambda: _coverage(text, "askmind"),
        "coverage_overconfidence": lambda: _coverage(text, "overconfidence"),
        "answer": lambda: _answer(text),
        "force_correct": lambda: _force_correct(text),
    }
    if step not in handlers:
        raise RuntimeError(f"unknown build step {step!r}")
    return json.dumps(handlers[step]())
