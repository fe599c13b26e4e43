"""Judge prompts are ordered for prefix caching: the static text first, then the item, the dialogue, the message.

Why: a vLLM judge with prefix caching reuses the leading tokens a prompt shares with earlier ones; the 8 episodes
of a group share the instructions and the item, turns of an episode share the conversation so far. A template
that puts instructions or the schema after a varying part (or the item after the conversation) throws that away.
The rule holds for every template of every version in ``CACHE_ORDERED`` and for the default version; ``v1``
predates it (its rules and schema follow the message to grade) and, like every released prompt file, is never
edited: the rollout benchmark reports its shared-prefix fraction next to v2's instead.
"""

from __future__ import annotations

import re
from importlib import resources

import pytest

from askrl.judge.config import JudgeConfig
from askrl.judge.templates import PLACEHOLDERS, load_template

CACHE_ORDERED = ("v2", "v3")
#: Placeholder -> how widely its value is shared: 1 the item (all episodes of a group), 2 the dialogue so far (the
#: turns of one episode), 3 the message being graded (one request).
RANK = {
    "ori_question": 1,
    "hidden_info": 1,
    "checklist": 1,
    "n_items": 1,
    "expected_answer": 1,
    "resolved": 2,
    "conversation": 2,
    "question": 2,
    "response": 3,
}
MIN_STATIC_FIRST = 0.75  # share of a template's literal text that must come before its first placeholder
MAX_TAIL_CHARS = 40  # literal text after the last placeholder: a closing tag, not instructions
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def _templates(version: str) -> list[str]:
    folder = resources.files("askrl.judge.prompts")
    return sorted(
        p.name.removesuffix(f"_{version}.txt") for p in folder.iterdir() if p.name.endswith(f"_{version}.txt")
    )


def test_the_default_version_is_cache_ordered_and_complete() -> None:
    version = JudgeConfig().prompt_version
    assert version in CACHE_ORDERED
    assert set(_templates(version)) <= set(PLACEHOLDERS)  # every file has a documented placeholder set
    assert set(RANK) >= {p for names in PLACEHOLDERS.values() for p in names}  # and every placeholder a rank


@pytest.mark.parametrize(
    ("version", "name"), [(v, n) for v in CACHE_ORDERED for n in _templates(v)], ids=lambda x: str(x)
)
def test_static_text_first_then_item_dialogue_message(version: str, name: str) -> None:
    text = load_template(name, version)
    found = list(_PLACEHOLDER.finditer(text))
    if not found:  # a system prompt: all static
        return
    ranks = [RANK[m.group(1)] for m in found]
    assert ranks == sorted(ranks), f"{name}_{version}: placeholders {[m.group(1) for m in found]} out of order"
    static = len(_PLACEHOLDER.sub("", text))
    assert found[0].start() >= MIN_STATIC_FIRST * static, f"{name}_{version}: instructions after the first value"
    assert len(text) - found[-1].end() <= MAX_TAIL_CHARS, f"{name}_{version}: text after the message to grade"
