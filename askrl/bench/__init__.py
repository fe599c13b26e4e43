"""Benchmarks of askrl's training loop that need more than one module: the rollout phase against its bound.

Modules: ``bound`` (pure arithmetic: chain and capacity bounds, policy idle time), ``policy_server`` (a scripted,
latency-modelled policy server), ``rollout`` (the driver behind ``scripts/bench_rollout.py``). Importing this
package imports nothing heavy; ``rollout`` imports VERL.
"""
