"""Merge, serve, evaluate and export one FSDP checkpoint, without a training run.

The checkpoint is made the way VERL's FSDP2 checkpoint manager makes one (a subprocess: gloo process group of one
rank, ``fully_shard``, the DTensor state dict saved as ``model_world_size_1_rank_0.pt`` beside ``fsdp_config.json``
and ``huggingface/``), from the tiny model with its weights perturbed so that the checkpoint differs from the base.
What runs for real: VERL's merger, ``python -m askrl.serve model`` (the CPU server), ``python -m eval_hooks.run``
against the scripted judge, and ``askrl.export``'s verification (with a negative control: a corrupted weight).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from askrl.errors import ConfigError
from eval_hooks.checkpoint.config import EvalSettings
from eval_hooks.checkpoint.evaluate import EvalPlan, serve_and_evaluate
from eval_hooks.checkpoint.worker import EvalJob

_MAKE_SHARDS = r"""
import json, os, sys
from pathlib import Path
import torch, torch.distributed as dist
from torch.distributed.fsdp import fully_shard
from transformers import AutoModelForCausalLM, AutoTokenizer
model_dir, actor = Path(sys.argv[1]), Path(sys.argv[2])
os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=sys.argv[3], RANK="0", WORLD_SIZE="1")
dist.init_process_group("gloo", rank=0, world_size=1)
torch.manual_seed(0)
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
with torch.no_grad():
    for p in model.parameters():
        p.add_(float(sys.argv[4]) * torch.randn_like(p))
from torch.distributed.device_mesh import init_device_mesh
fully_shard(model, mesh=init_device_mesh("cpu", (1,), mesh_dim_names=("fsdp",)))
actor.mkdir(parents=True)
torch.save(model.state_dict(), actor / "model_world_size_1_rank_0.pt")
(actor / "fsdp_config.json").write_text(json.dumps({"FSDP_version": 2, "world_size": 1}))
hf = actor / "huggingface"
model.config.save_pretrained(hf)
model.generation_config.save_pretrained(hf)
AutoTokenizer.from_pretrained(model_dir).save_pretrained(hf)
dist.destroy_process_group()
"""


def make_run(run: Path, model: Path, noise: float) -> Path:
    """A run dir holding one FSDP checkpoint (step 4) of ``model`` with ``noise`` x N(0, 1) added to every weight."""
    from eval_hooks.checkpoint.evaluate import free_port

    actor = run / "global_step_4" / "actor"
    subprocess.run([sys.executable, "-c", _MAKE_SHARDS, str(model), str(actor), str(free_port()), str(noise)],
                   check=True, timeout=300, capture_output=True)
    (run / "latest_checkpointed_iteration.txt").write_text("4")
    return run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Path:
    return make_run(tmp_path_factory.mktemp("run"), tiny_model, 0.02)


def test_export_matches_the_actor_and_a_corrupted_weight_is_caught(run_dir: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    from askrl.export import export
    from askrl.export.verify import ExportError, compare_greedy

    out = tmp_path / "export"
    summary = export(run_dir, out, check_vllm=False)
    assert summary["step"] == 4 and summary["max_logit_gap"] <= 1e-3
    for name in ("config.json", "generation_config.json", "tokenizer_config.json", "README.md"):
        assert (out / name).is_file(), name
    card = (out / "README.md").read_text()
    assert "at step 4" in card and "No evaluation of this step" in card

    weights = next(out.glob("*.safetensors"))
    tensors = load_file(weights)
    key = next(k for k in tensors if k.endswith("mlp.down_proj.weight"))
    tensors[key] = tensors[key] + 0.05
    save_file(tensors, weights, metadata={"format": "pt"})
    with pytest.raises(ExportError, match="differ"):
        compare_greedy(out, run_dir / "global_step_4" / "actor")


@pytest.mark.slow
def test_export_vllm_check_serves_smollm2_and_fails_a_corrupted_export(smollm2_model: Path, tmp_path: Path) -> None:
    """The export's vLLM check for real: ``askrl.serve model`` on vLLM's CPU build answers the 4 fixed prompts with
    the actor's greedy tokens (16 each); after one weight of the export is negated, the same check fails."""
    from safetensors.torch import load_file, save_file

    from askrl.export import export
    from askrl.export.verify import NEW_TOKENS, PROMPTS, ExportError, vllm_check
    from askrl.serve.vllm_env import vllm_python

    if vllm_python() is None:
        pytest.skip("no vLLM here: run `make vllm` (CPU) or set ASKRL_VLLM_PYTHON")
    run = make_run(tmp_path / "run", smollm2_model, 0.002)  # SmolLM2, still fluent, but not the base weights
    out = tmp_path / "export"
    summary = export(run, out)
    assert summary["vllm"]["served"] and summary["vllm"]["prompts"] == len(PROMPTS) == 4
    assert summary["vllm"]["new_tokens"] == NEW_TOKENS == 16
    assert summary["vllm"]["text"] == summary["greedy"]  # vLLM's answer to the first prompt is transformers'

    weights = next(out.glob("*.safetensors"))
    tensors = load_file(weights)
    key = next(k for k in tensors if k.endswith("layers.0.mlp.down_proj.weight"))
    tensors[key] = -tensors[key]
    save_file(tensors, weights, metadata={"format": "pt"})
    with pytest.raises(ExportError, match="vLLM's greedy answer differs from the actor checkpoint's"):
        vllm_check(out, {"answers": summary["vllm"]["answers"]})  # the answers the check just accepted


