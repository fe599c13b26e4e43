"""Prompt templates: packaged files, one-pass rendering that raises on missing/unknown placeholders, pinned hashes.

No fakes: reads the real ``askrl/judge/prompts/*.txt`` through ``importlib.resources``.
"""

from __future__ import annotations

import pytest

from askrl.errors import RubricError
from askrl.judge.llm import turn_json_schema, verdict_models
from askrl.judge.templates import PLACEHOLDERS, VERSIONS, load_template, prompt_hashes, render, render_text

#: Released prompts are never edited (style §3.4): a changed hash means a new ``_v2`` file is due instead.
PINNED_V1 = {
    "final": "a289c65aaa59",
    "system_grader": "b04b0e3bfdbe",
    "system_user": "cd8b3937cd6e",
    "turn_askmind": "990b8042b2c5",
    "turn_overconfidence": "30e321c53b32",
    "user_askmind": "81580b3c04f7",
    "user_overconfidence": "44bcd64360b5",
}


PINNED_V2 = {
    "final": "c39276978b0e",
    "final_strict": "2ef2a9f63de5",
    "system_grader": "efaac4515911",
    "system_user": "cd8b3937cd6e",
    "turn_askmind": "9ce8f1b12e86",
    "turn_askmind_strict": "0df196f04b60",
    "turn_overconfidence": "673af0486904",
    "turn_overconfidence_strict": "85e91acc4b1f",
    "user_askmind": "c1c9f93a4798",
    "user_overconfidence": "7755a1408d77",
}


def test_released_v1_prompts_are_unchanged() -> None:
    assert prompt_hashes("v1") == PINNED_V1


def test_released_v2_prompts_are_unchanged() -> None:
    assert prompt_hashes("v2") == PINNED_V2


def test_v1_has_no_strict_templates_and_v2_has_every_template() -> None:
    assert sorted(prompt_hashes("v2")) == sorted(PLACEHOLDERS)
    assert not any(name.endswith("_strict") for name in prompt_hashes("v1"))
    with pytest.raises(RubricError, match="has no template 'final_strict'"):
        load_template("final_strict", "v1")


@pytest.mark.parametrize(("version", "name"), [(v, n) for v in sorted(VERSIONS) for n in sorted(VERSIONS[v])])
def test_every_template_renders_with_exactly_its_placeholders(version: str, name: str) -> None:
    values = {key: f"<<{key}>>" for key in PLACEHOLDERS[name]}
    text = render(name, version, **values)
    for key in PLACEHOLDERS[name]:
        assert f"<<{key}>>" in text
    assert "{" + "response}" not in text


def test_missing_placeholder_raises() -> None:
    with pytest.raises(RubricError, match=r"missing values for \['response'\]"):
        render("final", "v1", conversation="c", question="q", expected_answer="42")


def test_unknown_value_raises() -> None:
    with pytest.raises(RubricError, match=r"unknown values \['typo'\]"):
        render("final", "v1", conversation="c", question="q", expected_answer="42", response="r", typo="x")


def test_values_are_not_expanded_again() -> None:
    """Spec §7.9: model output that contains a placeholder name stays literal."""
    text = render_text("A {a} B {b}", {"a": "{b}", "b": "x"})
    assert text == "A {b} B x"


def test_json_braces_are_text_not_placeholders() -> None:
    template = 'Reply {"decision": "correct"} for {name}'
    assert render_text(template, {"name": "you"}) == 'Reply {"decision": "correct"} for you'


def test_unknown_template_and_version_raise() -> None:
    with pytest.raises(RubricError, match="unknown judge prompt"):
        load_template("nope")
    with pytest.raises(RubricError, match="unknown judge prompt set 'v9'"):
        load_template("final", "v9")
    with pytest.raises(RubricError, match="unknown judge prompt set 'v9'"):
        prompt_hashes("v9")


def test_turn_templates_ask_for_one_hit_per_item_and_show_resolved_items() -> None:
    for name in ("turn_askmind", "turn_overconfidence"):
        text = load_template(name)
        assert "{n_items} entries in hits" in text
        assert "<already_resolved>\n{resolved}\n</already_resolved>" in text
    for name in ("turn_askmind", "turn_overconfidence", "turn_askmind_strict", "turn_overconfidence_strict"):
        text = load_template(name, "v2")
        assert "exactly {n_items} entries" in text
        assert "<already_resolved>\n{resolved}\n</already_resolved>" in text


#: Where each placeholder may appear in a v2 grading prompt, in order: the item, then the episode so far, then
#: the message to grade (everything before the first placeholder is static: instructions, rules, schema).
_V2_ORDER = [
    "ori_question",
    "hidden_info",
    "checklist",
    "n_items",
    "expected_answer",
    "resolved",
    "conversation",
    "question",
    "response",
]


@pytest.mark.parametrize("name", sorted(VERSIONS["v2"]))
def test_v2_prompts_put_static_text_first_then_item_then_conversation_then_the_message(name: str) -> None:
    text = load_template(name, "v2")
    positions = [text.index("{" + key + "}") for key in _V2_ORDER if "{" + key + "}" in text]
    assert positions == sorted(positions), f"{name}_v2 placeholders out of the prefix-caching order"
    if PLACEHOLDERS[name]:
        first = min(positions)
        assert "Reply with exactly one JSON object" in text[:first], "the schema must sit in the static prefix"
        assert text.rstrip().endswith("{response}\n</assistant_message>"), "the graded message comes last"


@pytest.mark.parametrize("name", ["turn_askmind", "turn_overconfidence", "final"])
def test_v2_verdict_schemas_put_reasoning_first(name: str) -> None:
    turn_model, final_model = verdict_models("v2")
    schema = turn_json_schema(3, "v2") if name.startswith("turn") else final_model.model_json_schema()
    assert next(iter(schema["properties"])) == "reasoning"
    assert "reasoning" in schema["required"]
    example = load_template(name, "v2")
    assert '{"reasoning": ' in example  # the example object in the prompt starts with it too
    assert turn_model.__name__ == "TurnVerdictV2" and verdict_models("v1")[0].__name__ == "TurnVerdict"


def test_v2_turn_prompts_report_final_answer_and_missing_facts_separately() -> None:
    for name in ("turn_askmind", "turn_overconfidence", "turn_askmind_strict", "turn_overconfidence_strict"):
        text = load_template(name, "v2")
        assert "is_final_answer is true" in text and "facts_missing is true" in text


def test_strict_prompts_state_the_strict_protocol() -> None:
    for name in ("turn_askmind_strict", "turn_overconfidence_strict"):
        text = load_template(name, "v2")
        assert text.startswith("<grading_mode>strict</grading_mode>")
        assert "ANY substantive solving attempt" in text
    final = load_template("final_strict", "v2")
    assert 'are "wrong", even if one of them matches' in final


def test_user_templates_never_receive_the_expected_answer() -> None:
    assert "expected_answer" not in PLACEHOLDERS["user_askmind"]
    assert "expected_answer" not in PLACEHOLDERS["user_overconfidence"]
