"""Only askrl/_verl.py imports VERL: a VERL upgrade must touch one adapter, not the whole code base."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("askrl", "reward", "eval_hooks")
ADAPTER = ROOT / "askrl" / "_verl.py"


def verl_imports(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "verl" for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "verl" and node.level == 0:
            lines.append(node.lineno)
    return lines


def test_no_module_but_the_adapter_imports_verl() -> None:
    offenders = {
        f"{p.relative_to(ROOT)}:{line}"
        for pkg in PACKAGES
        for p in (ROOT / pkg).rglob("*.py")
        if p != ADAPTER
        for line in verl_imports(p)
    }
    assert not offenders, f"import VERL names through askrl._verl instead: {sorted(offenders)}"


def test_the_check_sees_an_import(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("import os\nfrom verl.protocol import DataProto\nimport verl.utils as u\n")
    assert verl_imports(sample) == [2, 3]


def test_adapter_resolves_names_lazily_and_checks_the_version() -> None:
    from askrl import _verl

    assert _verl.installed_version() == _verl.VERL_VERSION
    _verl.check_version()
    assert _verl.DataProto.__name__ == "DataProto"
    with pytest.raises(AttributeError, match="add it to _EXPORTS"):
        _verl.NotAVerlName  # noqa: B018
