"""Judge client throughput benchmark: a thin wrapper over ``askrl.bench.judge.main`` (see its docstring).

.venv/bin/python scripts/bench_judge.py --calls 2000 --latency-ms 200 --concurrency 64
"""

from __future__ import annotations

from askrl.bench.judge import main

if __name__ == "__main__":
    main()
