"""The report's figures (matplotlib ``Figure`` objects, no pyplot state), one function per plot.

Every panel has a title, ``training step`` on x and a named y axis; a panel whose metric the run did not log says
so in the panel instead of disappearing, so each report has the same layout.

    fig = training_figure(load_run(run_dir)); fig.savefig("training.png")
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from askrl.report.logs import RunLogs

STEP_LABEL = "training step"
NO_DATA = "not logged by this run"

#: (panel title, y label, metric keys in order of preference) of the training curves.
TRAINING_PANELS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Episode reward", "mean episode reward", ("reward/episode/mean", "critic/score/mean")),
    ("Checklist coverage", "coverage", ("reward/checklist_coverage/mean",)),
    ("Final accuracy", "final-answer accuracy", ("reward/final_correct_rate",)),
    ("Ask rate", "episodes that ask", ("rollout/ask_rate",)),
    ("Turns per episode", "turns", ("rollout/num_turns/mean",)),
    ("Judge failures", "failed episodes per step", ("judge/failed_episodes",)),
    ("Judge latency", "seconds per episode", ("judge/latency_s/episode_mean",)),
)

#: The calibration suite's ask rates: (metric, legend label).
CALIBRATION_SERIES: tuple[tuple[str, str], ...] = (
    ("clear_ask_rate", "clear prompts"),
    ("underspecified_ask_rate", "underspecified prompts"),
    ("false_premise_ask_rate", "false-premise prompts"),
)
CALIBRATION_SUITE = "calibration"


def _line(ax: Axes, points: list[tuple[int, float]], label: str) -> None:
    steps, values = zip(*points, strict=True)
    ax.plot(steps, values, marker="o", markersize=3, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if min(steps) == max(steps):  # one evaluated checkpoint: a readable axis around it
        ax.set_xlim(steps[0] - 1, steps[0] + 1)


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, NO_DATA, ha="center", va="center", transform=ax.transAxes, color="gray")


def training_figure(logs: RunLogs) -> Figure:
    """Seven panels: episode reward, coverage, final accuracy, ask rate, turns, judge failures, judge latency."""
    fig = Figure(figsize=(14, 7.5), layout="constrained")
    axes = fig.subplots(2, 4).flatten()
    for ax, (title, ylabel, keys) in zip(axes, TRAINING_PANELS, strict=False):
        ax.set_title(title)
        ax.set_xlabel(STEP_LABEL)
        ax.set_ylabel(ylabel)
        found = logs.series(*keys)
        if found is None:
            _no_data(ax)
        else:
            _line(ax, found[1], found[0])
    axes[-1].set_visible(False)
    fig.suptitle(f"Training: {logs.run_dir.name}")
    return fig


def eval_figure(logs: RunLogs, suite: str) -> Figure:
    """One suite's metrics over the evaluated checkpoints (rates and scores on one axis); per-data-set breakdowns
    (``ask_mind_gpqade/acc``) stay out of the plot."""
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.set_title(f"Evaluation: {suite}")
    ax.set_xlabel(STEP_LABEL)
    ax.set_ylabel("metric value")
    metrics = {k: v for k, v in logs.evals.get(suite, {}).items() if "/" not in k}
    for name, points in sorted(metrics.items()):
        _line(ax, points, name)
    if metrics:
        ax.legend(fontsize="small", loc="best")
    else:
        _no_data(ax)
    return fig


def calibration_figure(logs: RunLogs) -> Figure:
    """Ask rate on clear vs underspecified vs false-premise prompts over steps (a calibrated policy asks little
    on clear prompts and much on the other two)."""
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.set_title("Ask calibration")
    ax.set_xlabel(STEP_LABEL)
    ax.set_ylabel("ask rate")
    ax.set_ylim(-0.05, 1.05)
    metrics = logs.evals.get(CALIBRATION_SUITE, {})
    drawn = 0
    for key, label in CALIBRATION_SERIES:
        if metrics.get(key):
            _line(ax, metrics[key], label)
            drawn += 1
    if drawn:
        ax.legend(loc="best")
    else:
        _no_data(ax)
    return fig
