"""Simulator fidelity and episode-shape metrics: does the simulated user leak, how many turns, how often the policy asks.

Who calls it: ``ClarifyAgentLoop`` audits each simulated-user reply (``audit_reply``) and writes one scalar dict per
trajectory (``episode_metrics``) into ``extra_fields["reward_extra_info"]``; VERL averages those per key in
validation (``val-core/<data_source>/rollout/...``), and a trainer hook can log ``aggregate_rollout_metrics`` of the
batch every training step. Pure functions of strings and numbers; the lexical cues come from ``askrl.judge.text_cues``.

Leak check (a lexical heuristic with the lexical judge's 0.5 overlap rule): the hidden facts are the sentences of
``hidden_info``. A reply *reveals* a fact when it contains at least ``REVEAL_THRESHOLD`` of the fact's *new* content
words (those not already in any user message the policy saw). The policy *asked about* a fact when its questions
(AskMind: asking sentences; AskOverconfidence: any of its text, since corrections are statements), in this turn or
an earlier one, cover at least ``ASK_THRESHOLD`` of the fact's content words (a shared topic word such as "boxes"
alone is not asking about "The boxes are painted green"). A leak is a revealed fact nobody asked about. Synonyms
are invisible to it ("what colour?" vs "painted green" reads as a leak), so compare rates across runs, not to 0.
Separately, an *answer leak* is a reply containing the expected answer that nobody had written before.

Per-trajectory keys (always all present, floats, so VERL's per-key arrays stay aligned):

| key | meaning |
|---|---|
| ``rollout/num_turns`` | policy turns in the episode |
| ``rollout/ask_rate`` | 1 when at least one turn asked (a graded non-final, non-premature turn, or still asking) |
| ``rollout/user_replies`` | simulated-user replies the policy saw |
| ``rollout/leak_rate`` | leaking replies / replies (0 without replies; pool with ``user_leaks`` / ``user_replies``) |
| ``rollout/user_leaks``, ``rollout/user_answer_leaks`` | replies with a leak / with an answer leak |
| ``rollout/user_sim_tokens``, ``rollout/policy_tokens`` | mask-0 / mask-1 response tokens |
| ``rollout/user_reply_capped`` | replies cut to ``askrl.rollout.user_reply_max_tokens`` |
| ``rollout/truncated_ratio`` | 1 when a turn hit its token limit |
| ``rollout/budget_exhausted_ratio`` | 1 when the response budget ended the episode before an answer |
| ``rollout/user_sim_failed`` | 1 when the simulated user failed (the episode stops there; masked under ``mask``) |

How it fails: never raises on any text.

    audit = audit_reply(task="askmind", hidden_info=info, expected_answer="12", seen_user_text=[q],
                        assistant_turns=["How many apples?"], reply="Tom has 3 apples. The shop opens at 9.")
    audit.leaked_facts        # (1,) if "The shop opens at 9." was never asked about
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from askrl.judge import text_cues as cues
from askrl.judge.types import TaskKind

PREFIX = "rollout"
#: Share of a fact's new content words a reply must contain to reveal it.
REVEAL_THRESHOLD = 0.5
#: Share of a fact's content words the policy's questions must contain to count as asking about it.
ASK_THRESHOLD = 0.5


def key(name: str) -> str:
    """``rollout/<name>``: the metric key of a per-trajectory rollout scalar."""
    return f"{PREFIX}/{name}"


@dataclass(frozen=True)
class ReplyAudit:
    """What one simulated-user reply revealed that it should not have."""

    leaked_facts: tuple[int, ...]
    """Indices of ``hidden_info`` sentences revealed without being asked about."""
    answer_leak: bool

    @property
    def leaked(self) -> bool:
        return bool(self.leaked_facts)


def _probe_tokens(task: TaskKind, assistant_turns: Iterable[str]) -> set[str]:
    probe: set[str] = set()
    for text in assistant_turns:
        parts = cues.asking_sentences(text) if task == "askmind" else [text]
        for part in parts:
            probe |= cues.content_tokens(part)
    return probe


def audit_reply(
    *,
    task: TaskKind,
    hidden_info: str,
    expected_answer: str,
    seen_user_text: Sequence[str],
    assistant_turns: Sequence[str],
    reply: str,
) -> ReplyAudit:
    """Audit one reply (see the module docstring for the rules).

    Args:
        task: ``askmind`` or ``overconfidence``.
        hidden_info: what only the user knows (``degraded_info`` / ``overconfidence_info``).
        expected_answer: the gold answer.
        seen_user_text: every user message the policy saw before this reply (the question, earlier replies).
        assistant_turns: the policy's turns so far, this one included (visible text).
        reply: the simulated user's reply.
    """
    reply_tokens = cues.content_tokens(reply)
    known = set().union(*(cues.content_tokens(t) for t in seen_user_text)) if seen_user_text else set()
    probe = _probe_tokens(task, assistant_turns)
    leaked = []
    for i, fact in enumerate(cues.sentences(hidden_info)):
        fact_tokens = cues.content_tokens(fact)
        new = fact_tokens - known
        if not new or len(new & reply_tokens) / len(new) < REVEAL_THRESHOLD:
            continue
        if len(fact_tokens & probe) / len(fact_tokens) < ASK_THRESHOLD:
            leaked.append(i)
    said_before = list(seen_user_text) + list(assistant_turns)
    answer_leak = cues.contains_answer(reply, expected_answer) and not any(
        cues.contains_answer(text, expected_answer) for text in said_before
    )
    return ReplyAudit(leaked_facts=tuple(leaked), answer_leak=answer_leak)


@dataclass(frozen=True)
class EpisodeShape:
    """The counts ``episode_metrics`` turns into the per-trajectory scalars."""

    num_turns: int
    asked: bool
    audits: Sequence[ReplyAudit]
    user_sim_tokens: int
    policy_tokens: int
    replies_capped: int
    truncated: bool
    budget_exhausted: bool
    user_sim_failed: bool


def episode_metrics(shape: EpisodeShape) -> dict[str, float]:
    """The ``rollout/...`` scalars of one trajectory (every key always present)."""
    replies = len(shape.audits)
    leaks = sum(a.leaked for a in shape.audits)
    return {
        key("num_turns"): float(shape.num_turns),
        key("ask_rate"): float(shape.asked),
        key("user_replies"): float(replies),
        key("leak_rate"): leaks / replies if replies else 0.0,
        key("user_leaks"): float(leaks),
        key("user_answer_leaks"): float(sum(a.answer_leak for a in shape.audits)),
        key("user_sim_tokens"): float(shape.user_sim_tokens),
        key("policy_tokens"): float(shape.policy_tokens),
        key("user_reply_capped"): float(shape.replies_capped),
        key("truncated_ratio"): float(shape.truncated),
        key("budget_exhausted_ratio"): float(shape.budget_exhausted),
        key("user_sim_failed"): float(shape.user_sim_failed),
    }


#: Per-trajectory keys that are counts: the batch reports their mean as ``<key>/mean``.
_COUNT_KEYS = (
    "num_turns",
    "user_replies",
    "user_leaks",
    "user_answer_leaks",
    "user_sim_tokens",
    "policy_tokens",
    "user_reply_capped",
)
#: Per-trajectory keys that are 0/1 flags: the batch mean is already a rate.
_FLAG_KEYS = ("ask_rate", "truncated_ratio", "budget_exhausted_ratio", "user_sim_failed")


def aggregate_rollout_metrics(infos: Iterable[Mapping[str, object]]) -> dict[str, float]:
    """Batch metrics from per-trajectory ``reward_extra_info`` dicts (others' keys are ignored).

    Counts become ``rollout/<name>/mean`` (plus ``rollout/num_turns/max``), flags stay rates, and the leak rate is
    pooled over replies (``sum(user_leaks) / sum(user_replies)``). Empty input gives an empty dict.
    """
    rows = [info for info in infos if key("num_turns") in info]
    if not rows:
        return {}

    def column(name: str) -> list[float]:
        return [float(row[key(name)]) for row in rows]  # type: ignore[arg-type]

    out: dict[str, float] = {}
    for name in _COUNT_KEYS:
        values = column(name)
        out[f"{key(name)}/mean"] = sum(values) / len(values)
    out[f"{key('num_turns')}/max"] = max(column("num_turns"))
    for name in _FLAG_KEYS:
        values = column(name)
        out[key(name)] = sum(values) / len(values)
    replies = sum(column("user_replies"))
    if replies:
        out[key("leak_rate")] = sum(column("user_leaks")) / replies
        out[key("user_answer_leak_rate")] = sum(column("user_answer_leaks")) / replies
    return out
