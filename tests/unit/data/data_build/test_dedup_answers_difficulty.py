"""Near-duplicate index, answer matching and pass-rate buckets of ``askrl.data.build`` (pure, no network)."""

from __future__ import annotations

import pytest

from askrl.data.build.answers import answer_matches, bare_answer
from askrl.data.build.dedup import NearDuplicateIndex, jaccard, shingles
from askrl.data.build.difficulty import balance, bucket_of, histogram

BASE = "Tom has some apples and buys some more apples at the market. How many apples does Tom have now?"


def test_near_duplicates_are_found_at_the_threshold_and_not_below() -> None:
    index = NearDuplicateIndex(threshold=0.7)
    index.add("a", BASE)
    one_word = BASE.replace("market", "shop")
    score = jaccard(shingles(BASE), shingles(one_word))
    assert score == pytest.approx(0.7)
    assert index.find(one_word) == ("a", pytest.approx(0.7))  # the threshold is inclusive
    assert NearDuplicateIndex(threshold=0.71).find(one_word) is None
    assert index.find("TOM has some apples, and buys some more apples at the market! How many apples does Tom have now")
    assert index.find("A train leaves the station at noon and travels for three hours.") is None


def test_most_similar_kept_item_wins() -> None:
    index = NearDuplicateIndex(threshold=0.5)
    index.add("far", BASE.replace("market", "shop").replace("Tom have", "he have"))
    index.add("near", BASE.replace("market", "shop"))
    found = index.find(BASE)
    assert found is not None and found[0] == "near"


def test_many_items_are_indexed_without_pairwise_search() -> None:
    index = NearDuplicateIndex(threshold=0.9)
    for k in range(500):
        index.add(str(k), f"question {k} about topic {k * 7} with the words alpha beta gamma delta {k % 13}")
    assert index.find("question 5 about topic 35 with the words alpha beta gamma delta 5") == ("5", 1.0)
    assert len(index) == 500
    with pytest.raises(ValueError):
        NearDuplicateIndex(threshold=0.0)


@pytest.mark.parametrize(
    ("expected", "answer", "match"),
    [
        ("12", "The correct answer is boxed{12}", True),
        ("12", "\\boxed{12}", True),
        ("12", "Final Answer: 12.", True),
        ("The answer is B.", "B", True),
        ("The answer is B.", "The answer is C.", False),
        ("\\frac{1}{2}", "0.5", True),
        ("12", "13", False),
        ("12", "cannot be determined", False),
        ("3", "cannot be determined without the 3 values", False),  # no "contains" rule
        ("Paris", "paris", True),
        ("12", "", False),
    ],
)
async def test_answer_matches(expected: str, answer: str, match: bool) -> None:
    assert await answer_matches(expected, answer) is match


def test_bare_answer() -> None:
    assert bare_answer("work...\nFinal Answer: 42\nthanks") == "42"
    assert bare_answer("so \\boxed{\\frac{1}{2}} it is") == "\\frac{1}{2}"
    assert bare_answer("just 7") == "just 7"


def test_bucket_boundaries() -> None:
    assert [bucket_of(r, 4) for r in (0.0, 0.2499, 0.25, 0.5, 0.75, 0.99, 1.0)] == [0, 0, 1, 2, 3, 3, 3]
    assert bucket_of(1.0, 1) == 0
    assert histogram({"a": 0.0, "b": 1.0, "c": 0.5}, 2) == {"[0.00, 0.50)": 1, "[0.50, 1.00]": 2}


def test_balance_caps_every_bucket_at_the_smallest_one() -> None:
    rates = {f"hard{i}": 0.0 for i in range(5)} | {f"mid{i}": 0.5 for i in range(3)} | {"easy": 1.0}

    def spread(keep: set[str]) -> list[int]:
        return [sum(1 for k in keep if bucket_of(rates[k], 3) == b) for b in range(3)]

    keep = balance(rates, buckets=3, per_bucket=None, seed=0)
    assert spread(keep) == [1, 1, 1] and "easy" in keep  # the smallest bucket (easy alone) sets the cap
    assert balance(rates, buckets=3, per_bucket=None, seed=0) == keep  # deterministic
    assert spread(balance(rates, buckets=3, per_bucket=2, seed=0)) == [2, 2, 1]
    assert len(balance(rates, buckets=1, per_bucket=None, seed=0)) == 9  # one bucket: nothing to balance
    assert balance({}, buckets=2, per_bucket=None, seed=0) == set()
