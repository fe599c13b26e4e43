"""The simulated user of a clarification episode: who answers the policy's questions, and how long they may talk.

Who calls it: ``ClarifyAgentLoop`` after each asking turn. The reply comes from the judge's ``simulate_user`` (LLM
or lexical backend; the prompts are the judge package's template files), which plays the user holding the hidden
information: AskMind answers only what was asked from ``ori_question`` + ``degraded_info``; AskOverconfidence
accepts or rejects corrections and never gives the answer.

Contract: ``reply`` gets the judge request of the asking turn (history up to the user's last message, the turn's
visible text as ``response``) and returns a ``SimulatedReply``: the reply text and the user's report of which
checklist items it supplied (``supplied``, prompt set v3: what resolves them, ``reward.episode``), or the judge
failure that stopped it. It never raises for a judge failure. ``cap_reply`` cuts a reply to ``max_tokens`` tokens of the *policy's*
tokenizer (the reply is later rendered into the chat template with mask 0, so re-tokenising it is harmless).

    sim = JudgeUserSimulator(judge)
    reply = await sim.reply(request)            # SimulatedReply(text="It is 40.", failure=None, ...)
    text, capped = cap_reply(reply.text, tokenizer, 256)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from askrl.judge.types import Judge, JudgeRequest


@dataclass(frozen=True)
class SimulatedReply:
    """What the simulated user said, or why it said nothing."""

    text: str | None
    """The reply; None exactly when ``failure`` is set."""
    failure: str | None = None
    """The judge's failure kind (``timeout``, ``http_error``, ...) when no reply came back."""
    error: str | None = None
    latency_s: float = 0.0
    supplied: tuple[int, ...] | None = None
    """The checklist items the user reported its reply supplied (prompt set v3); None: no report (v1, v2)."""


class UserSimulator(Protocol):
    """Plays the user who holds the hidden information (safe to call concurrently)."""

    name: str

    async def reply(self, request: JudgeRequest) -> SimulatedReply:
        """Answer the assistant's latest message ``request.response``."""
        ...


class JudgeUserSimulator:
    """A ``UserSimulator`` backed by ``Judge.simulate_user``."""

    def __init__(self, judge: Judge) -> None:
        self.judge = judge
        self.name = f"judge:{judge.name}"

    async def reply(self, request: JudgeRequest) -> SimulatedReply:
        result = await self.judge.simulate_user(request)
        if result.verdict is None:
            failure = result.failure.value if result.failure is not None else "unknown"
            return SimulatedReply(text=None, failure=failure, error=result.error, latency_s=result.latency_s)
        return SimulatedReply(
            text=result.verdict.reply, latency_s=result.latency_s, supplied=result.verdict.supplied_indices
        )


def cap_reply(text: str, tokenizer: Any, max_tokens: int) -> tuple[str, bool]:
    """``text`` cut to its first ``max_tokens`` tokens (decoded back to text), and whether it was cut."""
    ids = tokenizer.encode(text, add_special_tokens=False)
    if len(ids) <= max_tokens:
        return text, False
    return tokenizer.decode(ids[:max_tokens], skip_special_tokens=True), True
