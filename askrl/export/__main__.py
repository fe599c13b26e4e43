"""``python -m askrl.export --run DIR [--step N] --out DIR`` (see :mod:`askrl.export`)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from askrl.errors import AskrlError
from askrl.export import export


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m askrl.export",
                                     description="Merge a run's checkpoint into a verified HF folder for vLLM.")
    parser.add_argument("--run", type=Path, required=True, help="the run directory (trainer.default_local_dir)")
    parser.add_argument("--step", type=int, default=None, help="checkpoint step (default: the latest)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (replaced if it exists)")
    parser.add_argument("--skip-vllm", action="store_true", help="skip the vLLM serve check even where vLLM exists")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        summary = export(args.run, args.out, args.step, check_vllm=not args.skip_vllm)
    except AskrlError as err:
        sys.stderr.write(f"askrl.export: {err}\n")
        raise SystemExit(2) from None
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
