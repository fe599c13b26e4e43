"""The shared-prefix fraction of a step's judge prompts (``askrl.judge.prefix_share``)."""

from __future__ import annotations

import pytest

from askrl.judge.prefix_share import shared_prefix, shared_prefix_fraction


def test_each_prompt_counts_its_longest_prefix_that_an_earlier_prompt_began_with() -> None:
    share = shared_prefix([[1, 2, 3, 4], [1, 2, 3, 9], [7, 7], [1, 2, 3, 9, 5], [1, 2]])
    # 0 (first) + 3 + 0 + 4 (the second prompt began with 1 2 3 9) + 2
    assert (share.prompts, share.tokens, share.shared_tokens) == (5, 17, 9)
    assert share.fraction == pytest.approx(9 / 17)


def test_only_prefixes_count_not_shared_middles_or_later_prompts() -> None:
    assert shared_prefix_fraction([[5, 1, 2, 3], [6, 1, 2, 3]]) == 0.0  # same tail, different first token
    assert shared_prefix_fraction([[1, 2], [1, 2, 3, 4]]) == pytest.approx(2 / 6)  # earlier, not later, prompts
    assert shared_prefix_fraction([[1, 2, 3], [1, 2, 3]]) == pytest.approx(3 / 6)  # a repeat is fully shared


def test_block_size_counts_whole_blocks_only() -> None:
    prompts = [[1, 2, 3, 4, 5], [1, 2, 3, 4, 9], [1, 2, 3, 8]]
    assert shared_prefix(prompts, block_size=1).shared_tokens == 4 + 3
    assert shared_prefix(prompts, block_size=2).shared_tokens == 4 + 2
    assert shared_prefix(prompts, block_size=4).shared_tokens == 4 + 0
    assert shared_prefix([[1, 2, 3], [1, 2, 3]], block_size=2).shared_tokens == 2  # the partial block is not cached
    with pytest.raises(ValueError):
        shared_prefix(prompts, block_size=0)


def test_an_empty_step_is_zero() -> None:
    assert shared_prefix_fraction([]) == 0.0
    assert shared_prefix_fraction([[]]) == 0.0
