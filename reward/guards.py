"""Cheap checks made before any judge call: a turn that trips one gets the table's fixed penalty and no call.

Who calls it: ``reward.scoring.score_turn`` only. Pure string logic; imports nothing from the judge.

Contract, in this order (the first that applies wins):
- ``empty``: the raw response is empty or whitespace;
- ``truncated``: the caller says generation stopped at the token limit (finish reason ``length``);
- ``think_only``: nothing but whitespace outside the think block, or a think block that was never closed;
- ``no_checklist``: a non-final turn of a sample with an empty checklist (nothing to grade it against).
``visible_text`` is what the judge sees of a turn that passes: the text after the last closing think tag
(the whole response when it has no think tags), stripped.

How it fails: never raises on any string; it only classifies.

    visible_text("<think>hmm</think> Which radius?", "<think>", "</think>")      # "Which radius?"
    check_guards("<think>only thoughts", truncated=False, is_final_turn=False, checklist_len=3,
                 think_open="<think>", think_close="</think>")                  # "think_only"
"""

from __future__ import annotations

from reward.table import GuardKind


def visible_text(response: str, think_open: str, think_close: str) -> str:
    """The part of ``response`` outside the reasoning block, stripped ("" when the block never closes)."""
    if think_close in response:
        return response.rsplit(think_close, 1)[1].strip()
    if think_open in response:
        return ""  # opened, never closed: everything after the tag is reasoning
    return response.strip()


def check_guards(
    response: str,
    *,
    truncated: bool,
    is_final_turn: bool,
    checklist_len: int,
    think_open: str,
    think_close: str,
) -> GuardKind | None:
    """The guard this turn trips, or None when it should go to the judge."""
    if not response.strip():
        return "empty"
    if truncated:
        return "truncated"
    if not visible_text(response, think_open, think_close):
        return "think_only"
    if not is_final_turn and checklist_len == 0:
        return "no_checklist"
    return None
