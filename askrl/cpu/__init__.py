"""VERL's real trainer on a CPU-only host: a VERL platform plugin and an HF-generate rollout backend.

Imported only when the CPU backend is selected (``profile=cpu``, i.e. ``VERL_PLATFORM=cpu``):
- :mod:`askrl.cpu.platform`: VERL platform ``cpu`` (gloo, a device-module shim from :mod:`askrl.cpu.device`);
- :mod:`askrl.cpu.generation`: batched HF generation with vLLM sampling semantics (pure torch/transformers);
- :mod:`askrl.cpu.server`: the ``hf_cpu`` Ray actor that batches concurrent generate calls and takes weight updates;
- :mod:`askrl.cpu.replica`: VERL's replica and trainer-side adapter for ``hf_cpu``;
- :mod:`askrl.cpu.env`: the environment every Ray worker needs.

``askrl.plugins`` does the registrations; this package only defines the pieces.
"""

from __future__ import annotations

#: VERL rollout name of the CPU backend (``actor_rollout_ref.rollout.name``).
ROLLOUT_NAME = "hf_cpu"
#: VERL platform name (``VERL_PLATFORM``).
PLATFORM_NAME = "cpu"
