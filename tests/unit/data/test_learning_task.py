"""The learning benchmark's generated task: one missing fact per item, clear twins, rows the checks accept."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from askrl.data.learning_task import HINT, learning_records, training_rows, write_eval_data
from askrl.data.loading import DataValidationError, load_records
from askrl.data.row_checks import check_rows
from askrl.judge import text_cues as cues
from askrl.judge.lexical import LexicalJudge, distinctive_tokens
from askrl.judge.types import JudgeRequest, Turn
from eval_hooks.suites import SUITES, build_samples


def test_items_differ_from_their_clear_twin_in_the_one_hidden_fact_only() -> None:
    records = learning_records(16, seed=0)
    assert learning_records(16, seed=0) == records and learning_records(16, seed=1) != records
    for r in records:
        assert r.ori_question == f"{r.degraded_info} {r.degraded_question}" and r.degraded_question.endswith(HINT)
        assert r.expected_answer not in r.degraded_question.split()  # not answerable without the fact
        # the question the hint names hits the checklist item lexically; an answer that asks nothing does not
        (wanted,) = distinctive_tokens(tuple(r.required_points))
        assert len(wanted & cues.content_tokens("What is x?")) / len(wanted) >= 0.5, r.required_points
        assert cues.asking_sentences("What is x?") and not cues.asking_sentences(f"x is {r.expected_answer}.")


def test_training_rows_interleave_items_and_clear_twins_and_pass_the_row_checks(tmp_path: Path) -> None:
    rows = training_rows(learning_records(4, seed=0))
    assert [bool(r["extra_info"].get("clear")) for r in rows] == [False, True] * 4
    clear = rows[1]
    assert clear["extra_info"]["checklist"] == [] and clear["extra_info"]["hidden_info"] == ""
    assert clear["prompt"][0]["content"] == clear["extra_info"]["ori_question"]
    path = tmp_path / "train.parquet"
    pd.DataFrame(rows).to_parquet(path)
    assert check_rows(path) == 8
    # an empty checklist is refused on a row not marked clear
    rows[1]["extra_info"] = {**rows[1]["extra_info"], "clear": False}
    pd.DataFrame(rows).to_parquet(path)
    try:
        check_rows(path)
    except DataValidationError as err:
        assert "train.parquet:2: field 'extra_info.checklist'" in str(err)
    else:
        raise AssertionError("an unmarked row with an empty checklist passed")


def test_eval_data_gives_the_calibration_suite_three_dialogues_per_item(tmp_path: Path) -> None:
    records = learning_records(5, seed=1)
    root = write_eval_data(records, tmp_path)
    assert len(load_records(root / "ask_bench/ask_overconfidence/test.jsonl").records) == 5
    samples = build_samples(SUITES["calibration"], data_dir=root, limit=5, attempts=1, seed=0)
    assert [s.kind for s in samples[:3]] == ["clear", "underspecified", "false_premise"] and len(samples) == 15


def test_the_lexical_user_answers_what_is_x_with_the_hidden_fact() -> None:
    """The benchmark's reward depends on it: the question the hint names is answered with ``x = a.``."""
    judge = LexicalJudge(prompt_version="v3")
    for r in learning_records(24, seed=0):
        request = JudgeRequest(task="askmind", ori_question=r.ori_question, hidden_info=r.degraded_info,
                               checklist=tuple(r.required_points), expected_answer=r.expected_answer,
                               history=(Turn("user", r.degraded_question),), response="What is x?")
        reply = judge.user_reply(request)
        assert reply.reply.strip() == r.degraded_info and reply.supplied == [True], (r.degraded_question, reply)
        assert judge.turn_verdict(request).hits == [True]
