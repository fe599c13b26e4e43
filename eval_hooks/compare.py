"""``python -m eval_hooks.compare DIR [DIR...]``: evaluation runs side by side, one column per run.

Reads each ``DIR/summary.json`` and prints one Markdown table per suite, one row per metric (per-source and
outcome rows only with ``--all``), one column per run; a metric a run lacks shows ``-``.

    python -m eval_hooks.compare results/base results/step_200 results/step_500
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def load(folder: Path) -> dict[str, dict[str, Any]]:
    path = folder / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (is {folder} an eval_hooks.run --out folder?)")
    return json.loads(path.read_text(encoding="utf-8"))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def compare(folders: list[Path], *, show_all: bool = False) -> str:
    runs = [load(f) for f in folders]
    names = [f.name or str(f) for f in folders]
    suites = list(dict.fromkeys(s for run in runs for s in run))
    out: list[str] = []
    for suite in suites:
        keys = list(dict.fromkeys(k for run in runs for k in run.get(suite, {})))
        if not show_all:
            keys = [k for k in keys if "/" not in k]
        out += [f"## {suite}", "", "| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        out += [f"| {k} | " + " | ".join(_cell(run.get(suite, {}).get(k)) for run in runs) + " |" for k in keys]
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval_hooks.compare", description=__doc__.split("\n\n")[0])
    p.add_argument("dirs", nargs="+", type=Path)
    p.add_argument("--all", action="store_true", help="also per-source and outcome metrics")
    args = p.parse_args(argv)
    try:
        print(compare(args.dirs, show_all=args.all))
    except (FileNotFoundError, ValueError) as err:
        print(f"compare: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
