"""Is an OpenAI-compatible endpoint up, serving the model named, and does its grammar compiler take our schemas?

Who calls it: ``askrl.train.preflight`` (the judge of training and of checkpoint evaluation, before Ray starts) and
``askrl.data build`` (its ``--llm-url`` endpoints, before any item is sent). Each check returns one problem line per
endpoint that fails, worded with the fix, and never raises: the caller collects every line and stops once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import httpx

JUDGE_FIX = "start it (python -m askrl.serve judge ...) or fix askrl.judge.client.endpoints"


def check_judge_endpoints(endpoints: Iterable[tuple[str, str, str | None]], timeout_s: float = 10.0, *,
                          label: str = "judge endpoint", fix: str = JUDGE_FIX) -> list[str]:
    """Each ``(base_url, model, api_key_env)`` must answer ``/models`` and list ``model``; ``label`` and ``fix``
    word the problem lines for other callers (``askrl.data build``'s ``--llm-url``)."""
    problems = []
    for base_url, model, key_env in endpoints:
        headers = {}
        if key_env:
            if not os.environ.get(key_env):
                problems.append(f"{label} {base_url}: environment variable {key_env} (its API key) is not set")
                continue
            headers["Authorization"] = f"Bearer {os.environ[key_env]}"
        url = f"{base_url.rstrip('/')}/models"
        try:
            resp = httpx.get(url, headers=headers, timeout=timeout_s)
        except httpx.HTTPError as err:
            problems.append(f"{label} {base_url}: no answer from {url} ({type(err).__name__}); {fix}")
            continue
        if resp.status_code != 200:
            problems.append(f"{label} {base_url}: GET {url} returned HTTP {resp.status_code}")
            continue
        served = [m.get("id") for m in resp.json().get("data", [])]
        if model not in served:
            problems.append(f"{label} {base_url}: serves {served}, not {model!r}; fix the endpoint's model name")
    return problems


def check_judge_schemas(endpoints: Iterable[tuple[str, str, str | None, str]], version: str) -> list[str]:
    """Each vLLM endpoint ``(base_url, model, api_key_env, response_format)`` in ``json_schema`` mode accepts every
    schema the judge of prompt set ``version`` sends. Only servers whose ``/models`` says ``owned_by: vllm`` are asked:
    their grammar compiler is what refuses a schema, and a request to any other server could cost tokens or, for a
    scripted test server, use up its script."""
    from askrl.judge.structured import check_schemas, training_schemas

    problems = []
    for base_url, model, key_env, fmt in endpoints:
        if fmt != "json_schema":
            continue
        try:
            cards = httpx.get(f"{base_url.rstrip('/')}/models", timeout=10.0).json().get("data", [])
        except (httpx.HTTPError, ValueError):
            continue  # check_judge_endpoints reports an endpoint that does not answer
        if any(card.get("owned_by") == "vllm" for card in cards):
            key = os.environ.get(key_env, "EMPTY") if key_env else "EMPTY"
            problems += check_schemas(base_url, model, training_schemas(version), api_key=key)
    return problems
