"""The import order of askrl's packages: every import points down, none climbs from a lower layer to a higher one.

Why: the README's Layout section promises it, and a climbing import is how a test double ends up loaded by
production code, or how the reward grows a dependency on the rollout that calls it. The check parses every module
of ``askrl``, ``reward`` and ``eval_hooks`` (imports inside functions included) and maps each import to its unit
(``askrl.<subpackage>``, ``reward``, ``eval_hooks`` or ``eval_hooks.checkpoint``).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("askrl", "reward", "eval_hooks")

#: Bottom to top. A unit may import units of a lower layer, never one of its own layer or above (but itself).
LAYERS: list[set[str]] = [
    {"askrl", "askrl.errors", "askrl.env_vars"},
    {"askrl.registry", "askrl._verl"},
    {"askrl.judge", "askrl.models", "askrl.cpu"},
    {"reward"},
    {"askrl.rollout", "askrl.serve", "askrl.plugins"},
    {"askrl.data"},
    {"eval_hooks"},
    {"eval_hooks.checkpoint"},
    {"askrl.config", "askrl.trainer", "askrl.report"},
    {"askrl.train"},
    {"askrl.export", "askrl.testing"},
    {"askrl.bench"},
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "askrl":
        return "askrl" if len(parts) == 1 or parts[1] == "__version__" else f"askrl.{parts[1]}"
    if parts[0] == "eval_hooks" and len(parts) > 1 and parts[1] == "checkpoint":
        return "eval_hooks.checkpoint"
    return parts[0]


def imported_units(source: str) -> set[str]:
    """The askrl units a module's source imports; ``from askrl import _verl`` counts as ``askrl._verl``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        found |= {unit_of(name) for name in names if name.split(".")[0] in PACKAGES}
    return found


def climbing_imports() -> list[str]:
    problems = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            own = unit_of(module)
            assert own in RANK, f"{path}: unit {own} has no layer in LAYERS; add it"
            for target in imported_units(path.read_text(encoding="utf-8")):
                assert target in RANK, f"{path} imports unit {target}, which has no layer in LAYERS"
                if target != own and RANK[target] >= RANK[own]:
                    problems.append(f"{path.relative_to(REPO)} ({own}, layer {RANK[own]}) imports {target} "
                                    f"(layer {RANK[target]})")
    return problems


def test_no_import_climbs() -> None:
    assert climbing_imports() == []


def test_the_check_sees_a_climb_inside_a_function() -> None:
    source = "def f():\n    from eval_hooks.checkpoint import history\n    from askrl import _verl\n"
    assert imported_units(source) == {"eval_hooks.checkpoint", "askrl._verl"}
    assert RANK["askrl.judge"] < RANK["reward"] < RANK["askrl.rollout"] < RANK["eval_hooks"]


def test_test_doubles_are_never_imported_by_production_code() -> None:
    users = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            module = ".".join(path.relative_to(REPO).with_suffix("").parts)
            if "askrl.testing" in imported_units(path.read_text(encoding="utf-8")) and unit_of(module) != "askrl.testing":
                users.add(unit_of(module))
    assert users <= {"askrl.bench"}, users
