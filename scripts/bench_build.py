"""Data-build throughput benchmark: a thin wrapper over ``askrl.bench.build.main`` (see its docstring).

.venv/bin/python scripts/bench_build.py --items 1000 --latency-ms 200 --concurrency 128 --llm-concurrency 64
"""

from __future__ import annotations

from askrl.bench.build import main

if __name__ == "__main__":
    main()