def test_choosing_a_checkpoint_names_the_problem(run_dir: Path, tmp_path: Path) -> None:
    from askrl.export import choose_step

    assert choose_step(run_dir, None) == 4
    with pytest.raises(ConfigError, match="no actor checkpoint for step 7; checkpoints kept: \\[4\\]"):
        choose_step(run_dir, 7)
    with pytest.raises(ConfigError, match="no global_step_N/actor checkpoint"):
        choose_step(tmp_path, None)


@pytest.mark.slow  # it starts a model server (vLLM's CPU build where .venv-vllm exists): 30-40 s
def test_serve_backend_merges_serves_and_evaluates_one_checkpoint(run_dir: Path, judge_server,
                                                                  askbench_dir: Path) -> None:
    judge_server.script([{"json": {"is_final_answer": True, "is_correct": True, "all_required_points_resolved": True},
                          "repeat": 1000}])
    settings = EvalSettings.model_validate({
        "suites": [{"name": "askmind", "limit": 2}], "backend": "serve", "max_tokens": 16, "max_turns": 2,
        "judge": {"backend": "llm", "urls": [judge_server.base_url], "model": "scripted"},
        "data_dir": str(askbench_dir)})
    plan = EvalPlan.from_settings(settings, training_judge={"backend": "lexical"}, run_dir=run_dir)
    older = run_dir / "merged" / "global_step_2"
    older.mkdir(parents=True)  # an earlier evaluation's merge: pruned once step 4 is evaluated
    suites = serve_and_evaluate(plan, EvalJob(4, run_dir / "global_step_4"), threading.Event())
    assert suites["askmind"]["acc"] == 1.0 and suites["askmind"]["n"] == 2
    assert (run_dir / "merged" / "global_step_4" / "config.json").is_file() and not older.exists()
    summary = json.loads((run_dir / "eval" / "global_step_4" / "summary.json").read_text())
    assert summary["askmind"]["n"] == 2
    graded = [r for r in judge_server.requests() if r["model"] == "scripted"]
    assert graded, "the evaluation judge was never asked"
    assert_served_by_the_right_backend(run_dir / "eval" / "global_step_4" / "server.log")


