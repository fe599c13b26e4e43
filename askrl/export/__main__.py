"""``python -m askrl.export --run DIR [--step N] --out DIR [--force] [--verbose]`` (see :mod:`askrl.export`)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from askrl.errors import AskrlError
from askrl.export import export
from askrl.train.console import configure_logging, quiet_session


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m askrl.export",
                                     description="Merge a run's checkpoint into a verified HF folder for vLLM.")
    parser.add_argument("--run", type=Path, required=True, help="the run directory (trainer.default_local_dir)")
    parser.add_argument("--step", type=int, default=None, help="checkpoint step (default: the latest)")
    parser.add_argument("--out", type=Path, required=True,
                        help="folder to write: new, empty or an earlier export (files it did not write are refused)")
    parser.add_argument("--force", action="store_true", help="replace --out even if it holds other files (listed)")
    parser.add_argument("--skip-vllm", action="store_true", help="skip the vLLM serve check even where vLLM exists")
    parser.add_argument("--verbose", action="store_true", help="print the merger's and libraries' output here")
    args = parser.parse_args(argv)
    if not args.run.is_dir():
        sys.stderr.write(f"askrl.export: --run {args.run} is not a directory (a trainer.default_local_dir)\n")
        raise SystemExit(2)
    configure_logging()
    quiet = contextlib.nullcontext() if args.verbose else quiet_session(
        args.run, name="export", what="the merger's, transformers' and vLLM's output", verbose="--verbose")
    try:
        with quiet:
            summary = export(args.run, args.out, args.step, check_vllm=not args.skip_vllm, force=args.force)
    except AskrlError as err:
        sys.stderr.write(f"askrl.export: {err}\n")
        raise SystemExit(2) from None
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
