"""askrl's benchmarks: the engines behind ``scripts/bench_*.py``, each printing figures and ratios, never asserting.

Modules: ``judge`` (judge-client throughput against a scripted server, ``scripts/bench_judge.py``), ``build``
(data-build throughput, ``scripts/bench_build.py``), ``rollout`` (the rollout phase through VERL's agent-loop
machinery against its bound, ``scripts/bench_rollout.py``), ``bound`` (pure arithmetic: chain and capacity bounds,
policy idle time), ``trainer_modes`` (seconds per step of VERL's trainer modes), ``vllm_metrics`` (a vLLM server's
Prometheus counters). The scripted servers they run against live in ``askrl.testing``. Importing this package
imports nothing heavy; ``rollout`` and ``trainer_modes`` import VERL.
"""
