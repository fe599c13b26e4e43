"""Suite metrics from sample records, exactly as spec §2.7 (AskBench), §2.8 (IN3) and §3 (QA), plus calibration.

Denominators: ``valid`` = records with ``status == "ok"``; ``judge_failed`` and ``candidate_failed`` records are
counted, never scored (the original counted candidate failures as wrong answers). Every value is a float, every
summary has ``n`` (valid samples), ``judge_failed`` and ``candidate_failed``.

AskBench (``askbench_metrics``): ``acc`` = correct / valid; ``cov`` = finals with every checklist item resolved /
finals (0 without finals); ``premature_rate`` = 1 - cov (0 without finals); ``unq`` = valid with a redundant
question / valid; ``ask_rate`` = valid that asked / valid; ``composite`` = 0.5 acc + 0.3 cov + 0.2 (1 - unq);
``outcome/<reason>`` = share of each reason over all records; ``<source>/<metric>`` per source subset.
IN3 adds ``vague_ask_rate`` (vague tasks where it asked) and ``clear_direct_rate`` (clear tasks answered
without a question). Calibration: per kind (clear / underspecified / false_premise) the ask rate and accuracy,
``premise_correction_rate`` (false-premise dialogues whose final state has every claim corrected) and
``questions_per_dialogue`` (clarifying turns per valid dialogue).

    askbench_metrics(records)  # {"acc": 0.5, "cov": ..., "n": 4.0, ...}
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

CALIBRATION_KINDS = ("clear", "underspecified", "false_premise")

#: Headline metrics in the paper's order (AskBench Acc./Cov./Unq., then the behaviour rates, IN3's Ask/Dir., the
#: calibration rates, QA accuracy): the row order of ``eval_hooks.compare`` and the model card.
PAPER_ORDER = (
    "acc", "cov", "unq", "ask_rate", "premature_rate", "composite", "vague_ask_rate", "clear_direct_rate",
    *(f"{kind}_ask_rate" for kind in CALIBRATION_KINDS), *(f"{kind}_acc" for kind in CALIBRATION_KINDS),
    "premise_correction_rate", "questions_per_dialogue",
)  # fmt: skip
#: Every summary's sample counts (integers in ``summary.json``).
COUNT_KEYS = ("n", "judge_failed", "candidate_failed")
_OTHER_COUNTS = frozenset({"redundant_question_events", "wall_s"})


def is_count_key(key: str) -> bool:
    """``n``, ``clear_n``, ``ask_mind_gpqade/n``, ``judge_failed``, ``graded_by/judge``, ``wall_s``: counts and
    timings of the evaluation itself, shown as integers (or seconds), never as rates or curves."""
    leaf = key.rsplit("/", 1)[-1]
    return leaf in COUNT_KEYS or leaf in _OTHER_COUNTS or leaf.endswith("_n") or key.startswith("graded_by/")


def is_rate(key: str) -> bool:
    """Whether a suite metric is a share in [0, 1]: everything but counts, timings and questions per dialogue."""
    return not is_count_key(key) and key.rsplit("/", 1)[-1] != "questions_per_dialogue"


def metric_order(keys: Iterable[str]) -> list[str]:
    """``keys`` in the paper's order: headline metrics, then other metrics by name, then counts."""
    keys = list(dict.fromkeys(keys))
    headline = [k for k in PAPER_ORDER if k in keys]
    rest = sorted(k for k in keys if k not in PAPER_ORDER and not is_count_key(k))
    counts_ = [k for k in COUNT_KEYS if k in keys] + sorted(k for k in keys if is_count_key(k) and k not in COUNT_KEYS)
    return headline + rest + counts_


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def _clamp(x: float) -> float:
    return min(max(x, 0.0), 1.0)


def counts(records: list[dict[str, Any]]) -> dict[str, float]:
    status = Counter(r["status"] for r in records)
    return {
        "n": float(status["ok"]),
        "judge_failed": float(status["judge_failed"]),
        "candidate_failed": float(status["candidate_failed"]),
    }


