"""The build's files: JSONL streams appended one flushed line per outcome, and read back for resume.

Who uses it: ``runner.py``. Layout of ``DIR``: ``records.jsonl`` (kept), ``rejected.jsonl`` (every rejection with
its reason, detail and generation), ``failed.jsonl`` (this run's failures; retried by the next run, so the file
starts empty each run), ``pass_rates.jsonl`` (policy sampling, reused), ``build.json`` (what the build is: task,
input, prompt version and hashes, models) and ``report.json``. A kill can leave a half-written last line; reading
drops it (and truncates the file to the last complete line) so the item is simply built again.

How it fails: ``DataError`` when ``DIR`` holds a build of another task, input or prompt version (resuming it would
mix two datasets); the message says to choose another ``--out`` or delete the folder.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import IO, Any

from askrl.errors import DataError

logger = logging.getLogger(__name__)

KEPT, REJECTED, FAILED, PASS_RATES = "records.jsonl", "rejected.jsonl", "failed.jsonl", "pass_rates.jsonl"
BUILD, REPORT = "build.json", "report.json"
#: ``build.json`` keys that must match for a re-run to resume (anything else may change between runs).
RESUME_KEYS = ("task", "input", "mapping", "prompt_version")


def is_side_file(path: Path) -> bool:
    """A build's bookkeeping file (rejected, failed, pass rates) beside its ``build.json``: not records."""
    return path.name in (REJECTED, FAILED, PASS_RATES) and (path.parent / BUILD).is_file()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Complete JSON lines of ``path`` (none if missing); a partial last line is cut off the file."""
    if not path.exists():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        logger.warning("%s: dropping a partial last line (%d bytes) left by an interrupted run", path, len(data) - end)
        with path.open("r+b") as handle:
            handle.truncate(end)
    return [json.loads(line) for line in data[:end].decode("utf-8").splitlines() if line.strip()]


class Sink:
    """One append-only JSONL stream; every line is flushed as written (the file is the progress)."""

    def __init__(self, path: Path, *, fresh: bool = False) -> None:
        self.path = path
        self._handle: IO[str] = path.open("w" if fresh else "a", encoding="utf-8")

    def write(self, obj: dict[str, Any]) -> None:
        self._handle.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def check_resumable(out: Path, meta: dict[str, Any]) -> None:
    """Write ``build.json``, or refuse a ``DIR`` built for something else (see the module docstring)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / BUILD
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        diff = [k for k in RESUME_KEYS if old.get(k) != meta.get(k)]
        if diff:
            shown = ", ".join(f"{k}: {old.get(k)!r} -> {meta.get(k)!r}" for k in diff)
            raise DataError(
                f"{out} holds another build ({shown}); resuming would mix two datasets. "
                "Use another --out or delete that folder."
            )
    path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
