"""Prepare (build once, then reuse) the offline models by name.

A model is built into a temporary sibling directory and renamed into place only when complete, so a run that
dies half-way never leaves a directory that looks ready.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from askrl.env_vars import models_dir
from askrl.errors import ModelPrepError, UnknownNameError
from askrl.models.smollm2 import build_smollm2
from askrl.models.tiny import build_tiny

MARKER = "askrl_model.json"
_BUILDERS: dict[str, Callable[[Path], None]] = {"tiny": build_tiny, "smollm2": build_smollm2}
MODEL_NAMES = tuple(_BUILDERS)
#: Bumped when a builder's output changes; a directory built by an older builder is rebuilt on the next prepare.
BUILDER_VERSIONS = {"tiny": 1, "smollm2": 2}


def default_model_dir(name: str) -> Path:
    """``$ASKRL_HOME/models/<name>`` (``~/.cache/askrl/models/<name>`` by default)."""
    return models_dir() / name


def is_prepared(path: Path) -> bool:
    return (path / MARKER).is_file()


def prepare(name: str, out: Path | str | None = None) -> Path:
    """Return the directory of model ``name``, building it first if it is not there yet."""
    if name not in _BUILDERS:
        raise UnknownNameError(f"unknown model {name!r}; known: {sorted(_BUILDERS)}")
    target = Path(out) if out is not None else default_model_dir(name)
    target = target.expanduser().resolve()
    if is_prepared(target):
        meta = json.loads((target / MARKER).read_text())
        if meta.get("name") != name:
            raise ModelPrepError(f"{target} already holds model {meta.get('name')!r}, not {name!r}; choose another --out")
        if meta.get("version", 1) == BUILDER_VERSIONS[name]:
            return target
        shutil.rmtree(target)  # built by an older askrl builder: rebuild
    if target.exists() and any(target.iterdir()):
        raise ModelPrepError(f"{target} exists, is not empty and holds no prepared model; remove it or choose another --out")
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _BUILDERS[name](staging)
        meta = json.loads((staging / MARKER).read_text())
        (staging / MARKER).write_text(json.dumps({**meta, "version": BUILDER_VERSIONS[name]}))
        if target.exists():
            target.rmdir()
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
