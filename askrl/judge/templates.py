"""Judge prompt templates: versioned files, one-pass ``{placeholder}`` rendering, and short hashes for run logs.

Who uses it: ``LLMJudge`` (``askrl/judge/llm.py``); runs log ``prompt_hashes()`` next to the config.
Templates live in ``askrl/judge/prompts/<name>_<version>.txt`` (package data, read with ``importlib.resources``);
a released file is never edited, a change is a new version. A version is a whole set (``VERSIONS``): v1 (the first
release) and v2 (reasoning-first verdicts, "final answer" and "facts missing" reported separately, strict-mode
templates, every file ordered static-first for prefix caching: instructions, rules and schema, then the item, then
what is resolved and the conversation, then the message to grade) and v3 (v2 plus the turn verdict's
``irrelevant_questions`` count and the simulated user's report of what its reply ``supplied``; the default). ``{name}`` with a lowercase identifier is always a
placeholder; any other brace (a JSON example) is text. Rendering substitutes every placeholder in one pass, so a
value that itself contains ``{response}`` is never expanded (unlike chained ``str.replace``, spec §7.9).

How it fails: ``RubricError`` for an unknown template, a placeholder without a value (missing), a value no
placeholder uses (unknown), or a template whose placeholders differ from its documented set.

    text = render("final", "v1", conversation=..., question=..., expected_answer="42", response="...")
    prompt_hashes("v1")["final"]  # e.g. "3f2a9c1b7d20"
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib import resources

from askrl.errors import RubricError

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")

_TURN = frozenset(
    {"ori_question", "hidden_info", "checklist", "resolved", "conversation", "question", "response", "n_items"}
)
_FINAL = frozenset({"conversation", "question", "expected_answer", "response"})
#: Every template and exactly the placeholders it must contain (a test renders each with these).
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "system_grader": frozenset(),
    "system_user": frozenset(),
    "turn_askmind": _TURN,
    "turn_overconfidence": _TURN,
    "final": _FINAL,
    "user_askmind": frozenset({"ori_question", "hidden_info", "checklist", "conversation", "response"}),
    "user_overconfidence": frozenset({"checklist", "response"}),
    # v2 only: AskBench's strict protocol (spec §2.5, §2.9)
    "turn_askmind_strict": _TURN,
    "turn_overconfidence_strict": _TURN,
    "final_strict": _FINAL,
}
_STRICT = frozenset({"turn_askmind_strict", "turn_overconfidence_strict", "final_strict"})
#: The templates each prompt set holds; a set is versioned as a whole (``JudgeConfig.prompt_version``).
VERSIONS: dict[str, frozenset[str]] = {
    "v1": frozenset(PLACEHOLDERS) - _STRICT,
    "v2": frozenset(PLACEHOLDERS),
    "v3": frozenset(PLACEHOLDERS),
}
DEFAULT_VERSION = "v3"


def has_template(name: str, version: str) -> bool:
    """Whether prompt set ``version`` holds template ``name`` (v1 has no strict templates)."""
    return name in VERSIONS.get(version, frozenset())


@cache
def load_template(name: str, version: str = "v1") -> str:
    """The text of ``prompts/<name>_<version>.txt``, checked against its documented placeholders."""
    if name not in PLACEHOLDERS:
        raise RubricError(f"unknown judge prompt {name!r}; known: {sorted(PLACEHOLDERS)}")
    if version not in VERSIONS:
        raise RubricError(f"unknown judge prompt set {version!r}; known: {sorted(VERSIONS)}")
    if name not in VERSIONS[version]:
        raise RubricError(f"judge prompt set {version!r} has no template {name!r}")
    return read_prompt_file("askrl.judge.prompts", name, version, PLACEHOLDERS[name], what="judge prompt")


def read_prompt_file(package: str, name: str, version: str, placeholders: frozenset[str], *, what: str) -> str:
    """The text of ``<package>/<name>_<version>.txt`` (package data), whose placeholders must be exactly
    ``placeholders``; shared by the judge's, the evaluator's and the data builder's prompt sets.

    Raises:
        RubricError: no such file, or its placeholders differ from the documented set.
    """
    resource = resources.files(package) / f"{name}_{version}.txt"
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise RubricError(f"{what} {name!r} has no version {version!r} ({package.replace('.', '/')}/)") from err
    found = set(_PLACEHOLDER.findall(text))
    if found != placeholders:
        raise RubricError(
            f"prompt {name}_{version}.txt has placeholders {sorted(found)}, documented {sorted(placeholders)}"
        )
    return text


def render_text(template: str, values: dict[str, str], label: str = "template") -> str:
    """Substitute ``values`` into ``template`` in one pass.

    Raises:
        RubricError: a placeholder has no value, or a value matches no placeholder.
    """
    used = set(_PLACEHOLDER.findall(template))
    missing = used - values.keys()
    unknown = values.keys() - used
    if missing or unknown:
        raise RubricError(f"{label}: missing values for {sorted(missing)}, unknown values {sorted(unknown)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def render(name: str, version: str = "v1", **values: str) -> str:
    """Render the packaged template ``name`` at ``version`` (see ``render_text`` for the rules)."""
    return render_text(load_template(name, version), values, label=f"{name}_{version}")


def prompt_hash(name: str, version: str = "v1") -> str:
    """First 12 hex digits of the sha256 of the template file's text."""
    return hashlib.sha256(load_template(name, version).encode("utf-8")).hexdigest()[:12]


def prompt_hashes(version: str = "v1") -> dict[str, str]:
    """``{name: hash}`` of every template of prompt set ``version``, for run logs and results files."""
    if version not in VERSIONS:
        raise RubricError(f"unknown judge prompt set {version!r}; known: {sorted(VERSIONS)}")
    return {name: prompt_hash(name, version) for name in sorted(VERSIONS[version])}
