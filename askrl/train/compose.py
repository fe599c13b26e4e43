"""Stage 1, compose: the command line -> one Hydra config (recipe, hardware profile, overrides); nothing resolved.

Order (Hydra compose API; see ``askrl/config/askrl.yaml``): VERL's ``ppo_trainer`` (``pkg://verl.trainer.config``)
-> ``askrl:`` defaults -> ``recipe=NAME`` (``recipes/NAME.yaml`` at the repo root, registered as Hydra group
``recipe``) -> ``profile=NAME`` (``askrl/config/profile/NAME.yaml``) -> command-line overrides (keys outside VERL's
schema need ``+``). No GPU and no ``profile=`` given -> ``profile=cpu`` with a notice. askrl's resolvers
(``${askrl.model:NAME}``, ``${askrl.smoke_data:SPLIT}``) are registered here, in the driver, because VERL resolves
the config again inside Ray where they are not.

Errors are one line (:class:`askrl.errors.ConfigError`): an unknown recipe lists the recipes; an override of a key
that does not exist names the key and the closest valid keys; an unknown profile lists the profiles.

    composed = compose(["recipe=smoke", "trainer.total_training_steps=3"])
    composed.cfg.trainer.total_training_steps   # 3
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from hydra import compose as hydra_compose
from hydra import initialize_config_module
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from askrl.errors import ConfigError
from askrl.train.console import notice

CONFIG_MODULE = "askrl.config"
PRIMARY_CONFIG = "askrl"
RECIPES_DIR = Path(__file__).resolve().parents[2] / "recipes"
_PACKAGE_HEADER = "# @package "


@dataclass(frozen=True)
class Composed:
    """The composed (unresolved) config and the overrides it was composed from (``profile=cpu`` added if chosen)."""

    cfg: DictConfig
    overrides: list[str]


def compose(args: list[str]) -> Composed:
    """Stage 1: pick the profile, then compose recipe + profile + overrides."""
    overrides = auto_profile(args)
    return Composed(cfg=compose_config(overrides), overrides=overrides)


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


def compose_config(overrides: list[str]) -> DictConfig:
    """Compose the full config for ``overrides`` (Hydra syntax); nothing is resolved yet."""
    register_resolvers()
    recipes = register_recipes()
    chosen = [o.split("=", 1)[1] for o in overrides if o.startswith("recipe=")]
    if chosen and chosen[-1] not in recipes:
        raise ConfigError(f"unknown recipe {chosen[-1]!r}; recipes in {RECIPES_DIR}: {recipes}")
    try:
        return _hydra_compose(overrides)
    except HydraException as err:
        raise override_error(err, overrides) from None


def _hydra_compose(overrides: list[str]) -> DictConfig:
    with initialize_config_module(config_module=CONFIG_MODULE, version_base=None):
        return hydra_compose(config_name=PRIMARY_CONFIG, overrides=overrides)


_OVERRIDE_KEY = re.compile(r"Could not (?:override|append to|delete from config\.?) '([^']+)'")
_MISSING_GROUP = re.compile(r"Could not find '([^'/]+)/([^']+)'")


def override_error(err: HydraException, overrides: list[str]) -> ConfigError:
    """Hydra's multi-line composition error -> one line naming the bad key and the closest valid keys."""
    text = str(err)
    if found := _MISSING_GROUP.search(text):
        group, option = found.groups()
        options = sorted(re.findall(r"^\s*\t?([\w.-]+)\s*$", text.split("Available options:")[-1], re.M))
        return ConfigError(f"{group}={option}: no such {group}; available: {', '.join(options) or 'none'}")
    if not (found := _OVERRIDE_KEY.search(text)):
        first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
        return ConfigError(f"bad override: {first}")
    key = found.group(1)
    others = [o for o in overrides if _override_key(o) != key]
    try:
        known = config_keys(_hydra_compose(others))
    except HydraException:
        known = []
    close = closest_keys(key, known)
    hint = f"closest valid keys: {', '.join(close)}" if close else "no similar key exists"
    return ConfigError(f"unknown config key {key!r} in override {_override_for(key, overrides)!r}; {hint} "
                       f"(prefix with + to add a new key)")


def _override_key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _override_for(key: str, overrides: list[str]) -> str:
    return next((o for o in overrides if _override_key(o) == key), key)


def config_keys(cfg: DictConfig, prefix: str = "") -> list[str]:
    """Every dotted key of ``cfg`` (nested mappings included), without resolving interpolations."""
    keys = []
    for name in cfg.keys():
        key = f"{prefix}{name}"
        keys.append(key)
        node = cfg._get_node(name)  # the raw node: no interpolation is resolved
        if isinstance(node, DictConfig) and not node._is_missing() and not node._is_none():
            keys.extend(config_keys(node, key + "."))
    return keys


def closest_keys(key: str, known: list[str], n: int = 3) -> list[str]:
    """The keys most like ``key``: whole-path matches first, then keys whose last part matches its last part."""
    whole = difflib.get_close_matches(key, known, n=n, cutoff=0.6)
    leaf = key.rsplit(".", 1)[-1]
    by_leaf: dict[str, list[str]] = {}
    for k in known:
        by_leaf.setdefault(k.rsplit(".", 1)[-1], []).append(k)
    leaves = difflib.get_close_matches(leaf, list(by_leaf), n=n, cutoff=0.75)
    ranked = whole + [k for name in leaves for k in sorted(by_leaf[name], key=len)]
    return list(dict.fromkeys(ranked))[:n]


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.device_count() > 0


def overrides_touch(overrides: list[str], key: str) -> bool:
    """Whether the command line sets ``key`` or anything below it."""
    return any(o.lstrip("+~").startswith((f"{key}=", f"{key}.")) for o in overrides)


def auto_profile(overrides: list[str], *, has_gpu: bool | None = None) -> list[str]:
    """Add ``profile=cpu`` when this machine has no GPU and the user chose no profile (and kept auto_cpu on)."""
    if overrides_touch(overrides, "profile") or "askrl.auto_cpu=false" in overrides:
        return overrides
    if has_gpu is None:
        has_gpu = _has_gpu()
    if has_gpu:
        return overrides
    notice(
        "no GPU found: running the CPU profile (profile=cpu: small offline model, 2 steps, the lexical judge unless "
        "askrl.judge is set on the command line); pass profile=... or askrl.auto_cpu=false to choose yourself"
    )
    return [*overrides, "profile=cpu"]


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
    cfg = compose(overrides).cfg
    sys.stdout.write(OmegaConf.to_yaml(cfg, resolve=resolve))
