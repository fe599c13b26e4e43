"""Turn a judge's raw reply into a validated verdict, or say exactly why it cannot.

Who uses it: ``JudgeClient`` after every successful HTTP attempt; tests table-test it directly.
Extraction is tolerant (spec §2.4, fixing §7.2): the whole reply if it is a JSON object, else the LAST
```` ```json ```` fenced block holding one, else the last top-level balanced ``{...}`` that parses (a judge that
echoes the prompt's example before its verdict is graded on the verdict). Validation is strict: the pydantic
schema's strict types (``"false"`` is never a boolean), then an optional caller check (e.g. ``len(hits)``).

How it fails: ``JudgeParseError`` when no JSON object can be found, ``JudgeSchemaError`` when one is found but
does not validate. Both carry the raw text (truncated). Nothing else is raised.

    verdict = parse_verdict('Reasoning: ...\\n```json\\n{"decision": "correct"}\\n```', FinalVerdict)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from askrl.judge import constants as C
from askrl.judge.attempt_errors import JudgeParseError, JudgeSchemaError

M = TypeVar("M", bound=BaseModel)

_FENCE = re.compile(r"```(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()
#: Start positions tried when scanning free text for an object (bounds the work on long garbage).
_MAX_SCAN_STARTS = 64


def truncate(text: str, limit: int = C.RAW_TRUNCATE_CHARS) -> str:
    """``text`` cut to ``limit`` characters with a marker, for results and log lines."""
    return text if len(text) <= limit else text[:limit] + f"...[{len(text) - limit} more chars]"


def extract_json_object(text: str) -> Any:
    """The JSON value the reply holds, preferring its LAST object (a judge that echoes the prompt's example
    object before its own verdict is graded on its verdict).

    Order: the whole stripped text; else the last fenced block holding an object; else the last top-level
    balanced object in free text (``raw_decode`` at each ``{``; an object's nested braces are skipped, braces
    inside strings included). Returns a non-dict JSON value only when it is the whole reply or a whole fenced
    block and no object was found (the caller reports it as a schema mismatch).

    Raises:
        JudgeParseError: no JSON could be decoded.
    """
    stripped = text.strip()
    try:
        whole = json.loads(stripped)
    except ValueError:
        whole, whole_ok = None, False
    else:
        whole_ok = True
        if isinstance(whole, dict):
            return whole
    fallback: Any = whole
    found = whole_ok
    last_fenced: dict[str, Any] | None = None
    for match in _FENCE.finditer(text):
        try:
            value = json.loads(match.group(1).strip())
        except ValueError:
            continue
        if isinstance(value, dict):
            last_fenced = value
        elif not found:
            fallback, found = value, True
    if last_fenced is not None:
        return last_fenced
    last_free: dict[str, Any] | None = None
    start, tries = text.find("{"), 0
    while start != -1 and tries < _MAX_SCAN_STARTS:
        try:
            value, end = _DECODER.raw_decode(text, start)
        except ValueError:
            value, end = None, start + 1
        if isinstance(value, dict):
            last_free = value
            start = text.find("{", end)  # past this object: its nested objects are not candidates
        else:
            start = text.find("{", start + 1)
        tries += 1
    if last_free is not None:
        return last_free
    if found:
        return fallback
    raise JudgeParseError("no JSON object in the judge reply", raw=truncate(text))


def parse_verdict(text: str, schema: type[M], check: Callable[[M], None] | None = None) -> M:
    """Extract and strictly validate a verdict.

    Args:
        text: the judge's reply.
        schema: the pydantic verdict model (strict types, e.g. ``TurnVerdict``).
        check: an extra invariant the schema cannot state alone; it raises ``ValueError`` when violated.

    Raises:
        JudgeParseError: no JSON in the reply.
        JudgeSchemaError: JSON that is not an object, fails the schema, or fails ``check``.
    """
    value = extract_json_object(text)
    if not isinstance(value, dict):
        raise JudgeSchemaError(f"expected a JSON object, got {type(value).__name__}", raw=truncate(text))
    try:
        verdict = schema.model_validate(value)
    except ValidationError as err:
        raise JudgeSchemaError(_summarise(err), raw=truncate(text)) from err
    if check is not None:
        try:
            check(verdict)
        except ValueError as err:
            raise JudgeSchemaError(str(err), raw=truncate(text)) from err
    return verdict


def _summarise(err: ValidationError) -> str:
    """One line per error: the field path and pydantic's message (fed back to the judge in a repair note)."""
    parts = []
    for item in err.errors()[:5]:
        loc = ".".join(str(p) for p in item["loc"]) or "<root>"
        parts.append(f"{loc}: {item['msg']}")
    return "; ".join(parts)
