"""Every JSON schema askrl sends as ``response_format``, and a check that an endpoint's guided decoding accepts them.

Why: the judge client asks for structured output with each verdict's JSON schema (``askrl/judge/client.py``); a
server whose grammar compiler rejects one answers every such call with a 400. Found per call, that is a stream of
failed judge calls (or, with the client's fallback, verdicts without guided decoding) hours into a run; found before
the run, it is one line naming the endpoint and the schema. The preflight (``askrl/train/preflight.py``) sends the
training judge's schemas to every endpoint; the vLLM tests send :func:`sent_schemas`, every schema of the package.

Which schemas: every public pydantic model of the modules that define what askrl asks a model for
(:data:`SCHEMA_MODULES`: the judge's verdicts, data building's generations and checks, the evaluator's verdicts),
and each prompt set's turn verdict with ``hits`` pinned to a length, as ``LLMJudge.grade_turn`` sends it. A new
verdict model in one of these modules, or a new prompt set, is covered without editing this file.

    problems = check_schemas("http://127.0.0.1:8012/v1", "default", training_schemas("v2"))   # [] when accepted
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any

import openai
from pydantic import BaseModel

from askrl.judge.client import response_format
from askrl.judge.llm import reply_json_schema, reply_model, turn_json_schema, verdict_models
from askrl.judge.templates import VERSIONS
from askrl.judge.types import UserReplyV3

#: Modules whose public pydantic models are response schemas (each model is one ``response_format``).
SCHEMA_MODULES = ("askrl.judge.types", "askrl.data.build.schemas", "eval_hooks.verdicts")
#: The checklist length the pinned turn schemas are checked with (the pin is ``minItems``/``maxItems``).
PINNED_HITS = 3


@dataclass(frozen=True)
class SentSchema:
    """One ``response_format`` askrl sends: the name in ``json_schema.name`` (the model's), a label, the schema."""

    name: str
    label: str
    schema: dict[str, Any]
    model: type[BaseModel]


def _module_models(module_name: str) -> list[type[BaseModel]]:
    module = importlib.import_module(module_name)
    return [obj for name, obj in vars(module).items()
            if inspect.isclass(obj) and issubclass(obj, BaseModel) and obj.__module__ == module_name
            and not name.startswith("_")]  # fmt: skip


def _pinned_turn(version: str) -> SentSchema:
    model = verdict_models(version)[0]
    return SentSchema(model.__name__, f"{model.__name__} (prompt set {version}, hits pinned to {PINNED_HITS})",
                      turn_json_schema(PINNED_HITS, version), model)


def _pinned_reply() -> SentSchema:
    return SentSchema(UserReplyV3.__name__, f"{UserReplyV3.__name__} (supplied pinned to {PINNED_HITS})",
                      reply_json_schema(PINNED_HITS), UserReplyV3)


def sent_schemas() -> list[SentSchema]:
    """Every schema of :data:`SCHEMA_MODULES`, every prompt set's pinned turn verdict, and v3's pinned reply."""
    out = [SentSchema(m.__name__, f"{m.__name__} ({m.__module__})", m.model_json_schema(), m)
           for module in SCHEMA_MODULES for m in _module_models(module)]
    return out + [_pinned_turn(version) for version in sorted(VERSIONS)] + [_pinned_reply()]


def training_schemas(version: str) -> list[SentSchema]:
    """What the training judge of prompt set ``version`` sends: the pinned turn verdict, the final verdict, the
    simulated user's reply (v3's with its report pinned)."""
    final = verdict_models(version)[1]
    reply = reply_model(version)
    return [_pinned_turn(version),
            SentSchema(final.__name__, f"{final.__name__} (prompt set {version})", final.model_json_schema(), final),
            _pinned_reply() if reply is UserReplyV3
            else SentSchema(reply.__name__, f"{reply.__name__} (prompt set {version})", reply.model_json_schema(), reply)]


def send_schema(client: openai.OpenAI, model: str, sent: SentSchema, *, max_tokens: int) -> Any:
    """One chat completion constrained to ``sent``'s schema; raises ``openai.BadRequestError`` if it is refused."""
    return client.chat.completions.create(
        model=model, max_tokens=max_tokens, temperature=0.0,
        messages=[{"role": "user", "content": f"Reply with one JSON object for {sent.name}."}],
        response_format=response_format("json_schema", sent.name, sent.schema),  # type: ignore[arg-type]
    )  # fmt: skip


def check_schemas(base_url: str, model: str, schemas: list[SentSchema], *, api_key: str = "EMPTY",
                  timeout_s: float = 60.0) -> list[str]:
    """One line per schema the endpoint refuses (HTTP 400), naming endpoint and schema; ``[]`` when all pass.

    Each request asks for a single token: acceptance is decided when the server compiles the grammar, before it
    generates anything.
    """
    client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout_s)
    problems = []
    try:
        for sent in schemas:
            try:
                send_schema(client, model, sent, max_tokens=1)
            except openai.BadRequestError as err:
                problems.append(f"judge endpoint {base_url}: refuses the structured-output schema {sent.label}: "
                                f"{err.message}; fix the schema or set response_format: none for this endpoint")
    finally:
        client.close()
    return problems
