"""Serve models over the OpenAI API: the judge (vLLM servers on GPUs) and a model under evaluation.

    python -m askrl.serve judge --model Qwen/Qwen3-30B-A3B-Instruct-2507 --gpus 0-3 --ports 8012,8013,8014,8015
    python -m askrl.serve model --path checkpoints/merged/global_step_20 --port 8000 [--served-name default]

``judge`` (``judge.py``) starts one vLLM server per GPU group and waits until all are healthy. ``model``
(``model.py``) serves one HF model folder: vLLM's OpenAI server when vLLM is importable, else askrl's small
transformers server (``hf_server.py``) that batches concurrent requests (the CPU path of tests and demos).
"""

from __future__ import annotations

import argparse

from askrl.serve.judge import ServerSpec, is_healthy, parse_gpus, plan_servers, vllm_command, wait_healthy

__all__ = ["ServerSpec", "is_healthy", "main", "parse_gpus", "plan_servers", "vllm_command", "wait_healthy"]


def main(argv: list[str] | None = None) -> int:
    from askrl.serve import judge, model

    parser = argparse.ArgumentParser(prog="python -m askrl.serve", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    judge.add_parser(sub)
    model.add_parser(sub)
    args = parser.parse_args(argv)
    return int(args.run(args))
