"""Counters from a vLLM server's Prometheus ``/metrics``: requests served and its own prefix-cache hit rate.

Why: the shared-prefix fraction ``scripts/bench_rollout.py`` computes is a token count over the judge prompts, an
upper bound on what a prefix cache can reuse; vLLM's ``vllm:prefix_cache_hits_total`` over
``vllm:prefix_cache_queries_total`` (both in tokens) is what its cache actually reused. Counters only grow, so a
benchmark reads them before and after its run and reports the difference.

    before = prefix_cache_tokens(url); run(); hits, queries = prefix_cache_tokens(url, since=before)
"""

from __future__ import annotations

import httpx

HITS = "vllm:prefix_cache_hits_total"
QUERIES = "vllm:prefix_cache_queries_total"
REQUESTS = "vllm:request_success_total"


def vllm_counter(base_url: str, name: str) -> float:
    """Counter ``name`` of the vLLM server at ``base_url`` (``.../v1`` or its root), summed over its label sets."""
    text = httpx.get(f"{base_url.removesuffix('/v1')}/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


def prefix_cache_tokens(base_urls: list[str], since: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float]:
    """``(hit tokens, queried tokens)`` summed over ``base_urls``, minus an earlier reading ``since``."""
    hits = sum(vllm_counter(url, HITS) for url in base_urls)
    queries = sum(vllm_counter(url, QUERIES) for url in base_urls)
    return hits - since[0], queries - since[1]
