#!/usr/bin/env bash
# Start vLLM judge servers and wait until healthy; all arguments go to `python -m askrl.serve judge`.
#   bash scripts/serve_judge.sh --model /models/Qwen3-30B-A3B-Instruct-2507 --gpus 0,1 --ports 8012,8013
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="$root/.venv/bin/python"; [ -x "$py" ] || py=python
exec "$py" -m askrl.serve judge "$@"
