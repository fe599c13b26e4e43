"""Prompt templates: packaged files, one-pass rendering that raises on missing/unknown placeholders, pinned hashes.

No fakes: reads the real ``askrl/judge/prompts/*.txt`` through ``importlib.resources``.
"""

from __future__ import annotations

import pytest

from askrl.errors import RubricError
from askrl.judge.templates import PLACEHOLDERS, load_template, prompt_hashes, render, render_text

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


def test_released_v1_prompts_are_unchanged() -> None:
    assert prompt_hashes("v1") == PINNED_V1


@pytest.mark.parametrize("name", sorted(PLACEHOLDERS))
def test_every_template_renders_with_exactly_its_placeholders(name: str) -> None:
    values = {key: f"<<{key}>>" for key in PLACEHOLDERS[name]}
    text = render(name, "v1", **values)
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
    with pytest.raises(RubricError, match="no version 'v9'"):
        load_template("final", "v9")


def test_turn_templates_ask_for_one_hit_per_item_and_show_resolved_items() -> None:
    for name in ("turn_askmind", "turn_overconfidence"):
        text = load_template(name)
        assert "{n_items} entries in hits" in text
        assert "<already_resolved>\n{resolved}\n</already_resolved>" in text


def test_user_templates_never_receive_the_expected_answer() -> None:
    assert "expected_answer" not in PLACEHOLDERS["user_askmind"]
    assert "expected_answer" not in PLACEHOLDERS["user_overconfidence"]
