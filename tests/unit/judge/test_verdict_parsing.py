"""Verdict extraction (whole reply, last fenced block, last balanced object) and strict validation (no fakes).

Covers spec §7.2: a string "false" is never a boolean, a list is not an object, unknown enums and wrong hit
counts are schema mismatches, not truthy values.
"""

from __future__ import annotations

import pytest

from askrl.judge.attempt_errors import JudgeParseError, JudgeSchemaError
from askrl.judge.types import FailureKind, FinalVerdict, TurnVerdict, UserReply, check_hits_length
from askrl.judge.verdict_parsing import extract_json_object, parse_verdict, truncate

TURN = '{"answered_final": false, "hits": [true, false], "irrelevant_or_redundant": false, "notes": ["a", "b"]}'


@pytest.mark.parametrize(
    "text",
    [
        TURN,
        f"  \n{TURN}\n",
        f"Reasoning: the assistant asks about item 1.\n```json\n{TURN}\n```",
        f"```\n{TURN}\n```",
        f"Here you go: {TURN} -- hope that helps {{not json}}",
        f"Note {{draft}} first, then the verdict {TURN}",
    ],
)
def test_extracts_turn_verdict_from_reply_shapes(text: str) -> None:
    verdict = parse_verdict(text, TurnVerdict)
    assert verdict.hits == [True, False]
    assert verdict.answered_final is False


def test_braces_inside_strings_do_not_break_extraction() -> None:
    text = 'Verdict: {"reply": "use a set like {1, 2} here"} trailing'
    assert parse_verdict(text, UserReply).reply == "use a set like {1, 2} here"


def test_fenced_block_preferred_over_earlier_prose_object() -> None:
    text = 'Example: {"decision": "wrong"} is the format.\n```json\n{"decision": "correct"}\n```'
    # the whole text is not JSON; the fenced block is tried before scanning prose
    assert parse_verdict(text, FinalVerdict).decision == "correct"


@pytest.mark.parametrize("text", ["", "I think it is fine.", '{"decision": "correct"', "```json\n{oops}\n```"])
def test_no_json_is_invalid_json(text: str) -> None:
    with pytest.raises(JudgeParseError) as info:
        parse_verdict(text, FinalVerdict)
    assert info.value.kind is FailureKind.INVALID_JSON
    assert not isinstance(info.value, JudgeSchemaError)


@pytest.mark.parametrize(
    "text",
    [
        '{"answered_final": "false", "hits": [true, false]}',  # string boolean
        '{"answered_final": false, "hits": ["true", false]}',  # string boolean in the list
        '{"answered_final": 0, "hits": [true, false]}',  # int is not a boolean
        '{"answered_final": false, "hits": "true,false"}',  # not a list
        '{"hits": [true, false]}',  # missing field
        "[true, false]",  # a list, not an object
    ],
)
def test_strictness_is_schema_mismatch(text: str) -> None:
    with pytest.raises(JudgeSchemaError) as info:
        parse_verdict(text, TurnVerdict)
    assert info.value.kind is FailureKind.SCHEMA_MISMATCH
    assert info.value.raw == text


@pytest.mark.parametrize("decision", ["Correct", "right", "", "still asking"])
def test_unknown_enum_is_schema_mismatch(decision: str) -> None:
    with pytest.raises(JudgeSchemaError):
        parse_verdict(f'{{"decision": "{decision}"}}', FinalVerdict)


def test_empty_user_reply_is_schema_mismatch() -> None:
    with pytest.raises(JudgeSchemaError):
        parse_verdict('{"reply": "   "}', UserReply)


def test_check_turns_wrong_hits_length_into_schema_mismatch() -> None:
    with pytest.raises(JudgeSchemaError, match="hits has 2 entries, the checklist has 3"):
        parse_verdict(TURN, TurnVerdict, check=lambda v: check_hits_length(v, 3))
    assert parse_verdict(TURN, TurnVerdict, check=lambda v: check_hits_length(v, 2)).hits == [True, False]


def test_extra_keys_are_ignored() -> None:
    assert parse_verdict('{"decision": "wrong", "confidence": 0.3}', FinalVerdict).decision == "wrong"


def test_extract_returns_last_parseable_object() -> None:
    assert extract_json_object('a {"x": 1} b {"y": 2}') == {"y": 2}
    # an object's nested objects are not candidates of their own
    assert extract_json_object('a {"x": 1} b {"y": {"z": 3}} c') == {"y": {"z": 3}}


def test_echoed_example_before_the_verdict_is_not_the_verdict() -> None:
    # a judge without a schema repeats the prompt's example object, then gives its own verdict
    echoed = (
        'The format is {"reasoning": "...", "decision": "correct"}.\n'
        'Reasoning: the answer is 12, expected 13.\n{"reasoning": "12 is not 13", "decision": "wrong"}'
    )
    assert parse_verdict(echoed, FinalVerdict).decision == "wrong"
    fenced = '```json\n{"decision": "correct"}\n```\nMy verdict:\n```json\n{"decision": "still_asking"}\n```'
    assert parse_verdict(fenced, FinalVerdict).decision == "still_asking"


def test_truncate_marks_cut_text() -> None:
    assert truncate("abc", 10) == "abc"
    assert truncate("x" * 30, 10) == "x" * 10 + "...[20 more chars]"
