"""Preflight: catch what would fail minutes into a GPU job before Ray starts, one line per problem with the fix.

Checks (each a small function returning problem lines, so tests can drive them one by one):
- the data files exist and validate (askrl rows for AskMind/AskOverconfidence recipes);
- every judge endpoint answers ``GET /v1/models`` and serves the named model (skipped for the lexical judge), and a
  vLLM endpoint asked for ``json_schema`` output accepts each schema the judge sends (``askrl/judge/structured.py``);
- the model path has weights and a tokenizer with a chat template;
- VERL's ``data.filter_overlong_prompts`` would not drop every row, or every clear row (``extra_info.clear``), or
  every other row, of a data file: a set trained on one kind alone teaches the wrong thing (at a 64-token limit the
  learning benchmark's clear twins, 5 tokens longer than their items, were all dropped and the policy learned to
  ask everywhere); a smaller share dropped is logged as a warning;
- the GPU count the config asks for fits this machine (single-node only; a CPU profile has nothing to check);
- a driver that joins a running Ray cluster (``ray_kwargs.ray_init.address``, multi-node) passes no resources;
- checkpoint evaluation (``askrl.eval``): its own judge endpoints answer, its local suite data exists, the GPUs it
  sets aside stay out of Ray's pool, and the ``rollout`` backend is not asked of a trainer without rollout servers;
- ``trainer.checkpoint_callback_class`` imports (a path from before the callbacks moved to ``eval_hooks/checkpoint/``
  is named with the new one).

``run_preflight`` collects all problems and raises ``PreflightError`` with every line; it never starts Ray.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from askrl.env_vars import ASKRL_DATA_DIR
from askrl.errors import AskrlError
from askrl.judge.probe import check_judge_endpoints, check_judge_schemas

WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pt")

logger = logging.getLogger(__name__)


class PreflightError(AskrlError):
    """One or more preflight checks failed; ``problems`` holds one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("preflight failed:\n" + "\n".join(f"  - {p}" for p in problems))


def _as_list(files: str | Iterable[str] | None) -> list[str]:
    if files is None:
        return []
    return [files] if isinstance(files, str) else [str(f) for f in files]


def check_data(key: str, files: str | Iterable[str] | None, *, mode: str | None) -> list[str]:
    """``key`` (e.g. ``data.train_files``) must name existing files; with ``mode`` set, their rows must validate."""
    from askrl.data.row_checks import check_rows

    paths = _as_list(files)
    if not paths:
        return [f"{key} is empty: set it to your parquet file(s) (python -m askrl.data prepare writes them)"]
    problems = []
    for path in paths:
        if not Path(path).is_file():
            problems.append(f"{key}: {path} does not exist (python -m askrl.data prepare --out DIR writes DIR/train.parquet)")
        elif mode is not None:
            try:
                check_rows(path, mode)
            except AskrlError as err:
                problems.extend(f"{key}: {line}" for line in str(err).splitlines())
    return problems


def check_model(key: str, path: str) -> list[str]:
    """A local model dir needs a config, weights and a tokenizer with a chat template; a hub id needs a tokenizer."""
    local = Path(path).expanduser()
    if local.is_dir():
        problems = []
        if not (local / "config.json").is_file():
            problems.append(f"{key}: {local} has no config.json (not a HuggingFace model directory)")
        if not any(next(local.glob(p), None) for p in WEIGHT_PATTERNS):
            problems.append(f"{key}: {local} has no weights (*.safetensors or *.bin)")
        if problems:
            return problems
    elif path.startswith(("/", ".", "~")):
        return [f"{key}: {path} does not exist"]
    try:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(local) if local.is_dir() else path)
    except Exception as err:  # transformers raises OSError, ValueError, HF hub errors...
        return [f"{key}: cannot load a tokenizer from {path} ({type(err).__name__}: {str(err).splitlines()[0][:160]})"]
    if not tokenizer.chat_template:
        return [f"{key}: the tokenizer of {path} has no chat template; use an instruct model or add one"]
    return []


