"""Seconds per CPU training step, sync vs colocate_async: a thin wrapper over ``askrl.bench.trainer_modes.main``.

flock /tmp/askrl-heavy.lock timeout 1500 .venv/bin/python scripts/bench_trainer_modes.py --judge-latency-ms 300
"""

from __future__ import annotations

from askrl.bench.trainer_modes import main

if __name__ == "__main__":
    main()
