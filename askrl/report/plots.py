"""The report's figures (matplotlib ``Figure`` objects, no pyplot state), one function per plot.

Rules every figure follows, so a reader compares runs by eye:
- a rate or share is drawn on a fixed [0, 1] axis (a constant 0 is a line on the floor, a 2-point change stays
  small); counts start at 0 on their own axis (integer ticks); scores and seconds are the only autoscaled axes;
- one evaluated checkpoint is a labelled bar chart (a value per metric), several are curves over training steps;
- a plot with nothing to draw is not made (``None``): the caller writes and links only real plots. Training panels
  whose metric the run did not log are left out of the grid (the report's table says "not logged").

Each training metric declares, once, beside its keys: its scale and which direction is better (``max``, ``min``
or ``None`` where neither is: the ask rate is right high on underspecified prompts and low on clear ones). The
report's "best (step)" follows that direction.

    fig = training_figure(load_run(run_dir)); fig.savefig("training.png")
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from askrl.report.logs import RunLogs
from eval_hooks.metrics import is_rate, metric_order

STEP_LABEL = "training step"
Scale = Literal["rate", "count", "seconds", "score"]
Direction = Literal["max", "min"] | None


@dataclass(frozen=True)
class Panel:
    """One training metric: panel title, y label, keys in order of preference, scale, better direction."""

    title: str
    ylabel: str
    keys: tuple[str, ...]
    scale: Scale
    better: Direction


TRAINING_PANELS: tuple[Panel, ...] = (
    Panel("Episode reward", "mean episode reward", ("reward/episode/mean", "critic/score/mean"), "score", "max"),
    Panel("Checklist coverage", "coverage", ("reward/checklist_coverage/mean",), "rate", "max"),
    Panel("Final accuracy", "final-answer accuracy", ("reward/final_correct_rate",), "rate", "max"),
    Panel("Ask rate", "episodes that ask", ("rollout/ask_rate",), "rate", None),
    Panel("Turns per episode", "turns", ("rollout/num_turns/mean",), "count", "min"),
    Panel("Judge failures", "failed episodes per step", ("judge/failed_episodes",), "count", "min"),
    Panel("Judge latency", "seconds per episode", ("judge/latency_s/episode_mean",), "seconds", "min"),
)

#: The calibration suite's ask rates: (metric, legend label).
CALIBRATION_SERIES: tuple[tuple[str, str], ...] = (
    ("clear_ask_rate", "clear prompts"),
    ("underspecified_ask_rate", "underspecified prompts"),
    ("false_premise_ask_rate", "false-premise prompts"),
)
#: The evaluation's sample counts per checkpoint (stacked bars): (metric, legend label).
SAMPLE_SERIES: tuple[tuple[str, str], ...] = (
    ("n", "valid"), ("judge_failed", "judge failed"), ("candidate_failed", "candidate failed"),
)
RATE_LIMITS = (-0.02, 1.02)  # [0, 1] with room for a line on 0 or 1


def best_point(points: list[tuple[int, float]], better: Direction) -> tuple[int, float] | None:
    """The step and value of the best point in the panel's direction (the earliest on ties); None without one."""
    if better is None or not points:
        return None
    sign = 1.0 if better == "max" else -1.0
    return max(points, key=lambda p: (sign * p[1], -p[0]))


