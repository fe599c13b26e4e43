"""Rollout-phase benchmark: a thin wrapper over ``askrl.bench.rollout.main`` (see its docstring).

.venv/bin/python scripts/bench_rollout.py --prompts 32 --group 8 --judge-median-ms 200 [--prompt-version v1]
"""

from __future__ import annotations

from askrl.bench.rollout import main

if __name__ == "__main__":
    main()