def _core(records: list[dict[str, Any]]) -> dict[str, float]:
    valid = [r for r in records if r["status"] == "ok"]
    finals = [r for r in valid if r["is_final_answer"]]
    acc = _ratio(sum(1 for r in valid if r["correct"]), len(valid))
    cov = _ratio(sum(1 for r in finals if r["all_required_points_resolved"]), len(finals))
    unq = _ratio(sum(1 for r in valid if r["behavior_metrics"]["redundant_question_events"] > 0), len(valid))
    ask = _ratio(sum(1 for r in valid if r["behavior_metrics"]["asked_any_question"]), len(valid))
    return {
        "acc": acc,
        "cov": cov,
        "premature_rate": 1.0 - cov if finals else 0.0,
        "unq": unq,
        "ask_rate": ask,
        "composite": 0.5 * _clamp(acc) + 0.3 * _clamp(cov) + 0.2 * (1.0 - _clamp(unq)),
        "redundant_question_events": float(sum(r["behavior_metrics"]["redundant_question_events"] for r in valid)),
    }


def askbench_metrics(records: Iterable[dict[str, Any]]) -> dict[str, float]:
    records = list(records)
    out = {**_core(records), **counts(records)}
    reasons = Counter(str(r["reason"]) for r in records)
    out.update({f"outcome/{reason}": _ratio(c, len(records)) for reason, c in sorted(reasons.items())})
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r.get("source"):
            by_source[r["source"]].append(r)
    if len(by_source) > 1:
        for source, group in sorted(by_source.items()):
            core = _core(group)
            for key in ("acc", "cov", "unq", "ask_rate"):
                out[f"{source}/{key}"] = core[key]
            out[f"{source}/n"] = counts(group)["n"]
    return out


def in3_metrics(records: Iterable[dict[str, Any]]) -> dict[str, float]:
    records = list(records)
    valid = [r for r in records if r["status"] == "ok"]
    vague = [r for r in valid if r.get("vague")]
    clear = [r for r in valid if not r.get("vague")]
    core = _core(records)
    return {
        "vague_ask_rate": _ratio(sum(1 for r in vague if r["behavior_metrics"]["asked_any_question"]), len(vague)),
        "clear_direct_rate": _ratio(
            sum(1 for r in clear if not r["behavior_metrics"]["asked_any_question"]), len(clear)
        ),
        **{k: core[k] for k in ("cov", "premature_rate", "unq", "ask_rate")},
        **counts(records),
    }


def calibration_table(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """``{kind: {"asked": k, "answered_directly": m}}`` over the valid dialogues of each kind."""
    table = {kind: {"asked": 0, "answered_directly": 0} for kind in CALIBRATION_KINDS}
    for r in records:
        if r["status"] == "ok":
            asked = r["behavior_metrics"]["asked_any_question"]
            table[r["kind"]]["asked" if asked else "answered_directly"] += 1
    return table


def calibration_metrics(records: Iterable[dict[str, Any]]) -> dict[str, float]:
    records = list(records)
    valid = [r for r in records if r["status"] == "ok"]
    out: dict[str, float] = {}
    for kind in CALIBRATION_KINDS:
        group = [r for r in valid if r["kind"] == kind]
        out[f"{kind}_ask_rate"] = _ratio(sum(1 for r in group if r["behavior_metrics"]["asked_any_question"]), len(group))
        out[f"{kind}_acc"] = _ratio(sum(1 for r in group if r["correct"]), len(group))
        out[f"{kind}_n"] = float(len(group))
    premise = [r for r in valid if r["kind"] == "false_premise"]
    out["premise_correction_rate"] = _ratio(sum(1 for r in premise if r["all_required_points_resolved"]), len(premise))
    out["questions_per_dialogue"] = _ratio(sum(r["behavior_metrics"]["questions_asked"] for r in valid), len(valid))
    out.update(counts(records))
    return out


def qa_metrics(records: Iterable[dict[str, Any]]) -> dict[str, float]:
    """``acc`` = mean score over valid samples (1/0 for graded answers, the clipped rubric score for HealthBench)."""
    records = list(records)
    valid = [r for r in records if r["status"] == "ok"]
    out = {"acc": _ratio(sum(float(r["score"]) for r in valid), len(valid)), **counts(records)}
    graded_by = Counter(r.get("graded_by") for r in valid if r.get("graded_by"))
    out.update({f"graded_by/{k}": float(v) for k, v in sorted(graded_by.items())})
    return out
