"""AskBench data tools: ``validate`` files before any GPU time is spent, ``prepare`` VERL parquet.

``python -m askrl.data validate PATH [--kind KIND]``:

Good input: exit 0 and one JSON line per file, ``{"path", "kind", "records", ...}``. Bad input: exit 2 and one
``FILE:LINE: field 'X': problem`` line per problem (the first 20, then a count) on stderr; never a traceback.
PATH may be a folder: every ``.jsonl``/``.parquet`` file under it is checked. Parquet written for VERL (by
``prepare``) is recognised and checked as training rows (kind ``verl_rows_online`` / ``verl_rows_offline``).

``python -m askrl.data prepare --task askmind|overconfidence --input PATH|NAME|hf --out DIR [--val-frac F]
[--mode online|offline]``: writes ``DIR/train.parquet`` (and ``val.parquet``) and prints a JSON summary.

``python -m askrl.data demo --out DIR [--count N] [--seed S]``: writes generated records of every named AskBench
set in the AskBench layout under DIR (``askrl.data.demo_tree``), a ``--data-dir`` for offline demos and tests.

``python -m askrl.data build --task askmind|overconfidence --input QA.jsonl|hf:NAME[:split] --out DIR
--llm-url URL[,URL...] [--llm-model N] [--limit K] ...``: builds records from a QA set with an LLM, through quality
gates (``askrl.data.build``; flags in ``askrl/data/build/cli.py``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from askrl.data.build import cli as build_cli
from askrl.data.build.store import is_side_file
from askrl.data.demo_tree import demo_tree
from askrl.data.loading import LoadedFile, load_records, record_files
from askrl.data.prepare import TASK_DATASETS, prepare_parquet
from askrl.data.records import KIND_MODELS
from askrl.data.row_checks import check_rows, detect_mode
from askrl.errors import AskrlError


def summary(loaded: LoadedFile) -> dict[str, Any]:
    """The one-line report for a good file: counts, plus checklist statistics where records have a checklist."""
    out: dict[str, Any] = {"path": str(loaded.path), "kind": loaded.kind, "records": len(loaded.records)}
    lengths = [
        len(getattr(r, "required_points", None) or getattr(r, "misleading_points", None) or [])
        for r in loaded.records
        if hasattr(r, "required_points") or hasattr(r, "misleading_points")
    ]
    if lengths:
        out["checklist_mean"] = round(statistics.fmean(lengths), 3)
        out["checklist_min"] = min(lengths)
        out["checklist_max"] = max(lengths)
    return out


def _columns(path: Path) -> set[str]:
    import pyarrow.parquet as pq

    return set(pq.read_schema(path).names)


def is_verl_rows(path: Path) -> bool:
    """A parquet file written for VERL (``prompt`` + ``extra_info``), rather than AskBench records."""
    return {"prompt", "extra_info", "data_source"} <= _columns(path)


def validate(path: Path, kind: str | None) -> int:
    # A build folder's bookkeeping files (rejected.jsonl, ...) are not records; its records.jsonl is.
    files = [f for f in record_files(path) if f == path or not is_side_file(f)]
    if not files:
        print(f"{path}: no .jsonl or .parquet files found", file=sys.stderr)
        return 2
    status = 0
    for file in files:
        if kind is None and file.suffix == ".parquet" and is_verl_rows(file):
            try:
                mode = detect_mode(file)
                print(json.dumps({"path": str(file), "kind": f"verl_rows_{mode}", "records": check_rows(file, mode)}))
            except AskrlError as err:
                print(str(err), file=sys.stderr)
                status = 2
            continue
        try:
            loaded = load_records(file, kind)
        except AskrlError as err:
            print(str(err), file=sys.stderr)
            status = 2
            continue
        print(json.dumps(summary(loaded), ensure_ascii=False))
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m askrl.data", description="AskBench data tools")
    sub = parser.add_subparsers(dest="command", required=True)
    val = sub.add_parser("validate", help="validate a file or every record file under a folder")
    val.add_argument("path", type=Path)
    val.add_argument("--kind", choices=sorted(KIND_MODELS), default=None, help="record kind (inferred when omitted)")
    prep = sub.add_parser("prepare", help="write VERL parquet for online (multi-turn) or offline (per-turn) training")
    prep.add_argument("--task", choices=sorted(TASK_DATASETS), required=True)
    prep.add_argument("--input", required=True, help="a JSONL/parquet path, a dataset name, or 'hf' (hub download)")
    prep.add_argument("--out", type=Path, required=True)
    prep.add_argument("--val-frac", type=float, default=0.0)
    prep.add_argument("--mode", choices=["online", "offline"], default="online")
    prep.add_argument("--seed", type=int, default=0)
    demo = sub.add_parser("demo", help="write generated records of every AskBench set, in the AskBench layout")
    demo.add_argument("--out", type=Path, required=True)
    demo.add_argument("--count", type=int, default=32, help="records per set")
    demo.add_argument("--seed", type=int, default=0)
    build_cli.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "build":
        return build_cli.run(args)
    if args.command == "demo":
        try:
            root = demo_tree(args.out, args.count, seed=args.seed)
        except AskrlError as err:
            print(str(err), file=sys.stderr)
            return 2
        return validate(root, None)
    if args.command == "prepare":
        try:
            result = prepare_parquet(
                args.task, args.input, args.out, mode=args.mode, val_frac=args.val_frac, seed=args.seed
            )
        except AskrlError as err:
            print(str(err), file=sys.stderr)
            return 2
        print(json.dumps({"train": str(result.train), "val": str(result.val) if result.val else None,
                          "train_rows": result.train_rows, "val_rows": result.val_rows, "records": result.records}))
        return 0
    if args.command == "validate":
        if not args.path.exists():
            print(f"{args.path}: no such file or folder", file=sys.stderr)
            return 2
        return validate(args.path, args.kind)
    return 2


if __name__ == "__main__":
    sys.exit(main())
