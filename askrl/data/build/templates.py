"""The data builder's prompts: versioned template files rendered in one pass, with hashes for the build record.

Who uses it: ``askrl/data/build/llm.py``. Templates live in ``askrl/data/build/prompts/<name>_<version>.txt``
(package data); a released file is never edited, a change is a new version (``--prompt-version``). Rendering is
``askrl.judge.templates.render_text``: every ``{placeholder}`` substituted in one pass, so a question that itself
contains ``{question}`` is never expanded. Each template starts with a ``<build_step>NAME</build_step>`` line: it
tells a human reading a request log (and the scripted test server) which step sent it.

How it fails: ``RubricError`` for an unknown template or version, or a file whose placeholders differ from the
documented set below (checked on load, so a bad prompt stops the build before any LLM call).

    text = render("solve", "v1", question="What is 2 + 2?")
    prompt_hashes("v1")["solve"]   # e.g. "5be1c0a7f3d2"
"""

from __future__ import annotations

import hashlib
from functools import cache

from askrl.errors import RubricError
from askrl.judge.templates import read_prompt_file, render_text

_GENERATE = frozenset({"ori_question", "expected_answer"})
_ASK = frozenset({"checklist", "unresolved", "round", "conversation"})
_COVERAGE = frozenset({"checklist", "conversation", "n_items"})

#: Every template and exactly the placeholders it must contain.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "generate_askmind": _GENERATE,
    "generate_overconfidence": _GENERATE,
    "solve": frozenset({"question"}),
    "policy_answer": frozenset({"question"}),
    "verify_askmind": frozenset({"ori_question", "degraded_question", "degraded_info", "checklist", "n_items"}),
    "verify_overconfidence": frozenset(
        {"ori_question", "expected_answer", "overconfidence_question", "checklist", "n_items"}
    ),
    "ask_askmind": _ASK,
    "ask_overconfidence": _ASK,
    "coverage_askmind": _COVERAGE,
    "coverage_overconfidence": _COVERAGE,
    "answer": frozenset({"conversation"}),
    "force_correct": frozenset({"conversation", "expected_answer", "solution"}),
}


@cache
def load_template(name: str, version: str = "v1") -> str:
    """The text of ``prompts/<name>_<version>.txt``, checked against its documented placeholders and step tag."""
    if name not in PLACEHOLDERS:
        raise RubricError(f"unknown build prompt {name!r}; known: {sorted(PLACEHOLDERS)}")
    text = read_prompt_file("askrl.data.build.prompts", name, version, PLACEHOLDERS[name], what="build prompt")
    if not text.startswith(f"<build_step>{name}</build_step>\n"):
        raise RubricError(f"prompt {name}_{version}.txt must start with the line <build_step>{name}</build_step>")
    return text


def render(name: str, version: str = "v1", **values: str) -> str:
    """Render the packaged template ``name`` at ``version``."""
    return render_text(load_template(name, version), values, label=f"{name}_{version}")


def prompt_hashes(version: str = "v1") -> dict[str, str]:
    """``{name: first 12 hex digits of sha256}`` of every template at ``version`` (also validates them all)."""
    return {
        name: hashlib.sha256(load_template(name, version).encode("utf-8")).hexdigest()[:12]
        for name in sorted(PLACEHOLDERS)
    }
