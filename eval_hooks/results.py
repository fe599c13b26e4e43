"""Per-suite results on disk: a run header with the fingerprint, and one JSON line per finished sample.

Layout: ``OUT/<suite>/run.json`` (``{"fingerprint": {...}, "created": unix_s}``) and ``OUT/<suite>/results.jsonl``
(one record per line, appended and flushed as each sample finishes; spec §7.19: the original wrote everything at
the end). Resume: a re-run reads the records back, keeps the last line per sample id, and skips samples whose
last record is ``ok``; failed samples (``judge_failed``, ``candidate_failed``) run again. A torn last line (a
kill mid-write) is cut off before appending. A different fingerprint (model, judge, prompt versions, data file,
candidate settings, protocol) is refused unless ``fresh``, which starts the suite over.

    store = SuiteStore(out / "askmind", fingerprint, fresh=False)
    done = store.finished_ids()
    store.append(record)
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from askrl.errors import EvalError

HEADER = "run.json"
RESULTS = "results.jsonl"


def _differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(_differences(a, b, f"{prefix}{key}."))
        elif a != b:
            out.append(f"{prefix}{key}: {json.dumps(a)[:80]} -> {json.dumps(b)[:80]}")
    return out


class SuiteStore:
    """The results of one suite in one output folder (see the module docstring)."""

    def __init__(self, folder: Path, fingerprint: dict[str, Any], *, fresh: bool) -> None:
        self.folder = folder
        self.path = folder / RESULTS
        header = folder / HEADER
        if fresh and folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if header.exists():
            old = json.loads(header.read_text(encoding="utf-8"))["fingerprint"]
            diff = _differences(old, fingerprint)
            if diff:
                raise EvalError(
                    f"{folder}: holds results of a different run ({'; '.join(diff[:5])}); pass --fresh to start "
                    "this suite over, or choose another --out"
                )
        else:
            header.write_text(json.dumps({"fingerprint": fingerprint, "created": time.time()}, indent=1) + "\n")
        self._repair_tail()
        self._handle = self.path.open("a", encoding="utf-8")

    def _repair_tail(self) -> None:
        """Cut a partial last line (no trailing newline) left by a kill mid-write."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            self.path.write_bytes(data[: data.rfind(b"\n") + 1])

    def records(self) -> dict[str, dict[str, Any]]:
        """The last record per sample id."""
        return read_records(self.path)

    def finished_ids(self) -> set[str]:
        return {sid for sid, rec in self.records().items() if rec.get("status") == "ok"}

    def append(self, record: dict[str, Any]) -> None:
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def read_records(path: Path) -> dict[str, dict[str, Any]]:
    """``{sample_id: last record}`` of a results file (an unreadable line is skipped: a torn write)."""
    out: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return out
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            out[str(record["sample_id"])] = record
    return out
