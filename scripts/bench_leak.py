"""Simulated-user leak rate: how often the user reveals a hidden fact the assistant did not ask about.

Why: the user's replies decide what is resolved (``reward.episode``), so a user that volunteers unasked facts
would hand out resolution for free. This plays a fixed set of probe turns (ask about one item, about two, about
everything, about nothing relevant) against a judge's ``simulate_user`` and audits every reply with
``askrl.rollout.fidelity.audit_reply`` (the rollout's own leak check, a lexical heuristic that also flags synonyms), and counts *exact* leaks: a reply
that contains the value of an item the probe did not ask about (each case lists its items' values). Where the user reports what it supplied
(prompt set v3, ``UserReply.supplied``), it also counts reports that claim an item the probe did not ask about.

    .venv/bin/python scripts/bench_leak.py --judge lexical
    .venv/bin/python scripts/bench_leak.py --judge scripted      # the scripted server over real HTTP

The last stdout line is JSON: ``judge``, ``replies``, ``leaks``, ``leak_rate`` (heuristic), ``exact_leak_rate``,
``reports`` (replies that carry a report), ``report_leaks``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence

from askrl.judge.config import EndpointConfig, JudgeClientConfig, LexicalConfig
from askrl.judge.lexical import LexicalJudge
from askrl.judge.types import Judge, JudgeRequest, Turn
from askrl.rollout.fidelity import audit_reply

#: (question as the user asked it, hidden facts one per sentence, checklist, expected answer, one question per
#: item, the words that give each item's value away, a question on the subject that asks for no item)
_CASES = [
    (
        "Tom buys pens and notebooks. How much does he spend?",
        "Tom buys 4 pens. Each pen costs 3 dollars. The notebooks cost 10 dollars in total.",
        ("How many pens Tom buys", "The price of one pen", "The total cost of the notebooks"),
        "22",
        ("How many pens does Tom buy?", "What does one pen cost?", "What do the notebooks cost in total?"),
        ("4 pens", "3 dollars", "10 dollars"),
        "Does Tom like his pens?",
    ),
    (
        "A train leaves the station and stops once. When does it arrive?",
        "The train leaves at 9 am. The trip takes 3 hours of driving. The stop lasts 30 minutes.",
        ("When the train leaves", "How long the driving takes", "How long the stop lasts"),
        "12:30 pm",
        ("When does the train leave?", "How long does the driving take?", "How long does the stop last?"),
        ("9 am", "3 hours", "30 minutes"),
        "Is the train comfortable?",
    ),
    (
        "A garden has rows of roses. How many roses are there?",
        "The garden has 6 rows. Each row holds 8 roses. Two roses were picked this morning.",
        ("How many rows the garden has", "How many roses each row holds", "How many roses were picked"),
        "46",
        ("How many rows does the garden have?", "How many roses does each row hold?", "Were any roses picked?"),
        ("6 rows", "8 roses", "Two roses"),
        "Does the garden get much sun?",
    ),
]
_IRRELEVANT = "What is your favourite colour?"


def _probes(questions: Sequence[str], off_item: str) -> list[tuple[str, frozenset[int]]]:
    """Each item alone, each pair, all of them, an irrelevant question and one on the subject that asks for no
    item: (assistant text, items asked)."""
    n = len(questions)
    probes = [(questions[i], frozenset({i})) for i in range(n)]
    probes += [(f"{questions[i]} {questions[j]}", frozenset({i, j})) for i in range(n) for j in range(i + 1, n)]
    probes.append((" ".join(questions), frozenset(range(n))))
    probes += [(_IRRELEVANT, frozenset()), (off_item, frozenset())]
    return probes


async def measure(judge: Judge) -> dict[str, float | int | str]:
    """Play every probe of every case once; count leaking replies and over-claiming reports."""
    replies = leaks = exact_leaks = reports = report_leaks = failures = 0
    for question, hidden, checklist, answer, asks, values, off_item in _CASES:
        for text, asked in _probes(asks, off_item):
            request = JudgeRequest(
                task="askmind",
                ori_question=question,
                hidden_info=hidden,
                checklist=checklist,
                expected_answer=answer,
                history=(Turn("user", question),),
                response=text,
            )
            result = await judge.simulate_user(request)
            if result.verdict is None:
                failures += 1
                continue
            replies += 1
            audit = audit_reply(
                task="askmind",
                hidden_info=hidden,
                expected_answer=answer,
                seen_user_text=[question],
                assistant_turns=[text],
                reply=result.verdict.reply,
            )
            leaks += int(audit.leaked)
            reply = result.verdict.reply.lower()
            exact_leaks += int(any(v.lower() in reply for i, v in enumerate(values) if i not in asked))
            supplied = getattr(result.verdict, "supplied", None)
            if supplied is not None:
                reports += 1
                report_leaks += int(any(flag and i not in asked for i, flag in enumerate(supplied)))
    return {
        "judge": judge.name,
        "replies": replies,
        "failures": failures,
        "leaks": leaks,
        "leak_rate": leaks / replies if replies else 0.0,
        "exact_leaks": exact_leaks,
        "exact_leak_rate": exact_leaks / replies if replies else 0.0,
        "reports": reports,
        "report_leaks": report_leaks,
    }


async def _run(kind: str, prompt_version: str | None) -> dict[str, float | int | str]:
    if kind == "lexical":
        judge = LexicalJudge(LexicalConfig(), prompt_version) if prompt_version else LexicalJudge()
        return await measure(judge)
    from askrl.judge.client import JudgeClient
    from askrl.judge.llm import LLMJudge
    from askrl.testing.scripted_server import ScriptedServer, ServerOptions

    server = ScriptedServer(ServerOptions()).start()
    try:
        client = JudgeClient(
            JudgeClientConfig(endpoints=[EndpointConfig(name="scripted", base_url=server.base_url, model="m")])
        )
        llm = LLMJudge(client, prompt_version=prompt_version) if prompt_version else LLMJudge(client)
        try:
            out = await measure(llm)
        finally:
            await llm.aclose()
        return {**out, "judge": "scripted"}
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge", choices=["lexical", "scripted"], default="lexical")
    parser.add_argument("--prompt-version", default=None, help="judge prompt set (default: the package default)")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_run(args.judge, args.prompt_version))))


if __name__ == "__main__":
    main()
