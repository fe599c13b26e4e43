"""Does askrl teach asking? Train SmolLM2 on CPU, evaluate before and after, against a shuffled-reward control.

What it runs: ``python -m askrl.train recipe=askmind_grpo`` on the CPU profile twice, from the same SmolLM2-135M-
Instruct, on the same generated task (``askrl.data.learning_task``: one-line questions with exactly one fact left
out, each next to its clear twin), graded by the offline lexical judge, which also plays the user:

- ``learning``: ``askrl_turn_grpo``, the estimator the recipes use;
- ``control``: ``askrl_shuffled_control``, the same update on returns shuffled within each GRPO group, so the
  update is as large but says nothing about which episode earned what.

Each run evaluates its policy before the first step (``askrl.eval.before_train``, step 0) and after the last one with
``eval_hooks``' calibration suite on held-out items (another seed): every item asked clearly, underspecified and
with a false premise, against the live rollout server. The table gives, per run, at step 0 and at the end, the
underspecified ask rate, the rate of underspecified dialogues that asked for the missing fact (checklist coverage
of the final answers' dialogues, as the evaluator counts ``all_required_points_resolved``) and the clear-twin ask
rate, each change with a paired 95 % bootstrap interval over items; a plot shows the reward per step of both runs
and the before/after bars.

Why these choices (2 cores; each run's wall time is printed):
- SmolLM2-135M-Instruct (Q4_1 weights, dequantised), full fine-tuning at lr 1e-5 with VERL's KL loss to the step-0
  policy (``use_kl_loss``, ``low_var_kl``, coefficient 0.1; ``--kl-coef 0`` drops it). Without the KL term, at lr
  2e-5, both arms drifted the same way within 8 steps, the shuffled-reward control as fast as the learning arm: the
  replies rambled to the token cap (turns cut by the cap 0.19 -> 1.00 in 12 steps, 0.19 -> 0.91 in the control's
  10), so the update itself, not the reward, moved the policy (not measured further; a likely reason: with 32
  episodes a step the gradient is mostly noise, and Adam's step on noise is as large as on a signal). At 1e-4 the
  first step wrecked the policy outright. The KL term is what a VERL user reaches for against drift; it needs the
  reference model, which the CPU platform supports (``askrl.cpu.platform``, unpinned offload).
- The task (``askrl.data.learning_task``): "What is x + 3?" with its clear twin "x = 5. What is x + 3?", both
  ending in the same hint (ask "What is x?" when x is not given, else answer in one short sentence). The hint says
  how to ask; the policy has to learn *when*. At step 0 the policy asks for x in about a fifth of the
  underspecified dialogues and asks something in about a third of the clear ones, so GRPO groups disagree.
- Two turns (a question, the user's reply, the final answer) of at most 48 tokens, no force-final text: about 90 %
  of SmolLM2's replies end before 48 tokens (about 60 % before 24); a truncated turn only draws the guard reward.
  The paper table's reward separates the behaviours: on an underspecified item asking for x earns ``all_hit``
  (+1) and then a final grade (+1 / -1), answering at once ``premature_answer`` (-2); on a clear twin the first
  turn is the final one, and asking there costs ``still_asking`` (-2) against ``wrong`` (-1) or ``correct`` (+1).
- 4 prompts x 8 episodes a step at rollout temperature 0.7 (the evaluator's candidate temperature), and VERL's
  ``algorithm.rollout_correction.bypass_mode`` (the rollout's log-probs serve as the old policy's: one PPO epoch
  on one mini-batch is on-policy, and it saves the recomputation, a fifth of a step on CPU).
- Memory (24 GiB): actor micro-batches of 4, Ray's object store capped at 2 GB, and glibc told to map tensors
  above 64 KiB (``MALLOC_MMAP_THRESHOLD_``), so that freed ones go back to the system: without it the actor grew to
  16 GB by step 3 and Ray's OOM killer stopped two runs at step 4; with it the node peaked at about 17 GB, and a
  step takes about 150-190 s instead of about 100 s.
- The prompt limit is the longest training prompt (``prompt_budget``): VERL drops longer rows.
- The lexical judge: offline and deterministic; any question that names x hits the checklist item, and the user
  answers it with the hidden sentence. The table ends with sample replies, so a reader sees what was counted.
- Evaluation: the calibration suite on 20 held-out items (another seed), 2 sampled dialogues each.

This is a small model on a small task, not the paper's result. Run it under the heavy lock (it starts Ray twice):

    flock /tmp/askrl-heavy.lock timeout 7500 .venv/bin/python scripts/bench_learning.py      # make learn (30-38 min a run)
    ... --arm learning / --arm control       # one run each (two lock holds); --table-only re-reads both

How it fails: ``EvalError`` naming the run and its log when a training run fails or passes its timeout (every
process of the run's session is killed either way). The last stdout line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from askrl.bench.trainer_modes import read_steps, run_bounded
from askrl.data.learning_task import learning_records, training_rows, write_eval_data
from askrl.errors import EvalError
from askrl.models.prepare import prepare
from askrl.train.preflight import prompt_lengths
from reward.advantages import SHUFFLED_CONTROL, TURN_GRPO

ARMS = {"learning": TURN_GRPO, "control": SHUFFLED_CONTROL}
#: (label, calibration kind, per-dialogue value) of the table's rows
ROWS = (
    ("underspecified: asked", "underspecified", lambda r: r["behavior_metrics"]["asked_any_question"]),
    ("underspecified: asked for the missing fact", "underspecified", lambda r: r["all_required_points_resolved"]),
    ("clear twin: asked", "clear", lambda r: r["behavior_metrics"]["asked_any_question"]),
)


def train_command(args: argparse.Namespace, *, estimator: str, train: Path, eval_dir: Path, run_dir: Path) -> list[str]:
    """``askrl.train`` for one run (see the module docstring for every value)."""
    return [
        sys.executable, "-m", "askrl.train", "recipe=askmind_grpo", "profile=cpu", "askrl.cpu_model=smollm2",
        "askrl.data.source=null", f"data.train_files={train}", f"data.val_files={train}",
        f"algorithm.adv_estimator={estimator}",
        "askrl.rollout.max_turns=2", f"askrl.cpu.max_tokens_per_turn={args.tokens_per_turn}",
        "+askrl.rollout.user_reply_max_tokens=16", "+askrl.rollout.force_final_text=''",
        f"actor_rollout_ref.rollout.temperature={args.temperature}", "algorithm.rollout_correction.bypass_mode=true",
        f"askrl.cpu.max_prompt_length={args.max_prompt_length}", f"askrl.cpu.max_response_length={2 * args.tokens_per_turn + 16}",
        f"askrl.cpu.total_training_steps={args.steps}", f"data.train_batch_size={args.prompts}",
        f"askrl.cpu.rollout_n={args.n}", f"actor_rollout_ref.actor.ppo_mini_batch_size={args.prompts}",
        f"actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu={min(4, args.prompts * args.n)}",
        f"actor_rollout_ref.actor.optim.lr={args.lr}", f"data.seed={args.seed}",
        *([] if args.kl_coef <= 0 else [
            "actor_rollout_ref.actor.use_kl_loss=true", "actor_rollout_ref.actor.kl_loss_type=low_var_kl",
            f"actor_rollout_ref.actor.kl_loss_coef={args.kl_coef}"]),
        f"askrl.cpu.eval_suites=[{{name:calibration,limit:{args.eval_items}}}]", f"askrl.eval.data_dir={eval_dir}",
        "askrl.eval.before_train=true", "askrl.eval.max_turns=2", f"askrl.eval.attempts={args.eval_attempts}",
        f"askrl.eval.max_tokens={args.tokens_per_turn}",
        f"trainer.save_freq={args.steps}", "trainer.logger=[console]", f"trainer.default_local_dir={run_dir}",
        # Ray's object store defaults to 30 % of RAM; the weight syncs (0.5 GB each) need a fraction of it, and the
        # rest competes with the trainer for the 24 GiB of this machine (Ray's OOM killer stopped runs at step 2).
        "+ray_kwargs.ray_init.object_store_memory=2000000000", "askrl.eval.concurrency=32",
    ]  # fmt: skip


def prompt_budget(rows: Sequence[dict[str, Any]], model_dir: Path) -> int:
    """The longest training prompt in the policy's tokens (chat template and system prompt included), rounded up
    to a multiple of 8: VERL drops every row above ``data.max_prompt_length`` (``filter_overlong_prompts``), and at
    a fixed 64 it dropped every clear twin (65-66 tokens, 5 more than their underspecified items), so the policy
    trained on underspecified items alone and learned to ask everywhere."""
    longest = max(prompt_lengths([r["prompt"] for r in rows], model_path=model_dir))
    return -(-longest // 8) * 8


def dialogues(run_dir: Path, step: int) -> list[dict[str, Any]]:
    """The calibration suite's valid per-dialogue records of the evaluation of ``step``."""
    path = run_dir / "eval" / f"global_step_{step}" / "calibration" / "results.jsonl"
    if not path.is_file():
        raise EvalError(f"{path}: no evaluation results for step {step} (see {run_dir / 'logs'})")
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if r.get("status") == "ok"]


