"""``python -m eval_hooks.compare DIR [DIR...] [--format md|json] [--all]``: evaluation runs side by side.

Reads each ``DIR/summary.json``. First the settings that differ between the runs (from each ``config`` block:
candidate and judge roots, protocol, limits, data hashes, versions...; start time, wall time and sample counts are
results, not settings, and stay out), then one table per suite: its metrics in the paper's order
(:data:`eval_hooks.metrics.PAPER_ORDER`, then other metrics, then the counts), one column per run, every run after
the first with its delta against the first. Counts are integers. Per-source and outcome rows only with ``--all``;
a metric a run lacks shows ``-``. ``--format json`` prints the same content as one JSON object.

    python -m eval_hooks.compare results/base results/step_200 results/step_500
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from eval_hooks.metrics import is_count_key, metric_order
from eval_hooks.summary import load_summary

#: Config keys that describe what happened, not how the run was set up: never part of the settings diff.
_RESULT_KEYS = ("started_at", "wall_s", "status", "samples")


def _flat(block: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in block.items():
        if prefix.count(".") == 2 and prefix.startswith("suites.") and key == "samples":
            continue
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def settings_diff(configs: list[dict[str, Any] | None]) -> dict[str, list[Any]]:
    """``{dotted setting: [value per run]}`` for every setting whose value is not the same in all runs."""
    flat = [_flat({k: v for k, v in (c or {}).items() if k not in _RESULT_KEYS}) for c in configs]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    return {k: [f.get(k) for f in flat] for k in keys if len({json.dumps(f.get(k), sort_keys=True) for f in flat}) > 1}


def _delta(value: Any, first: Any) -> float | None:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (value, first))
    return value - first if numbers else None


def compare_data(folders: list[Path], *, show_all: bool = False) -> dict[str, Any]:
    """The comparison as data: names, settings diff, runs without a config block, and per-suite rows."""
    loaded = [load_summary(f) for f in folders]
    runs = [suites for suites, _ in loaded]
    suites = list(dict.fromkeys(s for run in runs for s in run))
    tables: dict[str, dict[str, dict[str, list[Any]]]] = {}
    for suite in suites:
        keys = metric_order(k for run in runs for k in run.get(suite, {}))
        if not show_all:
            keys = [k for k in keys if "/" not in k]
        rows = {}
        for key in keys:
            values = [run.get(suite, {}).get(key) for run in runs]
            if is_count_key(key):
                values = [int(v) if isinstance(v, int | float) else v for v in values]
            rows[key] = {"values": values, "deltas": [None, *(_delta(v, values[0]) for v in values[1:])]}
        tables[suite] = rows
    return {
        "runs": [f.name or str(f) for f in folders],
        "settings": settings_diff([config for _, config in loaded]),
        "without_config": [f.name or str(f) for f, (_, config) in zip(folders, loaded, strict=True) if config is None],
        "suites": tables,
    }


def _cell(value: Any, count: bool) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not count:
        return f"{value:.3f}"
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def _delta_cell(delta: float | None, count: bool) -> str:
    if delta is None:
        return ""
    return f" ({int(delta):+d})" if count else f" ({delta:+.3f})"


def render_markdown(data: dict[str, Any]) -> str:
    names = data["runs"]
    header = ["| {} | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    out = ["## Settings that differ", ""]
    if data["settings"]:
        out += [header[0].format("setting"), header[1]]
        out += [f"| {key} | " + " | ".join(_cell(v, True) for v in values) + " |"
                for key, values in data["settings"].items()]  # fmt: skip
    else:
        out.append("None: the runs share every recorded setting.")
    if data["without_config"]:
        out += ["", f"No settings recorded (a summary.json older than its config block): {', '.join(data['without_config'])}"]
    out.append("")
    if len(names) > 1:
        out += [f"Deltas in parentheses are against the first run, {names[0]}.", ""]
    for suite, rows in data["suites"].items():
        out += [f"## {suite}", "", header[0].format("metric"), header[1]]
        for key, row in rows.items():
            count = is_count_key(key)
            cells = [_cell(v, count) + ("" if v is None else _delta_cell(d, count))
                     for v, d in zip(row["values"], row["deltas"], strict=True)]  # fmt: skip
            out.append(f"| {key} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def compare(folders: list[Path], *, show_all: bool = False, fmt: str = "md") -> str:
    """The comparison of ``folders`` as Markdown or JSON text (see the module docstring)."""
    data = compare_data(folders, show_all=show_all)
    return json.dumps(data, indent=1) if fmt == "json" else render_markdown(data)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval_hooks.compare", description=__doc__.split("\n\n")[0])
    p.add_argument("dirs", nargs="+", type=Path)
    p.add_argument("--all", action="store_true", help="also per-source and outcome metrics")
    p.add_argument("--format", choices=["md", "json"], default="md", help="Markdown tables or one JSON object")
    args = p.parse_args(argv)
    try:
        print(compare(args.dirs, show_all=args.all, fmt=args.format))
    except (FileNotFoundError, ValueError) as err:
        print(f"compare: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
