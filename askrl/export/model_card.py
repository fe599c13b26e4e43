"""The exported model's ``README.md``: what it is, how it was trained, and how it scored at that step.

Why: an exported folder travels without its run directory; the card keeps what makes it comparable (base model,
recipe, steps, the reward fingerprint from ``askrl_provenance.json``) and the checkpoint's evaluation summary
(``<run dir>/eval/history.jsonl``), so a reader does not have to find the run to know what they serve.

    text = model_card(step=20, provenance={...}, evaluation=record_or_None, greedy={...}, eval_config=block_or_None)
"""

from __future__ import annotations

from typing import Any

from eval_hooks.checkpoint.history import EvalRecord
from eval_hooks.metrics import metric_order

DEMO_SOURCE = "askrl_demo"  # the ``source_task`` prefix of askrl's generated demo records (askrl/data/demo.py)


def _data_lines(eval_config: dict[str, Any] | None, suites: list[str]) -> list[str]:
    """Which data each suite read: generated demo records are named as such, never passed off as AskBench."""
    if not eval_config:
        return ["", "The data these numbers come from is not recorded (the evaluation's `summary.json` has no "
                "`config` block)."]
    lines = ["", "Data of each suite:", ""]
    for suite in suites:
        entry = eval_config.get("suites", {}).get(suite, {})
        files = ", ".join(f"`{f}`" for f in entry.get("files", [])) or "unknown files"
        hashes = ", ".join(f"{name} {digest}" for name, digest in entry.get("data", {}).items())
        demo = [src for src in entry.get("sources", []) if src.startswith(DEMO_SOURCE)]
        what = (f"**generated demo records** (`{', '.join(demo)}`, askrl's CPU stand-in), not AskBench: these numbers "
                "say the loop runs, not how the model does on the benchmark" if demo else "AskBench / the named files")
        lines.append(f"- {suite}: {what}; {files} (sha256 {hashes or 'n/a'}), limit {entry.get('limit')}")
    return lines


def _evaluation_section(record: EvalRecord | None, eval_config: dict[str, Any] | None) -> list[str]:
    if record is None:
        return ["No evaluation of this step is recorded in the run's `eval/history.jsonl`."]
    if record.status not in ("ok", "degraded"):
        return [f"The evaluation of this step is recorded as **{record.status}**: {record.error or 'no reason given'}."]
    metrics = metric_order(m for values in record.suites.values() for m in values if "/" not in m)
    lines = [f"Evaluated at step {record.global_step} ({record.backend} backend, {record.wall_s:.0f} s):", ""]
    if record.status == "degraded":
        lines += [f"**Degraded**: {record.error}.", ""]
    lines += ["| suite | " + " | ".join(metrics) + " |", "|---|" + "---|" * len(metrics)]
    for suite, values in record.suites.items():
        cells = [f"{values[m]:.4g}" if m in values else "" for m in metrics]
        lines.append(f"| {suite} | " + " | ".join(cells) + " |")
    return lines + _data_lines(eval_config, list(record.suites))


def model_card(*, step: int, provenance: dict[str, Any], evaluation: EvalRecord | None,
               greedy: dict[str, Any], eval_config: dict[str, Any] | None = None) -> str:
    """Markdown for ``README.md`` in the export folder."""
    base = provenance.get("model_path", "unknown")
    experiment = provenance.get("experiment") or "unknown"
    rows = [
        ("base model", base),
        ("recipe / experiment", f"{experiment} (project {provenance.get('project') or 'unknown'})"),
        ("task, mode", f"{provenance.get('task') or 'none'}, {provenance.get('mode') or 'n/a'}"),
        ("advantage estimator", provenance.get("adv_estimator", "unknown")),
        ("training steps", str(step)),
        ("reward table", provenance.get("reward_table", "n/a")),
        ("reward fingerprint", provenance.get("reward_fingerprint", "n/a")),
        ("judge", f"{provenance.get('judge_backend', 'n/a')}, prompts {provenance.get('judge_prompt_version', 'n/a')}"),
        ("askrl / VERL", f"{provenance.get('askrl_version', '?')} / {provenance.get('verl_version', '?')}"),
        ("git commit", provenance.get("git_commit") or "unknown"),
    ]
    lines = [
        f"# {experiment} at step {step}",
        "",
        f"A policy trained with askrl (VERL {provenance.get('verl_version', '?')}) from `{base}`, merged from the FSDP "
        "checkpoint into a plain Hugging Face folder (bf16 weights, tokenizer, chat template, generation config; LoRA "
        "adapters, if any, folded into the weights).",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | `{v}` |" for k, v in rows],
        "",
        "## Evaluation",
        "",
        *_evaluation_section(evaluation, eval_config),
        "",
        "## Check at export",
        "",
        f"Greedy answer to `{greedy['prompt']}` matched the actor checkpoint's token for token: `{greedy['text']}`.",
        "",
        "## Serve",
        "",
        "```bash",
        "vllm serve . --served-model-name default",
        "```",
        "",
    ]
    return "\n".join(lines)
