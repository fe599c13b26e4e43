"""The evaluator's own prompt templates: versioned files rendered with askrl's one-pass ``render_text``.

Why separate from ``askrl/judge/prompts``: the evaluation arbiter answers AskBench's questions (is this a final
answer, is it correct, which checklist items are still missing; spec §2.5), not the training reward's per-turn hit
list, so its prompts and schemas are its own. Every template puts its static instructions and the JSON schema
first and the item and conversation last, so a server with prefix caching reuses the instruction prefix across
all calls. A released file is never edited; a change is a new file version (``<name>_<version>.txt``), and a prompt
set (``PROMPT_SETS``) names the file version of every template: set v2 changes only the simulated users, who
report which checklist items their reply supplied (``{"reply": ..., "supplied": [...]}``, as the training judge's
prompt set v3), and keeps the other v1 files.

    text = render("arbiter", "v2", ground_truth="12", ...)   # arbiter_v1.txt, through prompt set v2
    template_hashes("v2")  # {"arbiter": "3f2a9c1b7d20", ...}, recorded in every run's fingerprint
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

_USERS = ("user", "user_overconfidence", "user_in3")
#: Prompt set -> template -> the file version it renders.
PROMPT_SETS: dict[str, dict[str, str]] = {
    "v1": dict.fromkeys(PLACEHOLDERS, "v1"),
    "v2": {**dict.fromkeys(PLACEHOLDERS, "v1"), **dict.fromkeys(_USERS, "v2")},
}
#: Prompt sets whose simulated user reports what its reply supplied (``askrl.judge.types.UserReplyV3``).
REPORTING_SETS = frozenset({"v2"})
PROMPT_VERSION = "v2"


def file_version(name: str, version: str) -> str:
    """Which file version template ``name`` renders in prompt set ``version``."""
    if version not in PROMPT_SETS:
        raise RubricError(f"unknown evaluation prompt set {version!r}; known: {sorted(PROMPT_SETS)}")
    if name not in PLACEHOLDERS:
        raise RubricError(f"unknown evaluation prompt {name!r}; known: {sorted(PLACEHOLDERS)}")
    return PROMPT_SETS[version][name]


@cache
def load_template(name: str, version: str = PROMPT_VERSION) -> str:
    """The text of ``eval_hooks/prompts/<name>_<file version>.txt`` in prompt set ``version``, checked against its
    documented placeholders."""
    found = file_version(name, version)
    return read_prompt_file("eval_hooks.prompts", name, found, PLACEHOLDERS[name], what="evaluation prompt")


def render(name: str, version: str = PROMPT_VERSION, **values: str) -> str:
    """Render template ``name`` of prompt set ``version`` (see ``askrl.judge.templates.render_text`` for the rules)."""
    return render_text(load_template(name, version), values, label=f"{name}_{file_version(name, version)}")


def template_hashes(version: str = PROMPT_VERSION) -> dict[str, str]:
    """``{name: first 12 hex digits of sha256}`` of every template of prompt set ``version``."""
    return {
        name: hashlib.sha256(load_template(name, version).encode("utf-8")).hexdigest()[:12]
        for name in sorted(PLACEHOLDERS)
    }