def assert_served_by_the_right_backend(server_log: Path) -> None:
    """``askrl.serve model`` ran vLLM where a vLLM interpreter exists (``.venv-vllm``), else the transformers server."""
    from askrl.serve.vllm_env import vllm_python

    text = server_log.read_text(errors="replace")
    assert ("vllm.entrypoints.openai.api_server" in text) == (vllm_python() is not None), text[-2000:]


def test_export_never_deletes_files_it_did_not_write(run_dir: Path, tmp_path: Path, capsys) -> None:
    from askrl.export import MANIFEST, export

    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "thesis.tex").write_text("do not delete")
    with pytest.raises(ConfigError, match=r"holds 1 file\(s\) askrl.export did not write \(thesis.tex\)"):
        export(run_dir, precious, check_vllm=False)
    assert (precious / "thesis.tex").read_text() == "do not delete"

    out = tmp_path / "export"
    export(run_dir, out, check_vllm=False)
    (out / "my_notes.txt").write_text("mine")  # a file the user put into the model folder
    with pytest.raises(ConfigError, match=r"did not write \(my_notes.txt\)"):
        export(run_dir, out, check_vllm=False)
    assert (out / "my_notes.txt").read_text() == "mine"
    (out / "my_notes.txt").unlink()
    capsys.readouterr()
    export(run_dir, out, check_vllm=False)  # its own earlier export: replaced without --force, each file listed
    err = capsys.readouterr().err
    assert f"askrl: replaced: {out / 'README.md'}" in err and f"askrl: replaced: {out / MANIFEST}" in err

    (out / "my_notes.txt").write_text("mine")
    export(run_dir, out, check_vllm=False, force=True)
    assert f"askrl: removed: {out / 'my_notes.txt'}" in capsys.readouterr().err
    modes = {(out / name).stat().st_mode & 0o777 for name in json.loads((out / MANIFEST).read_text())["files"]}
    assert len(modes) == 1 and modes != {0o600}, modes  # the weights too, not 0600 beside 0644


def test_export_cli_prints_askrl_lines_only_and_the_card_names_the_demo_data(run_dir: Path, tmp_path: Path) -> None:
    import os
    import re
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir, run, ignore=shutil.ignore_patterns("eval", "merged", "logs"))
    step = run / "eval" / "global_step_4"
    step.mkdir(parents=True)
    config = {"suites": {"askmind": {"limit": 4, "data": {"test.jsonl": "1865dff1d615d1e3"},
                                     "files": ["/cache/eval-demo/ask_bench/ask_mind/test.jsonl"],
                                     "sources": ["askrl_demo_askmind"]}}}  # fmt: skip
    (step / "summary.json").write_text(json.dumps({"askmind": {"acc": 0.25, "n": 4}, "config": config}))
    (run / "eval" / "history.jsonl").write_text(json.dumps(
        {"global_step": 4, "status": "ok", "backend": "rollout", "wall_s": 9.0,
         "suites": {"askmind": {"acc": 0.25, "n": 4.0}}, "error": None}) + "\n")  # fmt: skip
    out = tmp_path / "export"
    proc = subprocess.run([sys.executable, "-m", "askrl.export", "--run", str(run), "--out", str(out), "--skip-vllm"],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["step"] == 4
    lines = proc.stderr.strip().splitlines()
    ours = re.compile(r"^(askrl: |WARNING \S+ \S+ askrl[.\w]*: )")  # notices and askrl's own logger
    assert lines and all(ours.match(line) for line in lines), lines  # no third-party warnings, no shard bars
    assert lines[0].startswith("askrl: the merger's, transformers' and vLLM's output go to ")
    log = Path(lines[0].split(" go to ")[1].split(" (")[0])
    assert log.is_file() and log.parent == run / "logs"
    card = (out / "README.md").read_text()
    assert "| askmind | 0.25 | 4 |" in card
    assert "askmind: **generated demo records** (`askrl_demo_askmind`" in card and "not AskBench" in card
    assert "`/cache/eval-demo/ask_bench/ask_mind/test.jsonl` (sha256 test.jsonl 1865dff1d615d1e3)" in card
