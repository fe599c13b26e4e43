"""The end of a build: counts of kept, rejected by reason and failed by step, in ``DIR/report.json`` and a table.

Who uses it: ``runner.py``. ``report.json`` holds this run's counts (``run``), the totals over every run of the
folder read back from its files (``total``), throughput (``items_per_s``: items processed this run, kept +
rejected + failed, per wall second), the pass-rate histogram when rates were sampled, the LLM clients' metrics
(calls, retries, failures by kind, latency) and the prompt hashes. Every rejection reason appears, zeros
included, so runs compare key by key. The table goes to stderr (rich).

    {"run": {"kept": 18, "rejected": {"still_answerable": 2, ...}, "failed": {}}, "total": {...}, ...}
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from askrl.data.build import store
from askrl.data.build.difficulty import PassRate, histogram
from askrl.data.build.gates import REJECT_REASONS

if TYPE_CHECKING:
    from askrl.data.build.runner import BuildSpec


@dataclass
class BuildCounts:
    """This run's tallies (mutated by the runner's committer)."""

    input_items: int = 0
    skipped_done: int = 0
    kept: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    wall_s: float = 0.0

    @property
    def processed(self) -> int:
        return self.kept + sum(self.rejected.values()) + sum(self.failed.values())


def _all_reasons(counter: Counter[str] | dict[str, int]) -> dict[str, int]:
    return {reason: int(counter.get(reason, 0)) for reason in REJECT_REASONS}


def write_report(
    spec: BuildSpec,
    counts: BuildCounts,
    llm_metrics: dict[str, dict[str, float]],
    prompt_hashes: dict[str, str],
    rates: dict[str, PassRate],
    stopped: str | None,
) -> dict[str, Any]:
    """Assemble the report, write ``DIR/report.json`` and return it."""
    kept_total = len(store.read_jsonl(spec.out / store.KEPT))
    rejected_total = Counter(r["reason"] for r in store.read_jsonl(spec.out / store.REJECTED))
    report: dict[str, Any] = {
        "task": spec.task,
        "input": spec.input,
        "out": str(spec.out),
        "records": str(spec.out / store.KEPT),
        "wall_s": round(counts.wall_s, 3),
        "items_per_s": round(counts.processed / counts.wall_s, 3) if counts.wall_s > 0 else 0.0,
        "run": {
            "input_items": counts.input_items,
            "skipped_done": counts.skipped_done,
            "processed": counts.processed,
            "kept": counts.kept,
            "rejected": _all_reasons(counts.rejected),
            "failed": dict(sorted(counts.failed.items())),
        },
        "total": {"kept": kept_total, "rejected": _all_reasons(rejected_total)},
        "stopped": stopped,
        "prompt_version": spec.prompt_version,
        "prompt_hashes": prompt_hashes,
        "llm": llm_metrics,
    }
    if rates:
        report["pass_rates"] = {
            "sampled": len(rates),
            "histogram": histogram({k: r.pass_rate for k, r in rates.items()}, spec.buckets),
        }
    (spec.out / store.REPORT).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def print_table(report: dict[str, Any]) -> None:
    """The kept / rejected / failed counts (this run and in total) as a rich table on stderr."""
    run, total = report["run"], report["total"]
    table = Table(title=f"askrl data build: {report['task']} -> {report['records']}")
    table.add_column("outcome")
    table.add_column("this run", justify="right")
    table.add_column("total", justify="right")
    table.add_row("kept", str(run["kept"]), str(total["kept"]))
    for reason in REJECT_REASONS:
        if run["rejected"][reason] or total["rejected"][reason]:
            table.add_row(f"rejected: {reason}", str(run["rejected"][reason]), str(total["rejected"][reason]))
    for label, n in run["failed"].items():
        table.add_row(f"failed: {label}", str(n), "retried next run")
    table.add_row("skipped (done before)", str(run["skipped_done"]), "")
    console = Console(stderr=True)
    console.print(table)
    console.print(f"{run['processed']} items in {report['wall_s']:.1f} s ({report['items_per_s']:.2f} items/s)")
    if "pass_rates" in report:
        spread = ", ".join(f"{bucket}: {n}" for bucket, n in report["pass_rates"]["histogram"].items())
        console.print(f"pass rates of {report['pass_rates']['sampled']} items by bucket: {spread}")
    if report["stopped"]:
        console.print(f"[bold]stopped:[/bold] {report['stopped']}")
