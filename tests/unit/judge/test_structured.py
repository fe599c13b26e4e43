"""The registry of structured-output schemas: every public model of the schema modules, every prompt set's pin."""

from __future__ import annotations

import importlib
import inspect

from pydantic import BaseModel

from askrl.judge.client import response_format
from askrl.judge.structured import PINNED_HITS, SCHEMA_MODULES, sent_schemas, training_schemas
from askrl.judge.templates import VERSIONS


def test_every_public_model_of_the_schema_modules_and_every_prompt_sets_pinned_turn_is_sent() -> None:
    sent = sent_schemas()
    models = {obj for name in SCHEMA_MODULES for key, obj in vars(importlib.import_module(name)).items()
              if inspect.isclass(obj) and issubclass(obj, BaseModel) and obj.__module__ == name
              and not key.startswith("_")}  # fmt: skip
    assert {s.model for s in sent} == models and len(models) >= 14
    pinned = [s for s in sent if "hits pinned" in s.label]
    assert len(pinned) == len(VERSIONS)
    for s in pinned:
        hits = s.schema["properties"]["hits"]
        assert hits["minItems"] == hits["maxItems"] == PINNED_HITS


def test_the_training_judge_sends_its_versions_turn_final_and_user_schemas() -> None:
    assert [s.name for s in training_schemas("v2")] == ["TurnVerdictV2", "FinalVerdictV2", "UserReply"]
    assert [s.name for s in training_schemas("v1")] == ["TurnVerdict", "FinalVerdict", "UserReply"]
    fmt = response_format("json_schema", "FinalVerdict", {"type": "object"})
    assert fmt == {"type": "json_schema", "json_schema": {"name": "FinalVerdict", "schema": {"type": "object"},
                                                           "strict": False}}


def test_pinned_schemas_require_v3s_optional_fields_and_pin_their_lists() -> None:
    # optional in the models (older replies still validate), always written under guided decoding
    from askrl.judge.llm import reply_json_schema, turn_json_schema

    turn = turn_json_schema(3, "v3")
    assert "irrelevant_questions" in turn["required"] and "hits" in turn["required"]
    assert (turn["properties"]["hits"]["minItems"], turn["properties"]["hits"]["maxItems"]) == (3, 3)
    reply = reply_json_schema(2)
    assert "supplied" in reply["required"]
    assert reply["properties"]["supplied"] == {"items": {"type": "boolean"}, "type": "array", "minItems": 2,
                                               "maxItems": 2}  # the Optional's list branch only
    assert "irrelevant_questions" not in turn_json_schema(3, "v2")["properties"]
