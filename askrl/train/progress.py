"""The training progress a person follows on the console, read from the run's own files while VERL trains.

Why files: the training loop runs inside a Ray actor whose output goes to the log, not the console. The trainer
hooks append one line per step to ``<run dir>/metrics.jsonl`` (``{"step", "time", "metrics"}``) and checkpoint
evaluation appends to ``<run dir>/eval/history.jsonl``; :class:`StepWatcher` follows both from the driver and shows

- one progress bar over training steps (step, s/step, ETA): a rich bar on a terminal, one plain line per step
  otherwise (pipes, ``tee``, CI logs);
- after each step one line of the metrics that matter (:func:`metrics_line`);
- each evaluation result when it arrives (:func:`eval_line`).

    watcher = StepWatcher(run_dir, total_steps=2, out=console.stream())
    watcher.start(); ...; watcher.stop()
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

METRICS_FILE = "metrics.jsonl"
EVAL_HISTORY = Path("eval") / "history.jsonl"

#: (label, metric keys in order of preference, format) of the per-step line; the first key present is shown.
STEP_FIELDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("reward", ("reward/episode/mean", "critic/score/mean"), "{:.3f}"),
    ("coverage", ("reward/checklist_coverage/mean",), "{:.2f}"),
    ("accuracy", ("reward/final_correct_rate",), "{:.2f}"),
    ("ask rate", ("rollout/ask_rate",), "{:.2f}"),
    ("turns", ("rollout/num_turns/mean",), "{:.1f}"),
    ("judge failures", ("judge/failed_episodes",), "{:.0f}"),
    ("judge latency", ("judge/latency_s/episode_mean",), "{:.2f}s"),
)

#: Evaluation metrics shown per suite, when the suite reports them.
EVAL_FIELDS = ("acc", "cov", "ask_rate", "composite", "clear_ask_rate", "underspecified_ask_rate",
               "false_premise_ask_rate")


def pick(metrics: Mapping[str, Any], keys: tuple[str, ...]) -> float | None:
    for key in keys:
        value = metrics.get(key)
        if isinstance(value, int | float):
            return float(value)
    return None


def metrics_line(step: int, metrics: Mapping[str, Any]) -> str:
    """``step 3: reward 0.412 | coverage 0.50 | ...``: the metrics that matter, those the run has."""
    parts = []
    for label, keys, fmt in STEP_FIELDS:
        value = pick(metrics, keys)
        if value is not None:
            parts.append(f"{label} {fmt.format(value)}")
    return f"step {step}: " + (" | ".join(parts) if parts else "no askrl metrics at this step")


def eval_line(entry: Mapping[str, Any]) -> str:
    """One evaluation (a ``history.jsonl`` line) as ``eval step N (ok, 31s): suite acc 0.50 ...; suite ...``."""
    step, status = entry.get("global_step"), entry.get("status")
    head = f"eval step {step} ({status}"
    if isinstance(entry.get("wall_s"), int | float):
        head += f", {entry['wall_s']:.0f}s"
    head += ")"
    if status != "ok":
        error = str(entry.get("error") or "no results").strip().splitlines()[0]
        return f"{head}: {error if len(error) <= 240 else error[:239] + '…'}"
    suites = []
    for suite, metrics in (entry.get("suites") or {}).items():
        shown = [f"{k} {metrics[k]:.2f}" for k in EVAL_FIELDS if isinstance(metrics.get(k), int | float)]
        suites.append(f"{suite} " + " ".join(shown or ["(no metrics)"]))
    return f"{head}: " + "; ".join(suites or ["no suites"])


def fmt_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def progress_line(step: int, total: int | None, s_per_step: float | None) -> str:
    """``step 1/2 [##########----------] 50% | 109.3 s/step | ETA 0:01:49``: the bar for non-terminal consoles."""
    rate = f"{s_per_step:.1f} s/step" if s_per_step is not None else "-- s/step"
    if not total:
        return f"step {step} | {rate}"
    done = min(step, total) / total
    bar = "#" * round(20 * done) + "-" * (20 - round(20 * done))
    eta = fmt_duration((total - step) * s_per_step) if s_per_step is not None else "--"
    return f"step {step}/{total} [{bar}] {done:.0%} | {rate} | ETA {eta}"


class JsonlTail:
    """New complete lines of a JSON-lines file since the last call (a half-written last line waits)."""

    def __init__(self, path: Path, *, from_start: bool = False) -> None:
        self.path = path
        self.offset = 0 if from_start or not path.is_file() else path.stat().st_size
        self._partial = b""

    def read(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        self.offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        rows = []
        for line in lines:
            try:
                row = json.loads(line)
            except ValueError:
                continue  # not a record (a torn or foreign line): the progress display skips it
            if isinstance(row, dict):
                rows.append(row)
        return rows


def last_step(path: Path) -> int:
    """The last step recorded in a ``metrics.jsonl`` (0 when there is none)."""
    rows = JsonlTail(path, from_start=True).read()
    return max((int(r["step"]) for r in rows if isinstance(r.get("step"), int)), default=0)


def start_step(run_dir: Path) -> int:
    """Where a (resumed) run starts: VERL's ``latest_checkpointed_iteration.txt`` when there is one (a run killed
    after a save but before that step's metrics line resumes past it), else the last step in ``metrics.jsonl``."""
    tracker = run_dir / "latest_checkpointed_iteration.txt"
    text = tracker.read_text().strip() if tracker.is_file() else ""
    return int(text) if text.isdigit() else last_step(run_dir / METRICS_FILE)


class StepWatcher:
    """Follows ``metrics.jsonl`` and ``eval/history.jsonl`` and shows progress, step metrics and evaluations."""

    def __init__(self, run_dir: Path, total_steps: int | None, out: TextIO, *, interactive: bool | None = None):
        self.total = total_steps
        self.out = out
        self.interactive = out.isatty() if interactive is None else interactive
        self._metrics = JsonlTail(run_dir / METRICS_FILE)
        self._evals = JsonlTail(run_dir / EVAL_HISTORY)
        self.step = start_step(run_dir)
        self._durations: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: Any = None
        self._task: Any = None

    def start(self, poll_s: float = 1.0) -> None:
        left = self.total - self.step if self.total else None
        remaining = "steps" if left is None else f"{left} step" + ("" if left == 1 else "s")
        self._print(f"askrl: training {remaining} from step {self.step}; progress and step metrics follow")
        if self.interactive:
            self._start_bar()
        self._thread = threading.Thread(target=self._loop, args=(poll_s,), name="askrl-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.poll()
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _loop(self, poll_s: float) -> None:
        while not self._stop.wait(poll_s):
            try:
                self.poll()
            except Exception as err:  # the display must never stop training
                self._print(f"askrl: progress display failed ({err!r}); training continues")
                return

    def poll(self) -> None:
        """Show what arrived since the last poll."""
        for row in self._metrics.read():
            if isinstance(row.get("step"), int) and isinstance(row.get("metrics"), dict):
                self._on_step(row["step"], row["metrics"])
        for entry in self._evals.read():
            self._print(eval_line(entry))

    def s_per_step(self) -> float | None:
        return sum(self._durations) / len(self._durations) if self._durations else None

    def _on_step(self, step: int, metrics: Mapping[str, Any]) -> None:
        self.step = step
        duration = pick(metrics, ("timing_s/step",))
        if duration is not None:
            self._durations.append(duration)
        if self._bar is not None:
            self._bar.update(self._task, completed=step, rate=self._rate_text(), eta=self._eta_text())
        else:
            self._print(progress_line(step, self.total, self.s_per_step()))
        self._print(metrics_line(step, metrics))

    def _rate_text(self) -> str:
        rate = self.s_per_step()
        return f"{rate:.1f} s/step" if rate is not None else "-- s/step"

    def _eta_text(self) -> str:
        rate = self.s_per_step()
        if rate is None or not self.total:
            return "--"
        return fmt_duration((self.total - self.step) * rate)

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(
            TextColumn("step"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[rate]}"),
            TextColumn("ETA {task.fields[eta]}"), console=Console(file=self.out), transient=False,
            redirect_stdout=False, redirect_stderr=False,  # sys.stdout/stderr (Ray's log monitor) stay on the log
        )
        self._task = self._bar.add_task("train", total=self.total, completed=self.step, rate="-- s/step", eta="--")
        self._bar.start()

    def _print(self, line: str) -> None:
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False)
        else:
            self.out.write(line + "\n")
            self.out.flush()

