"""Test doubles for the one edge askrl cannot run here: OpenAI-compatible servers scripted on loopback.

Who uses it: the test suite (``tests/conftest.py``'s ``judge_server`` fixture), the benchmarks (``askrl.bench``,
``scripts/bench_*.py``) and the CPU demos of the README. Production code never imports it. Modules:
``scripted_server`` (real HTTP on 127.0.0.1, with latency and fault injection; ``python -m
askrl.testing.scripted_server``), ``scripted_roles`` (how it answers as judge, simulated user and policy),
``scripted_generator`` (how it answers the data builder's steps), ``policy_server`` (a latency-modelled policy
server for the rollout benchmark). It sits at the top of the import order: it may import anything in askrl,
``reward`` and ``eval_hooks``; nothing below it imports it.
"""
