"""The evaluator's own prompt templates: versioned files rendered with askrl's one-pass ``render_text``.

Why separate from ``askrl/judge/prompts``: the evaluation arbiter answers AskBench's questions (is this a final
answer, is it correct, which checklist items are still missing; spec §2.5), not the training reward's per-turn hit
list, so its prompts and schemas are its own. Every template puts its static instructions and the JSON schema
first and the item and conversation last, so a server with prefix caching reuses the instruction prefix across
all calls. A released file is never edited; a change is a new version (``<name>_<version>.txt``).

    text = render("arbiter", "v1", ground_truth="12", ...)
    template_hashes("v1")  # {"arbiter": "3f2a9c1b7d20", ...}, recorded in every run's fingerprint
"""

from __future__ import annotations

import hashlib
from functools import cache

from askrl.errors import RubricError
from askrl.judge.templates import read_prompt_file, render_text

_ARBITER = frozenset(
    {"ground_truth", "ori_question", "scenario_question", "scenario_context", "checklist", "conversation", "response"}
)
_USER = frozenset({"ori_question", "hidden_info", "checklist", "conversation", "response"})
#: Every template and exactly the placeholders it must contain.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "arbiter": _ARBITER,
    "arbiter_strict": _ARBITER,
    "arbiter_overconfidence": _ARBITER,
    "arbiter_overconfidence_strict": _ARBITER,
    "arbiter_in3": frozenset({"vague", "scenario_question", "scenario_context", "checklist", "conversation", "response"}),
    "user": _USER,
    "user_overconfidence": frozenset({"checklist", "response"}),
    "user_in3": _USER | {"vague"},
    "qa_grade": frozenset({"question", "expected_answer", "response"}),
    "rubric": frozenset({"conversation", "criterion", "points"}),
}

PROMPT_VERSION = "v1"


@cache
def load_template(name: str, version: str = PROMPT_VERSION) -> str:
    """The text of ``eval_hooks/prompts/<name>_<version>.txt``, checked against its documented placeholders."""
    if name not in PLACEHOLDERS:
        raise RubricError(f"unknown evaluation prompt {name!r}; known: {sorted(PLACEHOLDERS)}")
    return read_prompt_file("eval_hooks.prompts", name, version, PLACEHOLDERS[name], what="evaluation prompt")


def render(name: str, version: str = PROMPT_VERSION, **values: str) -> str:
    """Render template ``name`` (see ``askrl.judge.templates.render_text`` for the rules)."""
    return render_text(load_template(name, version), values, label=f"{name}_{version}")


def template_hashes(version: str = PROMPT_VERSION) -> dict[str, str]:
    """``{name: first 12 hex digits of sha256}`` of every template at ``version``."""
    return {
        name: hashlib.sha256(load_template(name, version).encode("utf-8")).hexdigest()[:12]
        for name in sorted(PLACEHOLDERS)
    }
