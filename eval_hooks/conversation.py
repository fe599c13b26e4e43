"""How a dialogue is written into judge prompts: one JSON object per message, one message per line.

Why JSON lines instead of the original's ``role: content`` lines: a message that itself contains a newline and
``user:`` cannot forge a turn, and the offline judge (and the scripted test server) can read the conversation
back exactly.

    text = render_conversation([{"role": "user", "content": "Hi"}])   # '{"role": "user", "content": "Hi"}'
    parse_conversation(text) == [{"role": "user", "content": "Hi"}]
"""

from __future__ import annotations

import json
from collections.abc import Sequence

Message = dict[str, str]


def render_conversation(messages: Sequence[Message]) -> str:
    return "\n".join(json.dumps({"role": m["role"], "content": m["content"]}, ensure_ascii=False) for m in messages)


def parse_conversation(text: str) -> list[Message]:
    """The messages of a rendered conversation; lines that are not a message object are skipped."""
    out: list[Message] = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("role"), str) and isinstance(obj.get("content"), str):
            out.append({"role": obj["role"], "content": obj["content"]})
    return out


def numbered(items: Sequence[str]) -> str:
    """``1. first`` lines; the spec's sentence for an empty checklist."""
    if not items:
        return "None provided: the assistant may answer once it is confident."
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1))
