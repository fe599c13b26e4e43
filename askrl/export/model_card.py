"""The exported model's ``README.md``: what it is, how it was trained, and how it scored at that step.

Why: an exported folder travels without its run directory; the card keeps what makes it comparable (base model,
recipe, steps, the reward fingerprint from ``askrl_provenance.json``) and the checkpoint's evaluation summary
(``<run dir>/eval/history.jsonl``), so a reader does not have to find the run to know what they serve.

    text = model_card(step=20, provenance={...}, evaluation=record_or_None, greedy={...})
"""

from __future__ import annotations

from typing import Any

from eval_hooks.history import EvalRecord

_HEADLINE = ("acc", "cov", "unq", "ask_rate", "premature_rate", "composite", "clear_ask_rate",
             "underspecified_ask_rate", "false_premise_ask_rate", "premise_correction_rate", "n")


def _evaluation_section(record: EvalRecord | None) -> list[str]:
    if record is None:
        return ["No evaluation of this step is recorded in the run's `eval/history.jsonl`."]
    if record.status != "ok":
        return [f"The evaluation of this step is recorded as **{record.status}**: {record.error or 'no reason given'}."]
    metrics = sorted({m for values in record.suites.values() for m in values},
                     key=lambda m: (_HEADLINE.index(m) if m in _HEADLINE else len(_HEADLINE), m))
    lines = [f"Evaluated at step {record.global_step} ({record.backend} backend, {record.wall_s:.0f} s):", "",
             "| suite | " + " | ".join(metrics) + " |", "|---|" + "---|" * len(metrics)]
    for suite, values in record.suites.items():
        cells = [f"{values[m]:.4g}" if m in values else "" for m in metrics]
        lines.append(f"| {suite} | " + " | ".join(cells) + " |")
    return lines


def model_card(*, step: int, provenance: dict[str, Any], evaluation: EvalRecord | None,
               greedy: dict[str, Any]) -> str:
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
        *_evaluation_section(evaluation),
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
