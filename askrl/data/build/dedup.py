"""Near-duplicate detection over kept variants: word-shingle Jaccard similarity, found through MinHash LSH.

Who uses it: ``askrl/data/build/runner.py`` keeps one ``NearDuplicateIndex`` per build (rebuilt from the kept
records on resume) and checks each variant at commit time, after every other gate, so an item rejected for
another reason never blocks a later one. Text is normalised (lowercase, words of letters and digits only), cut
into overlapping word 3-grams, and compared by exact Jaccard similarity; MinHash (64 hashes, 16 bands of 4)
only narrows which kept items are compared, so the decision itself is exact. At a threshold of 0.7 or more an
LSH miss has a probability below 1e-3. Candidates whose signatures agree on fewer than ``threshold - 0.15`` of the
hashes (four standard errors of that estimate below) are dropped before the exact comparison, so templated data,
whose items all share a band or two, does not turn each lookup into a scan of everything kept.

Under concurrency, which of two near-duplicates is kept depends on which finishes first; the other is rejected
as ``near_duplicate`` naming the kept id.

    index = NearDuplicateIndex(threshold=0.9)
    index.find("What is 2 + 3?")     # None, or (kept id, similarity)
    index.add("item-1", "What is 2 + 3?")
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict

import numpy as np

_WORD = re.compile(r"[a-z0-9\u4e00-\u9fff]+")
_PRIME = (1 << 31) - 1
_HASHES, _BANDS = 64, 16
_ROWS = _HASHES // _BANDS
_rng = np.random.default_rng(20250301)
_A = _rng.integers(1, _PRIME, size=_HASHES, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, size=_HASHES, dtype=np.uint64)


def shingles(text: str, n: int = 3) -> frozenset[str]:
    """Word ``n``-grams of the normalised text (a text shorter than ``n`` words is one shingle)."""
    words = _WORD.findall(text.lower())
    if len(words) <= n:
        return frozenset([" ".join(words)])
    return frozenset(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


_ESTIMATE_MARGIN = 0.15


def _signature(grams: frozenset[str]) -> np.ndarray:
    values = np.array(
        [int.from_bytes(hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest(), "big") % _PRIME for g in grams],
        dtype=np.uint64,
    )
    return ((values[None, :] * _A[:, None] + _B[:, None]) % _PRIME).min(axis=1)


def _bands(signature: np.ndarray) -> list[bytes]:
    return [band.tobytes() + bytes([i]) for i, band in enumerate(signature.reshape(_BANDS, _ROWS))]


class NearDuplicateIndex:
    """Kept texts, and the lookup of the most similar one at or above ``threshold``."""

    def __init__(self, threshold: float) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"dedup threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self._grams: dict[str, frozenset[str]] = {}
        self._signatures: dict[str, np.ndarray] = {}
        self._buckets: defaultdict[bytes, list[str]] = defaultdict(list)

    def __len__(self) -> int:
        return len(self._grams)

    def find(self, text: str) -> tuple[str, float] | None:
        """``(id, similarity)`` of the most similar kept text at or above the threshold, else ``None``."""
        grams = shingles(text)
        signature = _signature(grams)
        candidates = sorted({key for band in _bands(signature) for key in self._buckets.get(band, ())})
        if not candidates:
            return None
        agree = (np.stack([self._signatures[k] for k in candidates]) == signature).mean(axis=1)
        best: tuple[str, float] | None = None
        for key in (k for k, a in zip(candidates, agree, strict=True) if a >= self.threshold - _ESTIMATE_MARGIN):
            score = jaccard(grams, self._grams[key])
            if score >= self.threshold and (best is None or score > best[1]):
                best = (key, score)
        return best

    def add(self, key: str, text: str) -> None:
        grams = shingles(text)
        signature = _signature(grams)
        self._grams[key] = grams
        self._signatures[key] = signature
        for band in _bands(signature):
            self._buckets[band].append(key)
