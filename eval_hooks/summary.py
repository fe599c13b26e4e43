"""``OUT/summary.json`` (``{suite: {metric: float, ..., "n": int, "judge_failed": int, "candidate_failed": int},
"config": {...}}``; the ``config`` block is :mod:`eval_hooks.run_config`'s) and ``OUT/summary.md``: the run's settings
header, then the paper's table layout (AskBench Acc./Cov./Unq., IN3 Ask/Dir., QA accuracy) plus the calibration
suite's kind x asked/answered table and each AskBench suite's per-source breakdown.

    summary = suite_summary(suite, records); write_summary(out, suites, summaries, tables, title, config)
    suites, config = load_summary(out)       # config is None for a summary written before the block existed
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval_hooks import metrics
from eval_hooks.metrics import COUNT_KEYS
from eval_hooks.run_config import CONFIG_KEY, header_lines
from eval_hooks.suites import Suite


def suite_summary(suite: Suite, records: list[dict[str, Any]]) -> dict[str, Any]:
    compute = {
        "askbench": metrics.askbench_metrics,
        "in3": metrics.in3_metrics,
        "calibration": metrics.calibration_metrics,
        "qa": metrics.qa_metrics,
    }[suite.family]
    out: dict[str, Any] = dict(compute(records))
    for key in COUNT_KEYS:
        out[key] = int(out[key])
    if out["n"] == 0:  # every sample failed or none ran: no rate is 0, none is known (JSON null, shown as "-")
        out = {key: (value if key in COUNT_KEYS else None) for key, value in out.items()}
    return out


def _f(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _n(value: float | None) -> int | None:
    return None if value is None else int(value)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_f(v) for v in row) + " |" for row in rows]
    return lines + [""]


def render_markdown(
    suites: list[Suite], summaries: dict[str, dict[str, Any]], tables: dict[str, dict[str, dict[str, int]]],
    title: str, config: dict[str, Any] | None = None,
) -> str:
    lines = [f"# {title}", "", *(header_lines(config) if config else [])]
    fails = ["n", "judge_failed", "candidate_failed"]
    ask = [s for s in suites if s.family == "askbench"]
    if ask:
        cols = ["acc", "cov", "unq", "ask_rate", "premature_rate", "composite"]
        lines += ["## AskBench", ""]
        lines += _table(["suite", "Acc.", "Cov.", "Unq.", "ask rate", "premature", "composite", *fails],
                        [[s.name, *(summaries[s.name][c] for c in cols + fails)] for s in ask])  # fmt: skip
        for s in ask:
            sources = sorted({k.split("/")[0] for k in summaries[s.name] if k.endswith("/acc")})
            if sources:
                lines += [f"### {s.name} by source", ""]
                lines += _table(["source", "Acc.", "Cov.", "Unq.", "ask rate", "n"],
                                [[src, *(summaries[s.name][f"{src}/{c}"] for c in ("acc", "cov", "unq", "ask_rate")),
                                  _n(summaries[s.name][f"{src}/n"])]
                                 for src in sources])  # fmt: skip
    for s in (s for s in suites if s.family == "in3"):
        lines += [f"## {s.name}", ""]
        cols = ["vague_ask_rate", "clear_direct_rate", "cov", "unq"]
        lines += _table(["suite", "Ask (vague)", "Dir. (clear)", "Cov.", "Unq.", *fails],
                        [[s.name, *(summaries[s.name][c] for c in cols + fails)]])  # fmt: skip
    for s in (s for s in suites if s.family == "calibration"):
        m = summaries[s.name]
        lines += [f"## {s.name}", ""]
        rows = [[kind, tables[s.name][kind]["asked"], tables[s.name][kind]["answered_directly"],
                 m[f"{kind}_ask_rate"], m[f"{kind}_acc"]] for kind in metrics.CALIBRATION_KINDS]  # fmt: skip
        lines += _table(["kind", "asked", "answered directly", "ask rate", "acc"], rows)
        lines += [f"premise correction rate {_f(m['premise_correction_rate'])}; questions per dialogue "
                  f"{_f(m['questions_per_dialogue'])}; n {m['n']}, judge failed {m['judge_failed']}, "
                  f"candidate failed {m['candidate_failed']}", ""]  # fmt: skip
    qa_suites = [s for s in suites if s.family == "qa"]
    if qa_suites:
        lines += ["## QA", ""]
        lines += _table(["suite", "acc", *fails], [[s.name, *(summaries[s.name][c] for c in ["acc", *fails])]
                                                   for s in qa_suites])  # fmt: skip
    return "\n".join(lines)


def write_summary(
    out: Path, suites: list[Suite], summaries: dict[str, dict[str, Any]],
    tables: dict[str, dict[str, dict[str, int]]], title: str, config: dict[str, Any],
) -> None:
    """Write ``summary.json`` (the suites and the ``config`` block) and ``summary.md`` for the suites of this run."""
    write_summary_json(out, summaries, config)
    (out / "summary.md").write_text(render_markdown(suites, summaries, tables, title, config), encoding="utf-8")


def write_summary_json(out: Path, summaries: dict[str, dict[str, Any]], config: dict[str, Any] | None) -> None:
    body = {**summaries, **({CONFIG_KEY: config} if config is not None else {})}
    (out / "summary.json").write_text(json.dumps(body, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def load_summary(out: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any] | None]:
    """``OUT/summary.json`` as (suites, config block or None).

    Raises:
        FileNotFoundError: ``out`` has no ``summary.json`` (not an ``eval_hooks.run --out`` folder).
    """
    path = out / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (is {out} an eval_hooks.run --out folder?)")
    body = json.loads(path.read_text(encoding="utf-8"))
    config = body.pop(CONFIG_KEY, None)
    return body, config
