"""How much of a step's judge prompt tokens a prefix cache could reuse: the shared-prefix fraction.

Why: a vLLM judge with prefix caching skips the prefill of any leading tokens it has already seen, so a prompt
that puts what is shared (instructions, schema, the item) before what varies (the conversation, the message to
grade) is cheaper for every episode of a group and every turn. This measures that: for each prompt, in the order
the judge received them, the longest prefix that an earlier prompt of the same step already began with; the
fraction is the sum of those prefixes over the sum of the prompt lengths. It is an upper bound on reuse (an
unbounded cache); ``block_size`` counts only whole blocks, as vLLM's cache does (16 tokens there).

Who uses it: ``askrl.bench.rollout`` over the scripted judge's request log, tests on hand-built token lists.
Pure: no I/O, no tokenizer (callers tokenize). Every prefix of a prompt is remembered by a chained hash, so a step
costs O(total tokens) time and memory.

    shared_prefix_fraction([[1, 2, 3, 4], [1, 2, 3, 9], [7, 7]])   # (0 + 3 + 0) / 10 = 0.3
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PrefixShare:
    """Shared-prefix figures of one step."""

    prompts: int
    tokens: int
    shared_tokens: int

    @property
    def fraction(self) -> float:
        return self.shared_tokens / self.tokens if self.tokens else 0.0


def shared_prefix(prompts: Iterable[Sequence[int]], *, block_size: int = 1) -> PrefixShare:
    """The shared-prefix figures of ``prompts`` (token ids, in arrival order); see the module docstring."""
    if block_size < 1:
        raise ValueError(f"block_size must be at least 1, got {block_size}")
    seen: set[int] = set()
    count = total = shared = 0
    for prompt in prompts:
        count += 1
        total += len(prompt)
        chain = 0
        for start in range(0, len(prompt) - block_size + 1, block_size):
            chain = hash((chain, tuple(prompt[start : start + block_size])))  # identifies the prefix up to here
            if chain in seen:  # once a prefix is new, every longer one is new too
                shared += block_size
            else:
                seen.add(chain)
    return PrefixShare(prompts=count, tokens=total, shared_tokens=shared)


def shared_prefix_fraction(prompts: Iterable[Sequence[int]], *, block_size: int = 1) -> float:
    """``shared_prefix(...).fraction``."""
    return shared_prefix(prompts, block_size=block_size).fraction
