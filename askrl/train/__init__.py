"""Training entry point: compose VERL's trainer config with askrl's defaults, a recipe and a hardware profile, then
run VERL's real PPO/GRPO trainer.

    python -m askrl.train recipe=smoke profile=cpu                       # 2 GRPO steps on CPU, tiny model
    python -m askrl.train recipe=smoke profile=cpu askrl.cpu_model=smollm2
    python -m askrl.train recipe=smoke profile=cpu askrl.dry_run=true    # print the resolved config, exit
    python -m askrl.train recipe=askmind_grpo                            # the main job (CPU profile without a GPU)

Composition (Hydra compose API; see ``askrl/config/askrl.yaml``): VERL's ``ppo_trainer`` (``pkg://verl.trainer.config``)
-> ``askrl:`` defaults -> ``recipe=NAME`` (``recipes/NAME.yaml`` at the repo root, registered as Hydra group
``recipe``) -> ``profile=NAME`` (``askrl/config/profile/NAME.yaml``) -> command-line overrides (keys outside VERL's
schema need ``+``). askrl's resolvers (``${askrl.model:NAME}``, ``${askrl.smoke_data:SPLIT}``) run here, in the
driver, because VERL resolves the config again inside Ray where they are not registered.

Before launch (``askrl.train.run_setup``): no GPU and no ``profile=`` given -> ``profile=cpu`` with a notice; on CPU the
recipe's LLM judge becomes the lexical judge and hub data becomes generated demo data unless the command line (or
``$ASKRL_DATA_DIR``) says otherwise; ``askrl.task`` recipes get their parquet prepared from ``askrl.data`` (cached)
and askrl's agent loops; wandb without credentials logs offline. After VERL's validation, ``askrl.train.preflight`` checks
data, model, judge endpoints and GPU count and fails with one line per problem, before Ray starts.

Launch mirrors ``verl.trainer.main_ppo.main``: platform setup (``askrl.platform=cpu`` exports the CPU backend's
environment to this process and, through ``ray_kwargs.ray_init.runtime_env.env_vars``, to every Ray worker), VERL's
``auto_set_device`` and ``validate_config``, then ``run_ppo`` with :mod:`askrl.trainer.task_runner`'s TaskRunner.

Fails with exit code 2 and a one-line message for an :class:`askrl.errors.AskrlError` (unknown recipe, bad
``askrl.*`` value); errors inside VERL or Ray propagate with their traceback.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from pathlib import Path

from hydra import compose as hydra_compose
from hydra import initialize_config_module
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from askrl.config.settings import AskrlSettings
from askrl.errors import AskrlError, ConfigError
from askrl.train.run_setup import (
    announce_reward,
    apply_cpu_fallbacks,
    auto_profile,
    require_data_source,
    setup_wandb,
    wire_task,
)

logger = logging.getLogger(__name__)

CONFIG_MODULE = "askrl.config"
PRIMARY_CONFIG = "askrl"
RECIPES_DIR = Path(__file__).resolve().parents[2] / "recipes"
_PACKAGE_HEADER = "# @package "


def _model_path(name: str) -> str:
    from askrl.models import MODEL_NAMES, prepare

    if name not in MODEL_NAMES:
        raise ConfigError(
            f"askrl.cpu_model={name!r} is not an offline model; use one of {list(MODEL_NAMES)} "
            "or set actor_rollout_ref.model.path=/path/to/hf_model"
        )
    return str(prepare(name))


def _smoke_data(split: str) -> str:
    from askrl.data.smoke import ensure_data

    return ensure_data(split)  # type: ignore[arg-type]  # ensure_data validates the split


def register_resolvers() -> None:
    """Register askrl's OmegaConf resolvers (idempotent)."""
    OmegaConf.register_new_resolver("askrl.model", _model_path, replace=True)
    OmegaConf.register_new_resolver("askrl.smoke_data", _smoke_data, replace=True)


def register_recipes(directory: Path = RECIPES_DIR) -> list[str]:
    """Register every ``directory/*.yaml`` as option of the Hydra group ``recipe``; return the names.

    The recipes live at the repository root, outside the config package, so they are added through Hydra's
    ConfigStore (which is on every search path) under the group name users type (``recipe=NAME``). A file's
    ``# @package`` header is honoured, as Hydra would for a file on the search path.
    """
    store = ConfigStore.instance()
    names = []
    for path in sorted(directory.glob("*.yaml")):
        text = path.read_text()
        package = None
        for line in text.splitlines():
            if line.startswith(_PACKAGE_HEADER):
                package = line[len(_PACKAGE_HEADER) :].strip()
                break
        store.store(group="recipe", name=path.stem, node=OmegaConf.create(text), package=package)
        names.append(path.stem)
    return names


def compose(overrides: list[str]) -> DictConfig:
    """Compose the full config for ``overrides`` (Hydra syntax); nothing is resolved yet."""
    register_resolvers()
    recipes = register_recipes()
    chosen = [o.split("=", 1)[1] for o in overrides if o.startswith("recipe=")]
    if chosen and chosen[-1] not in recipes:
        raise ConfigError(f"unknown recipe {chosen[-1]!r}; recipes in {RECIPES_DIR}: {recipes}")
    with initialize_config_module(config_module=CONFIG_MODULE, version_base=None):
        return hydra_compose(config_name=PRIMARY_CONFIG, overrides=overrides)


def _private_ray_dir() -> str:
    # Short on purpose: Ray puts unix sockets under it, and socket paths must stay below 108 bytes.
    return tempfile.mkdtemp(prefix="askrl-ray-", dir="/tmp")


