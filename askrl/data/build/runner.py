"""Run a whole build: validate the input, sample pass rates, build every item concurrently, stream, resume, report.

Who uses it: ``python -m askrl.data build`` (``cli.py``) and ``scripts/bench_build.py``. Order:
1. the input is loaded and validated in full (``inputs.load_qa``) and every prompt template is checked: bad input
   stops here with ``FILE:LINE: field`` errors, before any LLM call; then every endpoint must answer
   ``/v1/models`` with its model (the check training's preflight uses), so a dead ``--llm-url`` stops the build
   in seconds instead of after a whole call deadline;
2. ``DIR/build.json`` is written or, when ``DIR`` holds a build, checked to be the same build (``store``);
3. ids already in ``records.jsonl`` or ``rejected.jsonl`` are skipped; the near-duplicate index is rebuilt from
   the kept records;
4. with ``pass_rate_samples``: the policy's pass rate of every remaining item (``difficulty``); with ``balance``,
   the items outside the even spread are rejected as ``bucket_full``. Balancing needs every rate: when some items
   failed sampling, the run stops after this phase (re-run to retry them) instead of balancing on partial rates;
5. ``concurrency`` workers build items (``pipeline.build_item``); each outcome is committed at once (near-duplicate
   gate, then one flushed line in ``records.jsonl``, ``rejected.jsonl`` or ``failed.jsonl``). A failure saying that
   no endpoint answered for a whole call deadline (the judge client's ``UNAVAILABLE``) stops the build: the items
   in flight are cancelled instead of every remaining item failing the same way. Items in flight when the build
   stops (that, or SIGTERM/SIGINT cancelling it) are written to ``failed.jsonl`` as ``interrupted``; a re-run
   builds them (and whatever a SIGKILL cut off: anything not kept or rejected is built again);
6. ``DIR/report.json`` and a table of kept / rejected-by-reason / failed-by-step counts (this run and in total).

A progress bar (tqdm, on stderr) shows kept, rejected, failed and the items in flight. How it fails: ``DataError`` /
``DataValidationError`` / ``RubricError`` before any call; an LLM problem never raises (it is a ``Failed``
outcome, retried by the next run).

    report = asyncio.run(run_build(BuildSpec(task="askmind", input="qa.jsonl", out=Path("out"),
                                             llm_urls=("http://127.0.0.1:8000/v1",))))
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from askrl.data.build import store
from askrl.data.build.dedup import NearDuplicateIndex
from askrl.data.build.difficulty import PassRate, balance, bucket_of, sample_pass_rate
from askrl.data.build.gates import GateLimits
from askrl.data.build.inputs import QAItem, load_qa
from askrl.data.build.llm import GENERATE_MAX_TOKENS, BuildLLM, Task, client_config
from askrl.data.build.outcomes import Failed, Kept, Outcome, Rejected
from askrl.data.build.pipeline import ItemOptions, build_item
from askrl.data.build.report import BuildCounts, print_table, write_report
from askrl.data.build.trajectory import MAX_ROUNDS
from askrl.errors import DataError
from askrl.judge.client import UNAVAILABLE, JudgeUnavailableError
from askrl.judge.config import BreakerConfig, RetryConfig

logger = logging.getLogger(__name__)

R = TypeVar("R")
QUESTION_KEY = {"askmind": "degraded_question", "overconfidence": "overconfidence_question"}


@dataclass(frozen=True)
class BuildSpec:
    """Everything one build needs (the CLI's flags, typed)."""

    task: Task
    input: str
    out: Path
    llm_urls: tuple[str, ...]
    llm_model: str = "default"
    policy_urls: tuple[str, ...] = ()  # default: the generator's URLs
    policy_model: str | None = None  # default: the generator's model
    mapping: dict[str, str] = field(default_factory=dict)
    limit: int | None = None
    concurrency: int = 128  # items in flight: twice the LLM slots keeps them full (items wait between rounds)
    llm_concurrency: int = 64  # requests in flight per client
    pass_rate_samples: int = 0
    balance: bool = False
    buckets: int = 4
    per_bucket: int | None = None
    trajectories: bool = False
    max_rounds: int = MAX_ROUNDS
    limits: GateLimits = GateLimits()
    dedup_threshold: float = 0.9
    prompt_version: str = "v1"
    api_key_env: str | None = None
    request_timeout_s: float = 300.0
    call_timeout_s: float = 900.0
    policy_max_tokens: int = 4096
    max_tokens: int = GENERATE_MAX_TOKENS  # the generation's reply budget and a cap on every other step's
    max_failed_frac: float = 0.05  # failed items above this share of the run's items: the CLI exits 3
    retry: RetryConfig | None = None  # the judge client's defaults when None (tests shorten the backoff)
    breaker: BreakerConfig | None = None
    seed: int = 0
    progress: bool = True

    def check(self) -> None:
        """Option combinations that cannot work, refused before anything runs."""
        if not self.llm_urls:
            raise DataError("--llm-url: at least one OpenAI-compatible base URL is needed")
        if self.balance and self.pass_rate_samples < 1:
            raise DataError("--balance needs --pass-rate-samples N (N >= 1): buckets are made of pass rates")
        if self.buckets < 1 or self.concurrency < 1 or self.llm_concurrency < 1 or self.max_rounds < 1:
            raise DataError("--buckets, --concurrency, --llm-concurrency and --max-rounds must be at least 1")
        if not 0.0 < self.dedup_threshold <= 1.0:
            raise DataError(f"--dedup-threshold must be in (0, 1], got {self.dedup_threshold}")
        if self.limits.max_points < 1 or self.limits.min_claims < 1:
            raise DataError("--max-points and --min-claims must be at least 1")
        if self.max_tokens < 1 or not 0.0 <= self.max_failed_frac <= 1.0:
            raise DataError("--max-tokens must be at least 1 and --max-failed-frac in [0, 1]")

    def check_endpoints(self) -> None:
        """Every generator (and policy) endpoint answers ``/v1/models`` with its model, before the first item."""
        from askrl.judge.probe import check_judge_endpoints

        wanted = [(url, self.llm_model, self.api_key_env) for url in self.llm_urls]
        if self.pass_rate_samples:
            wanted += [(url, self.policy_model or self.llm_model, self.api_key_env)
                       for url in self.policy_urls or self.llm_urls]  # fmt: skip
        problems = check_judge_endpoints(dict.fromkeys(wanted), label="LLM endpoint",
                                         fix="start it or fix --llm-url / --policy-url")  # fmt: skip
        if problems:
            raise DataError("\n".join(problems))

    def meta(self, prompt_hashes: dict[str, str], judge_prompts: dict[str, str]) -> dict[str, Any]:
        return {
            "task": self.task,
            "input": self.input,
            "mapping": self.mapping,
            "prompt_version": self.prompt_version,
            "prompt_hashes": prompt_hashes,
            "judge_prompt_hashes": judge_prompts,
            "llm_model": self.llm_model,
            "llm_urls": list(self.llm_urls),
            "policy_model": self.policy_model or self.llm_model,
            "pass_rate_samples": self.pass_rate_samples,
            "balance": self.balance,
            "buckets": self.buckets,
            "trajectories": self.trajectories,
            "max_points": self.limits.max_points,
            "min_claims": self.limits.min_claims,
            "dedup_threshold": self.dedup_threshold,
            "seed": self.seed,
        }


class _Committer:
    """Writes each outcome as it arrives; owns the sinks, the near-duplicate index and the counters."""

    def __init__(self, spec: BuildSpec, index: NearDuplicateIndex, rates: dict[str, PassRate], counts: BuildCounts):
        self.spec = spec
        self.index = index
        self.rates = rates
        self.counts = counts
        self.kept = store.Sink(spec.out / store.KEPT)
        self.rejected = store.Sink(spec.out / store.REJECTED)
        self.failed = store.Sink(spec.out / store.FAILED, fresh=True)
        self.bar: tqdm[Any] | None = None
        self.in_flight = 0

    def show_in_flight(self, count: int) -> None:
        """The items being built right now, in the bar (a slow model otherwise shows 0 % for minutes)."""
        self.in_flight = count
        self._postfix(refresh=self.bar is not None and self.bar.n == 0)  # later updates redraw it anyway

    def _postfix(self, *, refresh: bool) -> None:
        if self.bar is not None:
            self.bar.set_postfix(kept=self.counts.kept, rejected=sum(self.counts.rejected.values()),
                                 failed=sum(self.counts.failed.values()), in_flight=self.in_flight,
                                 refresh=refresh)  # fmt: skip

    def interrupted(self, qa: QAItem, why: str) -> None:
        """An item cut off mid-build: recorded as failed (``interrupted``), so the count and the file say so."""
        self.failed.write({"id": qa.id, "step": "interrupted", "kind": "interrupted", "error": why})
        self.counts.failed["interrupted"] += 1

    def commit(self, qa: QAItem, outcome: Outcome) -> None:
        if isinstance(outcome, Kept):
            duplicate = self.index.find(outcome.variant)
            if duplicate is not None:
                outcome = Rejected(
                    qa.id,
                    "near_duplicate",
                    f"similarity {duplicate[1]:.2f} to kept item {duplicate[0]}",
                    generation={k: v for k, v in outcome.record.items() if k not in ("id", "ori_question")},
                )
        if isinstance(outcome, Kept):
            self.index.add(qa.id, outcome.variant)
            record = dict(outcome.record)
            rate = self.rates.get(qa.id)
            if rate is not None:
                record["pass_rate"] = rate.pass_rate
                record["difficulty_bucket"] = bucket_of(rate.pass_rate, self.spec.buckets)
            self.kept.write(record)
            self.counts.kept += 1
        elif isinstance(outcome, Rejected):
            self.rejected.write(
                {
                    "id": outcome.id,
                    "reason": outcome.reason,
                    "detail": outcome.detail,
                    "ori_question": qa.ori_question,
                    "expected_answer": qa.expected_answer,
                    "generation": outcome.generation,
                    **outcome.extra,
                }
            )
            self.counts.rejected[outcome.reason] += 1
        else:
            self.failed.write({"id": outcome.id, "step": outcome.step, "kind": outcome.kind, "error": outcome.error})
            self.counts.failed[outcome.label] += 1
            if outcome.error.startswith(UNAVAILABLE):  # no endpoint answered for a whole call deadline
                raise JudgeUnavailableError(outcome.error)
        if self.bar is not None:
            self.bar.update(1)
            self._postfix(refresh=False)

    def close(self) -> None:
        for sink in (self.kept, self.rejected, self.failed):
            sink.close()


async def _pool(
    items: list[QAItem],
    concurrency: int,
    work: Callable[[QAItem], Awaitable[R]],
    on_done: Callable[[QAItem, R], None],
    committer: _Committer | None = None,
) -> None:
    """Run ``work(item)`` for every item with ``concurrency`` workers, calling ``on_done(item, result)`` in turn.

    The first exception a worker raises (``JudgeUnavailableError``: the LLM is gone) cancels the other workers and
    propagates, as does cancelling the pool (SIGTERM); everything committed before is already on disk, and with a
    ``committer`` the items cut off in flight are recorded as ``interrupted`` and the bar shows the items in flight.
    """
    queue: asyncio.Queue[QAItem] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    active: dict[str, QAItem] = {}

    def track(item: QAItem, started: bool) -> None:
        if started:
            active[item.id] = item
        else:
            active.pop(item.id, None)
        if committer is not None:
            committer.show_in_flight(len(active))

    async def worker() -> None:
        while True:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            track(item, True)
            result = await work(item)
            track(item, False)
            on_done(item, result)

    tasks = [asyncio.create_task(worker()) for _ in range(min(concurrency, len(items)))]
    if not tasks:
        return
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()  # re-raises a worker's exception
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for item in list(active.values()) if committer is not None else []:
            committer.interrupted(item, "the build stopped while this item was in flight; a re-run builds it")


async def _sample_rates(
    spec: BuildSpec, llm: BuildLLM, todo: list[QAItem], rates: dict[str, PassRate], committer: _Committer
) -> int:
    """Pass rates of ``todo`` (streamed to ``pass_rates.jsonl``); returns how many items failed sampling."""
    sink = store.Sink(spec.out / store.PASS_RATES)
    failures = 0
    bar = tqdm(total=len(todo), desc="pass rates", unit="item", disable=not spec.progress, dynamic_ncols=True)

    def done(qa: QAItem, result: PassRate | Failed) -> None:
        nonlocal failures
        if isinstance(result, PassRate):
            rates[qa.id] = result
            sink.write(result.to_json())
        else:
            failures += 1
            committer.commit(qa, result)
        bar.update(1)

    try:
        await _pool(todo, spec.concurrency, lambda qa: sample_pass_rate(llm, qa, spec.pass_rate_samples), done,
                    committer)
    finally:
        bar.close()
        sink.close()
    return failures


async def run_build(spec: BuildSpec) -> dict[str, Any]:
    """Run the build ``spec`` describes (see the module docstring); returns the report written to ``report.json``."""
    spec.check()
    items = load_qa(spec.input, spec.mapping, spec.limit)
    spec.check_endpoints()
    policy_cfg = None
    client = {"max_concurrency": spec.llm_concurrency, "api_key_env": spec.api_key_env,
              "request_timeout_s": spec.request_timeout_s, "call_timeout_s": spec.call_timeout_s, "retry": spec.retry,
              "breaker": spec.breaker}  # fmt: skip  (the generator and the policy differ only in endpoints)
    if spec.pass_rate_samples:
        policy_cfg = client_config(spec.policy_urls or spec.llm_urls, spec.policy_model or spec.llm_model, **client,
                                   name="policy")  # fmt: skip
    generator_cfg = client_config(spec.llm_urls, spec.llm_model, **client, max_tokens=spec.max_tokens)
    llm = BuildLLM(
        generator_cfg, policy_cfg, prompt_version=spec.prompt_version, policy_max_tokens=spec.policy_max_tokens,
        max_tokens=spec.max_tokens,
    )
    try:
        store.check_resumable(spec.out, spec.meta(llm.prompt_hashes, llm.judge.prompt_hashes))
        return await _run(spec, llm, items)
    finally:
        await llm.aclose()


async def _run(spec: BuildSpec, llm: BuildLLM, items: list[QAItem]) -> dict[str, Any]:
    start = time.monotonic()
    kept = store.read_jsonl(spec.out / store.KEPT)
    done = {r["id"] for r in kept} | {r["id"] for r in store.read_jsonl(spec.out / store.REJECTED)}
    index = NearDuplicateIndex(spec.dedup_threshold)
    for record in kept:
        index.add(record["id"], record[QUESTION_KEY[spec.task]])
    rates = {r["id"]: PassRate(**r) for r in store.read_jsonl(spec.out / store.PASS_RATES)}
    counts = BuildCounts(input_items=len(items), skipped_done=sum(1 for qa in items if qa.id in done))
    committer = _Committer(spec, index, rates, counts)
    todo = [qa for qa in items if qa.id not in done]
    stopped: str | None = None
    try:
        if spec.pass_rate_samples:
            to_sample = [qa for qa in todo if qa.id not in rates]
            failures = await _sample_rates(spec, llm, to_sample, rates, committer)
            todo = [qa for qa in todo if qa.id in rates]
            if spec.balance and failures:
                stopped = f"{failures} item(s) failed pass-rate sampling; re-run to retry them before balancing"
                todo = []
            elif spec.balance:
                wanted = {qa.id: rates[qa.id].pass_rate for qa in items if qa.id in rates}
                keep = balance(wanted, spec.buckets, spec.per_bucket, spec.seed)
                for qa in [qa for qa in todo if qa.id not in keep]:
                    bucket = bucket_of(rates[qa.id].pass_rate, spec.buckets)
                    committer.commit(qa, Rejected(qa.id, "bucket_full", f"pass-rate bucket {bucket} is full"))
                todo = [qa for qa in todo if qa.id in keep]
        options = ItemOptions(limits=spec.limits, trajectories=spec.trajectories, max_rounds=spec.max_rounds)
        committer.bar = tqdm(
            total=len(todo), desc=f"build {spec.task}", unit="item", disable=not spec.progress, dynamic_ncols=True
        )
        try:
            await _pool(todo, spec.concurrency, lambda qa: build_item(llm, spec.task, qa, options), committer.commit,
                        committer)
        finally:
            committer.bar.close()
    except JudgeUnavailableError as err:
        stopped = f"the LLM endpoints are unavailable, build stopped (re-run to resume): {err}"
        logger.error("%s", stopped)
    except asyncio.CancelledError:  # SIGTERM/SIGINT (the CLI cancels the build): report what was done, then stop
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        stopped = "interrupted (SIGTERM/SIGINT); the items in flight are in failed.jsonl, re-run to resume"
    finally:
        committer.close()
    counts.wall_s = time.monotonic() - start
    report = write_report(spec, counts, llm.metrics(), llm.prompt_hashes, rates, stopped)
    if spec.progress:
        print_table(report)
    logger.info("build report written to %s", spec.out / store.REPORT)
    return report
