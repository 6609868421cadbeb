"""dvc.yaml keeps the promises a trustworthy cache rests on.

Each stage's code deps are exactly the project files its script runs: the
script and every ``src/textclf`` module it imports, directly or through other
project modules (lazy imports inside functions included). A missing one lets
a code change leave stale results that `dvc status` calls up to date; a
surplus one reruns work for nothing. Derived with ``ast``, without importing
anything, so it runs in a second.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from conftest import PROJECT_ROOT

PACKAGE = "textclf"
SOURCES = Path("src") / PACKAGE
root = PROJECT_ROOT


def imported_modules(path: Path) -> set[str]:
    """Dotted names of the textclf modules ``path`` imports anywhere in its body."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE:
            found.add(node.module)
            # `from textclf import data` imports the module textclf.data
            found |= {f"{node.module}.{alias.name}" for alias in node.names
                      if (root / module_file(f"{node.module}.{alias.name}")).is_file()}
    return found


def module_file(module: str) -> Path:
    parts = module.split(".")[1:]
    return SOURCES.joinpath(*parts).with_suffix(".py") if parts else SOURCES / "__init__.py"


def import_closure(script: Path) -> set[str]:
    """The script and every project file it imports, directly or not, as paths relative to the project."""
    files, pending = {script}, [root / script]
    while pending:
        for module in imported_modules(pending.pop()):
            # Importing textclf.x runs textclf/__init__.py first, then textclf/x.py.
            for file in (module_file(PACKAGE), module_file(module)):
                if file not in files and (root / file).is_file():
                    files.add(file)
                    pending.append(root / file)
    return files


def stage_code_deps() -> dict[str, tuple[Path, set[Path]]]:
    """Stage name -> (its script, the .py files dvc.yaml lists as its deps)."""
    stages = yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    result = {}
    for name, stage in stages.items():
        body = stage.get("do", stage)
        script = Path(next(word for word in body["cmd"].split() if word.endswith(".py")))
        result[name] = script, {Path(dep) for dep in body.get("deps", []) if str(dep).endswith(".py")}
    return result


@pytest.mark.parametrize("stage", sorted(stage_code_deps()))
def test_code_deps_are_exactly_the_import_closure(stage):
    script, listed = stage_code_deps()[stage]
    needed = import_closure(script)
    missing, surplus = sorted(map(str, needed - listed)), sorted(map(str, listed - needed))
    assert not missing and not surplus, (
        f"dvc.yaml stage '{stage}': missing code deps {missing or 'none'}, surplus code deps {surplus or 'none'} "
        f"({script} imports {sorted(map(str, needed))})"
    )


def test_the_closure_follows_imports_through_modules_and_functions():
    closure = import_closure(Path("stages/evaluate.py"))
    assert {Path("src/textclf/__init__.py"), Path("src/textclf/training.py"), Path("src/textclf/metrics.py"),
            Path("src/textclf/tf_runtime.py"), Path("src/textclf/errors.py")} <= closure  # metrics via training
    assert Path("src/textclf/tf_runtime.py") in import_closure(Path("stages/fetch.py"))  # fetch's lazy TFDS import
    assert Path("src/textclf/report.py") not in closure


def per_model_charts() -> dict[str, set[str]]:
    """Chart title -> the models it draws, for the top-level plots that have one line per model."""
    charts = {}
    for entry in yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))["plots"]:
        if not isinstance(entry, dict):
            continue
        (title, spec), = entry.items()
        sources = list(spec.get("y", {})) if isinstance(spec, dict) and isinstance(spec.get("y"), dict) else []
        per_model = [source.split("/")[2] for source in sources
                     if source.startswith(("metrics/models/", "plots/models/"))]
        if per_model:
            charts[title] = set(per_model)
    return charts


def test_every_model_in_params_is_in_every_comparison_chart():
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    names = set(params["models"]) | set(params.get("hub_models") or {})
    charts = per_model_charts()
    assert {"Validation loss per epoch", "Validation accuracy per epoch", "ROC (test)", "Precision-recall (test)",
            "Confusion matrix (test)"} <= set(charts)
    incomplete = {title: sorted(names - drawn) for title, drawn in charts.items() if drawn != names}
    assert not incomplete, f"dvc.yaml plots miss models of params.yaml (add a line for each): {incomplete}"
