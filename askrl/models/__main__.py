"""``python -m askrl.models prepare {tiny,smollm2} [--out DIR]``: build an offline model (cached)."""

from __future__ import annotations

import argparse
import sys
import time

from askrl.errors import AskrlError
from askrl.models.prepare import MODEL_NAMES, prepare


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m askrl.models", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="build a model directory (returns at once when already built)")
    prep.add_argument("name", choices=MODEL_NAMES)
    prep.add_argument("--out", default=None, help="output directory (default: $ASKRL_HOME/models/NAME)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        path = prepare(args.name, args.out)
    except AskrlError as err:
        print(f"askrl.models: {err}", file=sys.stderr)
        return 2
    print(f"{args.name}: {path} ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
