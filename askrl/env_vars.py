"""Every environment variable askrl reads, in one place, with its default and why it exists."""

from __future__ import annotations

import os
from pathlib import Path

#: Root of askrl's caches (prepared models, judge cache, Ray temp dirs). Default ``~/.cache/askrl``.
ASKRL_HOME = "ASKRL_HOME"
#: Set to 1 to skip preparing SmolLM2 in ``scripts/setup.sh`` (tests that need it then skip).
ASKRL_SKIP_SMOLLM2 = "ASKRL_SKIP_SMOLLM2"
#: Folder holding the AskBench data (``ask_bench/``, ``common/``); when unset the hub dataset is used.
ASKRL_DATA_DIR = "ASKRL_DATA_DIR"
#: The Python that runs vLLM's OpenAI server (default: ``.venv-vllm/bin/python`` when present, see
#: ``askrl/serve/vllm_env.py``); lets a CPU machine keep vLLM's CPU build out of askrl's own venv.
ASKRL_VLLM_PYTHON = "ASKRL_VLLM_PYTHON"


def askrl_home() -> Path:
    """The cache root, created on first use."""
    home = Path(os.environ.get(ASKRL_HOME) or Path.home() / ".cache" / "askrl")
    home.mkdir(parents=True, exist_ok=True)
    return home


def models_dir() -> Path:
    """Where ``askrl.models prepare`` puts models when ``--out`` is not given."""
    path = askrl_home() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path
