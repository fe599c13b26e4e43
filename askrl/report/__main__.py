"""``python -m askrl.report RUN_DIR [--out DIR]``: plots and ``report.md`` of a run from its local logs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from askrl.errors import AskrlError
from askrl.report.build import build_report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m askrl.report", description=__doc__)
    parser.add_argument("run_dir", type=Path, help="a training run's trainer.default_local_dir")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: RUN_DIR/report)")
    args = parser.parse_args(argv)
    try:
        written = build_report(args.run_dir, args.out)
    except AskrlError as err:
        sys.stderr.write(f"askrl.report: {err}\n")
        raise SystemExit(2) from None
    report = written[-1]
    sys.stdout.write(f"askrl.report: {len(written) - 1} plots and {report}\n")


main()