def prompt_lengths(prompts: Iterable[Iterable[dict]], *, model_path: str | Path,
                   chat_template_kwargs: dict | None = None) -> list[int]:
    """Each prompt's length in tokens as VERL's dataset counts it for ``data.max_prompt_length``: the tokenizer's
    chat template with the generation prompt, no special tokens added."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(Path(model_path).expanduser()))
    texts = [tokenizer.apply_chat_template([dict(m) for m in prompt], add_generation_prompt=True, tokenize=False,
                                           **(chat_template_kwargs or {})) for prompt in prompts]
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def check_prompt_lengths(key: str, files: str | Iterable[str] | None, *, model_path: str, max_prompt_length: int,
                         prompt_key: str = "prompt", chat_template_kwargs: dict | None = None) -> list[str]:
    """What ``data.filter_overlong_prompts`` would drop from each file of ``key``, counted as VERL's dataset counts
    (the tokenizer's chat template with the generation prompt): a problem line when it is every row, every clear row
    or every other row; a warning in the log when it is some. Call after ``check_data`` and ``check_model`` pass."""
    problems = []
    for path in _as_list(files):
        frame = pd.read_parquet(path)
        if prompt_key not in frame.columns:
            continue  # check_data reports a missing prompt column
        lengths = prompt_lengths(frame[prompt_key], model_path=model_path, chat_template_kwargs=chat_template_kwargs)
        extras = frame["extra_info"] if "extra_info" in frame.columns else [None] * len(frame)
        clear = [isinstance(e, dict) and e.get("clear") is True for e in extras]
        over = [n > max_prompt_length for n in lengths]
        if not any(over):
            continue
        summary = (f"{key}: {path}: {sum(over)} of {len(over)} prompts are longer than data.max_prompt_length="
                   f"{max_prompt_length} tokens (longest {max(lengths)}, chat template included), and VERL's "
                   f"data.filter_overlong_prompts drops them")
        for kind, rows in (("every row", [True] * len(over)), ("every clear row (extra_info.clear)", clear),
                           ("every row that is not clear", [not c for c in clear])):
            if any(rows) and all(o for o, r in zip(over, rows, strict=True) if r):
                problems.append(f"{summary}: {kind}; raise data.max_prompt_length to {max(lengths)}")
                break
        else:
            logger.warning("%s", summary)
    return problems


def check_gpus(needed: int, nnodes: int, device: str, available: int | None = None) -> list[str]:
    """On one node, the trainer's ``n_gpus_per_node`` must not exceed the GPUs this machine has."""
    if device == "cpu" or nnodes != 1:
        return []
    if available is None:
        import torch

        available = torch.cuda.device_count()
    if needed > available:
        return [f"trainer.n_gpus_per_node={needed} but this machine has {available} GPU(s); lower it, or run with "
                f"profile=cpu on a machine without GPUs"]
    return []


def joins_cluster(ray_init: dict) -> bool:
    """Whether ``ray.init`` joins a running cluster at an explicit address (``HOST:PORT`` or ``auto``, multi-node)."""
    return ray_init.get("address") not in (None, "local")


def check_ray_init(ray_init: dict) -> list[str]:
    """A driver joining a running cluster may not declare resources: Ray refuses them after minutes of set-up."""
    if not joins_cluster(ray_init):
        return []
    given = [key for key in ("num_cpus", "num_gpus") if ray_init.get(key) is not None]
    if not given:
        return []
    return [f"ray_kwargs.ray_init.address={ray_init['address']} joins a running Ray cluster, whose resources each node "
            f"declares (ray start --num-cpus/--num-gpus): set " + " ".join(f"ray_kwargs.ray_init.{k}=null" for k in given)]


def check_overlong(reward_block: dict, response_length: int) -> list[str]:
    """An enabled overlong penalty's buffer must fit the response budget (else every agent loop would refuse)."""
    from reward.config import RewardConfig
    from reward.overlong import check_fits

    try:
        check_fits(RewardConfig.model_validate(reward_block).overlong, response_length)
    except AskrlError as err:
        return [str(err)]
    return []


def check_eval(cfg, settings) -> list[str]:  # noqa: ANN001  (DictConfig, AskrlSettings, as run_preflight)
    """``askrl.eval`` problems that would otherwise surface as a failed evaluation at the first checkpoint."""
    from eval_hooks.checkpoint.config import judge_cli_args
    from eval_hooks.suites import data_files, get_suite

    ev = settings.eval
    if not ev.suites:
        return []
    problems = []
    if ev.judge.urls:
        args = judge_cli_args(ev.judge, settings.judge)
        model = args[args.index("--judge-model") + 1] if "--judge-model" in args else "default"
        problems += [p.replace("askrl.judge.client.endpoints", "askrl.eval.judge.urls")
                     for p in check_judge_endpoints((url, model, None) for url in ev.judge.urls)]  # fmt: skip
    data_dir = ev.data_dir or os.environ.get(ASKRL_DATA_DIR)
    if data_dir:  # without one the suites come from the hub, which is only reached when evaluating
        for suite in ev.suites:
            try:
                data_files(get_suite(suite.name), data_dir)
            except AskrlError as err:
                problems.append(f"askrl.eval.suites: {suite.name}: {err}; fix askrl.eval.data_dir or $ASKRL_DATA_DIR")
    backend = ev.resolved_backend()
    ray_init = OmegaConf.to_container(cfg.ray_kwargs.ray_init)
    # On a joined cluster the driver node's `ray start --num-gpus` keeps the evaluation GPUs out of Ray (README).
    if backend == "serve" and ev.gpus is not None and not joins_cluster(ray_init):
        ids = [int(i) for i in ev.gpus.split(",")]
        ray_gpus = OmegaConf.select(cfg, "ray_kwargs.ray_init.num_gpus")
        if ray_gpus is None:
            problems.append(f"askrl.eval.gpus={ev.gpus} sets GPUs aside for evaluation, but Ray may schedule on "
                            f"them: set +ray_kwargs.ray_init.num_gpus=N (Ray then uses GPU ids 0..N-1)")
        elif min(ids) < int(ray_gpus):
            problems.append(f"askrl.eval.gpus={ev.gpus} overlaps Ray's GPUs 0..{int(ray_gpus) - 1} "
                            f"(ray_kwargs.ray_init.num_gpus={ray_gpus}): pick ids from {int(ray_gpus)} up")
    if backend == "rollout" and OmegaConf.select(cfg, "trainer.v1.trainer_mode") == "separate_async":
        problems.append("askrl.eval.backend=rollout evaluates the trainer's rollout servers, which separate_async "
                        "keeps apart from the actor's weights: use askrl.eval.backend=serve (askrl.eval.gpus=...)")
    return problems


#: Where askrl's checkpoint callbacks lived before ``eval_hooks/checkpoint/`` (a recipe may still name them).
MOVED_CALLBACKS = {
    "eval_hooks.checkpoint_callback.CheckpointEvalCallback": "eval_hooks.checkpoint.callback.CheckpointEvalCallback",
    "eval_hooks.provenance.ProvenanceCallback": "eval_hooks.checkpoint.provenance.ProvenanceCallback",
}


def check_checkpoint_callback(path: str | None) -> list[str]:
    """``trainer.checkpoint_callback_class`` must import: VERL would only try after Ray and the workers are up."""
    if not path:
        return []
    if path in MOVED_CALLBACKS:
        return [f"trainer.checkpoint_callback_class={path}: askrl's callback moved; use {MOVED_CALLBACKS[path]}"]
    import importlib

    module, _, name = path.rpartition(".")
    try:
        found = hasattr(importlib.import_module(module), name) if module else False
    except ImportError as err:
        return [f"trainer.checkpoint_callback_class={path}: cannot import {module} ({err})"]
    return [] if found else [f"trainer.checkpoint_callback_class={path}: {module or path!r} has no {name or path!r}"]


def run_preflight(cfg, settings) -> None:  # noqa: ANN001  (DictConfig, AskrlSettings: imported lazily by callers)
    """Every check for a resolved training config; raise ``PreflightError`` listing all problems at once."""
    from askrl.judge.config import JudgeConfig

    mode = settings.mode if settings.task is not None else None
    problems = check_data("data.train_files", cfg.data.train_files, mode=mode)
    if cfg.trainer.get("val_before_train") or (cfg.trainer.get("test_freq") or 0) > 0:
        problems += check_data("data.val_files", cfg.data.val_files, mode=mode)
    problems += check_model("actor_rollout_ref.model.path", str(cfg.actor_rollout_ref.model.path))
    if not problems and cfg.data.get("filter_overlong_prompts", True):
        template_kwargs = cfg.data.get("apply_chat_template_kwargs")
        problems += check_prompt_lengths(
            "data.train_files", cfg.data.train_files, model_path=str(cfg.actor_rollout_ref.model.path),
            max_prompt_length=int(cfg.data.max_prompt_length), prompt_key=str(cfg.data.get("prompt_key", "prompt")),
            chat_template_kwargs=OmegaConf.to_container(template_kwargs) if template_kwargs is not None else None)
    problems += check_overlong(settings.reward, int(cfg.actor_rollout_ref.rollout.response_length))
    if settings.task is not None:
        judge = JudgeConfig.model_validate(settings.judge)
        if judge.backend == "llm" and judge.client is not None:
            problems += check_judge_endpoints((e.base_url, e.model, e.api_key_env) for e in judge.client.endpoints)
            problems += check_judge_schemas(((e.base_url, e.model, e.api_key_env, e.response_format)
                                             for e in judge.client.endpoints), judge.prompt_version)
    problems += check_gpus(int(cfg.trainer.n_gpus_per_node), int(cfg.trainer.nnodes), str(cfg.trainer.device))
    problems += check_ray_init(OmegaConf.to_container(cfg.ray_kwargs.ray_init))
    problems += check_eval(cfg, settings)
    problems += check_checkpoint_callback(cfg.trainer.get("checkpoint_callback_class"))
    if problems:
        raise PreflightError(problems)