def paired_change(before: dict[str, float], after: dict[str, float], *, reps: int = 2000,
                  seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``after - before`` over the items both have, and its 95 % percentile bootstrap interval over items."""
    items = sorted(before.keys() & after.keys())
    diffs = [after[i] - before[i] for i in items]
    if not diffs:
        return float("nan"), float("nan"), float("nan")
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(diffs, k=len(diffs))) / len(diffs) for _ in range(reps))
    return sum(diffs) / len(diffs), means[int(0.025 * reps)], means[int(0.975 * reps) - 1]


def by_item(records: Sequence[dict[str, Any]], kind: str, value: Any) -> dict[str, float]:
    """Per item (mean over its attempts) of ``value`` on the dialogues of ``kind``."""
    sums: dict[str, list[float]] = {}
    for r in records:
        if r["kind"] == kind:
            sums.setdefault(r["id"], []).append(float(bool(value(r))))
    return {item: sum(v) / len(v) for item, v in sums.items()}


def first_replies(records: Sequence[dict[str, Any]], per_kind: int = 3) -> dict[str, list[str]]:
    """The policy's first reply in the first ``per_kind`` dialogues of each kind: what the numbers count."""
    out: dict[str, list[str]] = {}
    for r in records:
        replies = out.setdefault(r["kind"], [])
        turns = [m["content"] for m in r["conversation_history"] if m["role"] == "assistant"]
        if turns and len(replies) < per_kind:
            replies.append(" ".join(turns[0].split()))
    return out


def arm_summary(arm: str, run_dir: Path, steps: int, wall_s: float) -> dict[str, Any]:
    before, after = dialogues(run_dir, 0), dialogues(run_dir, steps)
    rows = []
    for label, kind, value in ROWS:
        b, a = by_item(before, kind, value), by_item(after, kind, value)
        change, low, high = paired_change(b, a)
        rows.append({"metric": label, "n": len(b.keys() & a.keys()), "step_0": sum(b.values()) / max(len(b), 1),
                     "end": sum(a.values()) / max(len(a), 1), "change": change, "ci95": [low, high],
                     "significant": bool(low > 0 or high < 0)})
    metrics = read_steps(run_dir)
    samples = {when: first_replies(records) for when, records in (("step_0", before), ("end", after))}
    return {"arm": arm, "samples": samples, "estimator": ARMS[arm], "steps": steps, "wall_s": round(wall_s, 1),
            "rows": rows,
            "reward_per_step": [m.get("reward/episode/mean") for m in metrics],
            "s_per_step": [m.get("timing_s/step") for m in metrics]}


def run_arm(args: argparse.Namespace, arm: str, train: Path, eval_dir: Path) -> dict[str, Any]:
    run_dir = args.out / arm
    if run_dir.exists():
        raise EvalError(f"{run_dir} exists: remove it or pass another --out (a training run would resume it)")
    run_dir.mkdir(parents=True)
    cmd = train_command(args, estimator=ARMS[arm], train=train, eval_dir=eval_dir, run_dir=run_dir)
    log = args.out / f"{arm}.log"
    print(f"bench_learning: {arm} run ({ARMS[arm]}, {args.steps} steps); log {log}", flush=True)
    code, wall_s = run_bounded(cmd, log=log, timeout_s=args.timeout_s)
    if code != 0:
        raise EvalError(f"{arm} run exited {code} after {wall_s:.0f}s (timeout {args.timeout_s:.0f}s); see {log}")
    (args.out / f"{arm}.wall_s").write_text(f"{wall_s:.1f}\n")
    return arm_summary(arm, run_dir, args.steps, wall_s)


def _wall_s(log: Path) -> float:
    """A finished run's wall seconds (``<arm>.wall_s`` beside its log), NaN when unknown."""
    path = log.with_suffix(".wall_s")
    return float(path.read_text()) if path.is_file() else float("nan")


def table(summaries: Sequence[dict[str, Any]]) -> str:
    lines = ["| run | metric | items | step 0 | end | change [95% CI] |", "|---|---|---:|---:|---:|---|"]
    for s in summaries:
        for r in s["rows"]:
            low, high = r["ci95"]
            mark = " *" if r["significant"] else ""
            lines.append(f"| {s['arm']} ({s['steps']} steps, {s['wall_s']:.0f} s) | {r['metric']} | {r['n']} | "
                         f"{r['step_0']:.2f} | {r['end']:.2f} | {r['change']:+.2f} [{low:+.2f}, {high:+.2f}]{mark} |")
    for s in summaries:
        rewards = ", ".join("-" if v is None else f"{v:+.2f}" for v in s["reward_per_step"])
        lines.append(f"\n{s['arm']}: episode reward per step {rewards}")
        for when, kinds in s["samples"].items():
            for kind in ("underspecified", "clear"):
                for reply in kinds.get(kind, []):
                    lines.append(f"  {when:>6} {kind:>14}: {reply[:110]!r}")
    return "\n".join(lines)


def plot(summaries: Sequence[dict[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (curve, bars) = plt.subplots(1, 2, figsize=(11, 4))
    for s in summaries:
        curve.plot(range(1, len(s["reward_per_step"]) + 1), s["reward_per_step"], marker="o",
                   label=f"{s['arm']} ({s['estimator']})")
    curve.set(xlabel="training step", ylabel="mean episode reward", title="reward per step")
    curve.legend()
    width = 0.8 / (2 * len(summaries))
    for k, s in enumerate(summaries):
        for j, when in enumerate(("step_0", "end")):
            xs = [i + (2 * k + j) * width for i in range(len(s["rows"]))]
            bars.bar(xs, [r[when] for r in s["rows"]], width, label=f"{s['arm']} {when.replace('_', ' ')}")
    bars.set_xticks([i + 0.4 - width / 2 for i in range(len(ROWS))], [label for label, _, _ in ROWS], fontsize=7)
    bars.set(ylabel="rate on held-out items", title="before and after training", ylim=(0, 1))
    bars.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/bench_learning"))
    parser.add_argument("--arm", choices=[*ARMS, "both"], default="both")
    parser.add_argument("--table-only", action="store_true", help="re-read the finished runs under --out; train nothing")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--prompts", type=int, default=4, help="prompts per step")
    parser.add_argument("--n", type=int, default=8, help="episodes per prompt (the GRPO group)")
    parser.add_argument("--lr", type=float, default=1e-5)
    parser.add_argument("--kl-coef", type=float, default=0.1, help="KL loss to the step-0 policy (0: none)")
    parser.add_argument("--temperature", type=float, default=0.7, help="rollout sampling temperature")
    parser.add_argument("--tokens-per-turn", type=int, default=48)
    parser.add_argument("--train-items", type=int, default=32)
    parser.add_argument("--eval-items", type=int, default=20)
    parser.add_argument("--eval-attempts", type=int, default=2, help="sampled dialogues per held-out item")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout-s", type=float, default=3600.0, help="per run (one measured 2219 s)")
    args = parser.parse_args(argv)
    args.out = args.out.absolute()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # glibc keeps the trainer's freed tensors in its heap (the actor grew to 16 GB, and Ray's OOM killer stopped
    # two runs at step 4): tensors above 64 KiB are mapped and unmapped, so freeing one returns it to the system.
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", "65536")
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    if not args.table_only:
        train = args.out / "train.parquet"
        rows = training_rows(learning_records(args.train_items, seed=args.seed))
        args.max_prompt_length = prompt_budget(rows, prepare("smollm2"))
        pd.DataFrame(rows).to_parquet(train)
        eval_dir = write_eval_data(learning_records(args.eval_items, seed=args.seed + 1), args.out / "eval_data")
        for arm in ARMS if args.arm == "both" else [args.arm]:
            run_arm(args, arm, train, eval_dir)
    summaries = [arm_summary(arm, args.out / arm, args.steps, _wall_s(args.out / f"{arm}.log")) for arm in ARMS
                 if (args.out / arm / "eval" / f"global_step_{args.steps}").is_dir()]
    print(table(summaries))
    figure = plot(summaries, args.out / "learning.png")
    load = os.getloadavg()
    print(json.dumps({"wall_s": round(time.monotonic() - started, 1), "load_avg": [round(x, 2) for x in load],
                      "plot": str(figure), "runs": summaries}))


if __name__ == "__main__":
    main()