def _scale(ax: Axes, scale: Scale, values: list[float]) -> None:
    if scale == "rate":
        ax.set_ylim(*RATE_LIMITS)
    elif scale in ("count", "seconds"):
        top = max(values, default=0.0) * 1.15 or 1.0
        ax.set_ylim(-0.03 * top, top)  # from 0, with room for a line on 0 above the frame
        if scale == "count":
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _line(ax: Axes, points: list[tuple[int, float]], label: str) -> None:
    steps, values = zip(*points, strict=True)
    ax.plot(steps, values, marker="o", markersize=3, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if min(steps) == max(steps):
        ax.set_xlim(steps[0] - 1, steps[0] + 1)


def training_figure(logs: RunLogs) -> Figure | None:
    """One panel per training metric the run logged; None when it logged none of them."""
    found = [(panel, series) for panel in TRAINING_PANELS if (series := logs.series(*panel.keys)) is not None]
    if not found:
        return None
    cols = min(4, len(found))
    rows = math.ceil(len(found) / cols)
    fig = Figure(figsize=(3.5 * cols, 3.75 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).flatten()
    for ax, (panel, (key, points)) in zip(axes, found, strict=False):
        ax.set_title(panel.title)
        ax.set_xlabel(STEP_LABEL)
        ax.set_ylabel(panel.ylabel)
        _line(ax, points, key)
        _scale(ax, panel.scale, [v for _, v in points])
    for ax in axes[len(found):]:
        ax.set_visible(False)
    fig.suptitle(f"Training: {logs.run_dir.name}")
    return fig


def _bars(ax: Axes, values: dict[str, float], scale: Scale) -> None:
    """A labelled horizontal bar per metric (one evaluated checkpoint); rates on the [0, 1] axis."""
    names = list(values)[::-1]  # first metric on top
    bars = ax.barh(names, [values[n] for n in names], color="tab:blue" if scale == "rate" else "tab:gray")
    ax.bar_label(bars, labels=[f"{values[n]:.3f}" for n in names], padding=3)
    ax.set_xlim(0, 1.12 if scale == "rate" else max([*values.values(), 0.0]) * 1.2 or 1.0)
    ax.set_xlabel("rate (0 to 1)" if scale == "rate" else "value")


def _metric_panel(ax: Axes, suite: str, group: dict[str, list[tuple[int, float]]], scale: Scale,
                  steps: list[int]) -> None:
    what = "rates" if scale == "rate" else "other metrics"
    if len(steps) == 1:
        _bars(ax, {name: points[-1][1] for name, points in group.items()}, scale)
        ax.set_title(f"{suite}: {what} at step {steps[0]}")
        return
    for name, points in group.items():
        _line(ax, points, name)
    ax.set_title(f"{suite}: {what}")
    ax.set_xlabel(STEP_LABEL)
    ax.set_ylabel("rate" if scale == "rate" else "value")
    _scale(ax, scale, [])
    ax.legend(fontsize="small", loc="best")


def _samples(ax: Axes, counts: dict[int, dict[str, float]]) -> None:
    """Valid and failed samples per evaluated checkpoint, stacked, on their own count axis."""
    steps = sorted(counts)
    labels = [str(s) for s in steps]
    bottom = [0.0] * len(steps)
    for key, label in SAMPLE_SERIES:
        heights = [counts[s].get(key, 0.0) for s in steps]
        if any(heights) or key == "n":
            bars = ax.bar(labels, heights, bottom=bottom, label=label, width=0.6)
            ax.bar_label(bars, labels=[f"{int(h)}" if h else "" for h in heights], label_type="center")
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_title("Samples")
    ax.set_xlabel(STEP_LABEL)
    ax.set_ylabel("samples")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(bottom, default=0.0) * 1.15 or 1.0)
    ax.legend(fontsize="small", loc="lower right")


def eval_figure(logs: RunLogs, suite: str) -> Figure | None:
    """One suite: its rates over the evaluated checkpoints (bars for a single one) on [0, 1], other metrics on
    their own axis, and the samples per checkpoint; per-data-set breakdowns (``ask_mind_gpqade/acc``) stay out.
    None when the suite has no metric to draw."""
    suite_metrics = logs.evals.get(suite, {})
    metrics = {k: suite_metrics[k] for k in metric_order(suite_metrics) if "/" not in k}
    if not metrics:
        return None
    panels: list[tuple[Scale, dict[str, list[tuple[int, float]]]]] = [
        (scale, group) for scale, group in (("rate", {k: v for k, v in metrics.items() if is_rate(k)}),
                                            ("score", {k: v for k, v in metrics.items() if not is_rate(k)})) if group
    ]  # fmt: skip
    counts = logs.eval_counts.get(suite)
    steps = sorted({s for points in metrics.values() for s, _ in points})
    widths = [3.0] * len(panels) + ([1.0 + 0.4 * len(counts)] if counts else [])
    fig = Figure(figsize=(1.9 * sum(widths), 4.5), layout="constrained")
    axes = fig.subplots(1, len(widths), squeeze=False, width_ratios=widths)[0]
    for ax, (scale, group) in zip(axes, panels, strict=False):
        _metric_panel(ax, suite, group, scale, steps)
    if counts:
        _samples(axes[-1], counts)
    fig.suptitle(f"Evaluation: {suite}")
    return fig


def calibration_suites(logs: RunLogs) -> list[str]:
    """Suites whose results hold calibration items (an ask rate per prompt kind)."""
    keys = {key for key, _ in CALIBRATION_SERIES}
    return [suite for suite, metrics in sorted(logs.evals.items()) if keys & set(metrics)]


def calibration_figure(logs: RunLogs, suite: str = "calibration") -> Figure | None:
    """Ask rate on clear vs underspecified vs false-premise prompts (a calibrated policy asks little on clear
    prompts and much on the other two): curves over steps, or bars for one evaluated checkpoint. None without
    calibration results."""
    metrics = logs.evals.get(suite, {})
    series = [(key, label, metrics[key]) for key, label in CALIBRATION_SERIES if metrics.get(key)]
    if not series:
        return None
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    steps = sorted({s for _, _, points in series for s, _ in points})
    if len(steps) == 1:
        names = [label for _, label, _ in series]
        values = [points[-1][1] for _, _, points in series]
        bars = ax.bar(names, values, color=["tab:green", "tab:orange", "tab:red"][: len(names)])
        ax.bar_label(bars, labels=[f"{v:.3f}" for v in values])
        ax.set_xlabel(f"prompt kind (step {steps[0]})")
    else:
        for _, label, points in series:
            _line(ax, points, label)
        ax.set_xlabel(STEP_LABEL)
        ax.legend(loc="best")
    ax.set_title(f"Ask calibration ({suite})")
    ax.set_ylabel("ask rate")
    ax.set_ylim(*RATE_LIMITS)
    return fig