def prepare(cfg: DictConfig, settings: AskrlSettings) -> dict[str, str]:
    """Set up this process for the run and fill the launch-time config values; return the env for Ray workers.

    - ``trainer.default_local_dir`` becomes absolute (VERL uses it as-is inside Ray actors).
    - ``askrl.platform=cpu``: the CPU backend's env vars (:func:`askrl.cpu.env.cpu_env_vars`) go into
      ``os.environ`` (this process imports VERL's platform from them) and ``askrl.plugins`` registers the backend.
    - ``ASKRL_LOG_LEVEL`` carries ``askrl.log_level`` to the workers.
    """
    from askrl import _verl, plugins
    from askrl.plugins import ASKRL_LOG_LEVEL

    env = {ASKRL_LOG_LEVEL: settings.log_level}
    with open_dict(cfg):
        local_dir = cfg.trainer.default_local_dir
        cfg.trainer.default_local_dir = str(Path(local_dir).expanduser().absolute())
        if settings.platform == "cpu":
            from askrl.cpu.env import cpu_env_vars

            env.update(cpu_env_vars(os.environ))
        env.update(setup_wandb(cfg))
        runtime_env = cfg.ray_kwargs.ray_init.runtime_env
        runtime_env.env_vars = {**(runtime_env.get("env_vars") or {}), **env}
    os.environ.update(env)
    current = _verl.platform_manager._current_platform
    if settings.platform is not None and current is not None and current.device_name != settings.platform:
        raise ConfigError(
            f"VERL chose platform {current.device_name!r} before askrl could select {settings.platform!r}; "
            "something imported and used VERL's platform too early in this process"
        )
    plugins.register()
    return env


def validate(cfg: DictConfig) -> None:
    """VERL's own checks (as ``verl.trainer.main_ppo.main``), then resolve every interpolation here."""
    from askrl import _verl

    _verl.auto_set_device(cfg)
    _verl.validate_config(
        config=cfg,
        use_reference_policy=_verl.need_reference_policy(cfg),
        use_critic=_verl.need_critic(cfg),
    )
    OmegaConf.resolve(cfg)


def launch(cfg: DictConfig, settings: AskrlSettings) -> None:
    """Start Ray (VERL's ``run_ppo`` does ``ray.init(**ray_kwargs.ray_init)``) and run the trainer to the end.

    On CPU an unset ``ray_kwargs.ray_init._temp_dir`` gets a fresh private dir first.
    """
    import ray

    from askrl import _verl
    from askrl.trainer.task_runner import task_runner_class

    if settings.platform == "cpu" and cfg.ray_kwargs.ray_init.get("_temp_dir") is None:
        with open_dict(cfg):
            cfg.ray_kwargs.ray_init._temp_dir = _private_ray_dir()
    logger.info("launching VERL trainer; Ray temp dir %s", cfg.ray_kwargs.ray_init.get("_temp_dir"))
    try:
        _verl.run_ppo(cfg, task_runner_class=task_runner_class())
    finally:
        if ray.is_initialized():
            ray.shutdown()


def _askrl_cause(err: BaseException) -> AskrlError | None:
    """The AskrlError behind ``err``, if any (OmegaConf re-raises resolver errors as its own type)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, AskrlError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def run(overrides: list[str]) -> DictConfig:
    """Compose, prepare, validate and (unless ``askrl.dry_run``) launch; return the resolved config."""
    overrides = auto_profile(overrides)
    cfg = compose(overrides)
    apply_cpu_fallbacks(cfg, overrides)
    require_data_source(cfg)
    settings = AskrlSettings.from_config(cfg)
    logging.getLogger("askrl").setLevel(settings.log_level)
    wire_task(cfg, settings)
    announce_reward(settings)
    prepare(cfg, settings)
    try:
        # VERL prints its validation notes to stdout; keep stdout for the dry run's YAML.
        with contextlib.redirect_stdout(sys.stderr):
            validate(cfg)
    except OmegaConfBaseException as err:
        cause = _askrl_cause(err)
        if cause is None:
            raise
        raise cause from err
    if settings.preflight:
        from askrl.train.preflight import run_preflight

        run_preflight(cfg, settings)
    if settings.dry_run:
        sys.stdout.write(OmegaConf.to_yaml(cfg))
        return cfg
    launch(cfg, settings)
    return cfg


def print_config(args: list[str]) -> None:
    """Hydra's ``--cfg job`` (and ``--resolve``): print the composed job config and exit, without preparing anything.

    The entry point composes with Hydra's compose API (recipes live outside the config package), so it handles
    Hydra's two printing flags itself; ``--cfg hydra`` / ``all`` are refused because there is no Hydra job here.
    """
    resolve = "--resolve" in args
    args = [a for a in args if a != "--resolve"]
    position = args.index("--cfg")
    if position + 1 >= len(args) or args[position + 1] != "job":
        raise ConfigError("only `--cfg job` is supported (optionally with --resolve); use askrl.dry_run=true to see "
                          "the config after askrl's preparation and VERL's validation")
    overrides = args[:position] + args[position + 2 :]
    cfg = compose(auto_profile(overrides))
    sys.stdout.write(OmegaConf.to_yaml(cfg, resolve=resolve))


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(asctime)s %(name)s: %(message)s")
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if "--cfg" in args:
            print_config(args)
            return
        run(args)
    except AskrlError as err:
        sys.stderr.write(f"askrl.train: {err}\n")
        raise SystemExit(2) from None

