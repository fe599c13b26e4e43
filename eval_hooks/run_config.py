"""What an evaluation run was: the ``config`` block of ``OUT/summary.json`` and the settings header of ``summary.md``.

Why: two runs with different ``--limit``, ``--guidance`` or judges must not carry identical summaries (as
lm-evaluation-harness's results JSON does, the block records settings, versions, sample counts and the date), and
a run whose samples mostly failed must say so in its exit code instead of exiting 0 on a summary of the survivors.

Shape: shared settings at the top (candidate and judge with their ``/v1/models`` roots, protocol, attempts, code
versions, start time, wall time), per-suite entries under ``suites`` (limit, data-file hashes, sample counts), the
totals under ``samples`` and ``status``: ``degraded`` when failed samples exceed ``max_failed_frac``. Several
evaluator invocations over one folder (checkpoint evaluation runs suite groups separately) merge with
:func:`merge_configs`.

    config = run_config(spec, suites, judge, roots, summaries, started_at=..., wall_s=...)
    failed_line(config)     # "3 of 40 samples failed (judge 3, candidate 0): over --max-failed-frac 0.05 ..."
"""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from askrl import __version__, _verl

if TYPE_CHECKING:
    from eval_hooks.engine import EvalSpec
    from eval_hooks.judges import EvalJudge
    from eval_hooks.suites import Suite

CONFIG_KEY = "config"
"""The key of the settings block in ``summary.json``: every other top-level key is a suite."""
FAILED_KEYS = ("judge_failed", "candidate_failed")
_REPO = Path(__file__).resolve().parent.parent


def git_commit(repo: Path = _REPO) -> str | None:
    """The checkout's HEAD commit (with ``-dirty`` when it has uncommitted changes), or None outside git."""
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def code_versions() -> dict[str, str | None]:
    """askrl's and VERL's versions and the git commit of this checkout."""
    return {"askrl_version": __version__, "verl_version": _verl.installed_version(), "git_commit": git_commit()}


def suite_samples(summary: dict[str, Any], total: int) -> dict[str, int]:
    """Sample counts of one suite's summary: ``total`` planned, ``valid`` scored, failed by kind."""
    return {"total": total, "valid": int(summary.get("n") or 0), **{k: int(summary.get(k) or 0) for k in FAILED_KEYS}}


def _totals(suites: dict[str, dict[str, Any]], max_failed_frac: float) -> tuple[dict[str, int], str]:
    keys = ("total", "valid", *FAILED_KEYS)
    totals = {k: sum(int(s["samples"][k]) for s in suites.values()) for k in keys}
    failed = sum(totals[k] for k in FAILED_KEYS)
    return totals, "degraded" if failed > max_failed_frac * totals["total"] else "ok"


def run_config(
    spec: EvalSpec, suites: list[Suite], judge: EvalJudge, roots: dict[str, str | None],
    summaries: dict[str, dict[str, Any]], totals: dict[str, int], data: dict[str, dict[str, Any]], *,
    started_at: datetime, wall_s: float,
) -> dict[str, Any]:
    """The ``config`` block of one evaluator invocation (see the module docstring).

    ``roots`` maps each endpoint URL to the ``root`` its ``/v1/models`` reported, ``totals`` each suite to its
    planned samples (items x attempts; calibration items x 3), ``data`` each suite to what it read: ``data``
    (file name -> hash), ``files`` (paths) and ``sources`` (the records' ``source`` values: ``askrl_demo_*`` for
    generated demo records).
    """
    per_suite = {s.name: {"limit": spec.limit, **data[s.name],
                          "samples": suite_samples(summaries[s.name], totals[s.name])} for s in suites}  # fmt: skip
    samples, status = _totals(per_suite, spec.max_failed_frac)
    return {
        "status": status,
        "samples": samples,
        "max_failed_frac": spec.max_failed_frac,
        "started_at": started_at.isoformat(timespec="seconds"),
        "wall_s": round(wall_s, 3),
        "candidate": {"url": spec.model_url, "name": spec.model_name, "root": roots.get(spec.model_url),
                      **spec.candidate.model_dump(exclude={"request_timeout_s", "max_retries"})},  # fmt: skip
        "judge": {"urls": list(spec.judge_urls), "name": spec.judge_model if spec.judge == "llm" else None,
                  "roots": {url: roots.get(url) for url in spec.judge_urls}, **judge.fingerprint()},  # fmt: skip
        "protocol": {"max_turns": spec.max_turns, "strict": spec.strict, "guidance": spec.guidance},
        "attempts": spec.attempts,
        "seed": spec.seed,
        "concurrency": spec.concurrency,
        "suites": per_suite,
        **code_versions(),
    }


def merge_configs(configs: list[dict[str, Any]]) -> dict[str, Any]:
    """One block for several invocations over one folder: their suites together, the earliest start, the summed
    wall time, the totals and status recomputed; other settings from the last invocation."""
    merged = dict(configs[-1])
    merged["suites"] = {name: entry for config in configs for name, entry in config["suites"].items()}
    merged["started_at"] = min(config["started_at"] for config in configs)
    merged["wall_s"] = round(sum(float(config["wall_s"]) for config in configs), 3)
    merged["samples"], merged["status"] = _totals(merged["suites"], float(merged["max_failed_frac"]))
    return merged


def failed_line(config: dict[str, Any]) -> str:
    """The evaluator's last line: sample counts and, past the threshold, what to do."""
    s = config["samples"]
    failed = s["judge_failed"] + s["candidate_failed"]
    counts = (f"{failed} of {s['total']} samples failed (judge_failed {s['judge_failed']}, candidate_failed "
              f"{s['candidate_failed']}), {s['valid']} valid")
    if config["status"] == "degraded":
        return (f"{counts}: over --max-failed-frac {config['max_failed_frac']:g}; the summary covers the valid ones "
                "only. Re-run the same command to retry the failed samples")
    return counts


def header_lines(config: dict[str, Any]) -> list[str]:
    """``summary.md``'s settings header: what differs between runs, in a few lines."""
    cand, judge, proto = config["candidate"], config["judge"], config["protocol"]
    limits = sorted({str(entry["limit"]) for entry in config["suites"].values()})
    judge_text = (f"{judge['name']} at {', '.join(judge['urls'])} (root {', '.join(str(r) for r in judge['roots'].values())})"
                  if judge["urls"] else judge.get("backend", "?"))  # fmt: skip
    lines = [
        f"- status: **{config['status']}**, {failed_line(config)}",
        f"- candidate: {cand['name']} at {cand['url']} (root {cand['root']}); temperature {cand['temperature']}, "
        f"top_p {cand['top_p']}, max_tokens {cand['max_tokens']}, seed {cand['seed']}",
        f"- judge: {judge_text}, prompts {judge.get('prompt_version', 'n/a')}",
        f"- protocol: max_turns {proto['max_turns']}, strict {proto['strict']}, guidance {proto['guidance']}; "
        f"attempts {config['attempts']}; limit {', '.join(limits)}",
        f"- started {config['started_at']}, wall {config['wall_s']:.1f} s; askrl {config['askrl_version']}, "
        f"VERL {config['verl_version']}, commit {config['git_commit']}",
    ]
    return lines + [""]
