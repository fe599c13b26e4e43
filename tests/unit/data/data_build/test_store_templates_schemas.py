"""Build files (resume reading, folder checks), prompt templates and reply schemas of ``askrl.data.build``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from askrl.data.build import store
from askrl.data.build.schemas import BuildAskMind, BuildCoverage, BuildMessage, BuildOverconfidence, same_length
from askrl.data.build.templates import PLACEHOLDERS, load_template, prompt_hashes, render
from askrl.errors import DataError, RubricError


def test_read_jsonl_drops_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c", "ori_q')
    assert [r["id"] for r in store.read_jsonl(path)] == ["a", "b"]
    assert path.read_text() == '{"id": "a"}\n{"id": "b"}\n'  # truncated, so appends continue cleanly
    assert store.read_jsonl(tmp_path / "missing.jsonl") == []


def test_sink_appends_flushed_lines(tmp_path: Path) -> None:
    sink = store.Sink(tmp_path / "x.jsonl")
    sink.write({"id": "é"})
    assert (tmp_path / "x.jsonl").read_text(encoding="utf-8") == '{"id": "é"}\n'  # visible before close
    sink.close()
    fresh = store.Sink(tmp_path / "x.jsonl", fresh=True)
    fresh.close()
    assert (tmp_path / "x.jsonl").read_text() == ""


def test_a_folder_of_another_build_is_refused(tmp_path: Path) -> None:
    meta = {"task": "askmind", "input": "qa.jsonl", "mapping": {}, "prompt_version": "v1", "concurrency": 4}
    store.check_resumable(tmp_path / "out", meta)
    store.check_resumable(tmp_path / "out", {**meta, "concurrency": 8})  # other settings may change
    assert json.loads((tmp_path / "out" / "build.json").read_text())["concurrency"] == 8
    with pytest.raises(DataError, match="task: 'askmind' -> 'overconfidence'"):
        store.check_resumable(tmp_path / "out", {**meta, "task": "overconfidence"})


@pytest.mark.parametrize("name", sorted(PLACEHOLDERS))
def test_every_prompt_renders_with_exactly_its_placeholders(name: str) -> None:
    values = {key: f"<<{key}>>" for key in PLACEHOLDERS[name]}
    text = render(name, "v1", **values)
    assert text.startswith(f"<build_step>{name}</build_step>\n")
    assert all(v in text for v in values.values())
    with pytest.raises(RubricError):
        render(name, "v1", **values, extra="x")
    if values:
        with pytest.raises(RubricError):
            render(name, "v1", **dict(list(values.items())[1:]))


def test_rendering_does_not_expand_placeholders_inside_values() -> None:
    assert "{question}" in render("solve", "v1", question="What is {question}?")


def test_prompt_versions_and_hashes() -> None:
    hashes = prompt_hashes("v1")
    assert set(hashes) == set(PLACEHOLDERS) and all(len(h) == 12 for h in hashes.values())
    with pytest.raises(RubricError, match="no version"):
        load_template("solve", "v9")
    with pytest.raises(RubricError, match="unknown build prompt"):
        load_template("nope")


def test_schemas_refuse_blank_text_and_check_lengths() -> None:
    with pytest.raises(ValidationError):
        BuildAskMind.model_validate({"degraded_info": "x", "required_points": [], "degraded_question": "  "})
    with pytest.raises(ValidationError):
        BuildMessage.model_validate({"message": ""})
    with pytest.raises(ValidationError):  # strict: no string-to-bool coercion
        BuildCoverage.model_validate({"covered": ["true"]})
    assert BuildOverconfidence.model_validate(
        {"overconfidence_info": ["a", "b"], "misleading_points": ["x"], "overconfidence_question": "q"}
    ).overconfidence_info == ["a", "b"]
    check = same_length(2, "covered")
    check(BuildCoverage(covered=[True, False]))
    with pytest.raises(ValueError, match="covered has 1 entries, the checklist has 2"):
        check(BuildCoverage(covered=[True]))
