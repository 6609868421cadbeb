"""dvc.yaml is what textclf.pipeline.layout renders from params.yaml, and the rendering keeps the promises a cache rests on.

Each stage's code deps are exactly the project files its script runs: the
script and every ``src/textclf`` module it imports, directly or through other
project modules (lazy imports inside functions included). A missing one lets
a code change leave stale results that `dvc status` calls up to date; a
surplus one reruns work for nothing. This file derives them again with its own
walk over the imports, without importing anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import PROJECT_ROOT

from textclf.pipeline import layout

SOURCES = Path("src") / "textclf"
root = PROJECT_ROOT


@pytest.fixture(scope="module")
def project_layout():
    return layout.resolve(yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def pipeline():
    return yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))


def test_dvc_yaml_is_the_rendering_of_params_yaml(monkeypatch):
    monkeypatch.chdir(root)
    layout.check_current()  # the same check every stage runs first


def test_a_stale_dvc_yaml_is_refused_with_what_to_run(tmp_path, monkeypatch):
    for name in ("stages", "src", "params.yaml", "dvc.yaml"):
        (tmp_path / name).symlink_to(root / name)
    monkeypatch.chdir(tmp_path)
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    params["models"]["mine"] = {"dataset": "imdb", "architecture": "ngram", "features": "ngrams_1to3"}
    (tmp_path / "params.yaml").unlink()
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    with pytest.raises(layout.TextclfError, match="dvc.yaml is out of date with params.yaml .*run `textclf pipeline`"):
        layout.stage_layout()


def imported_files(path: Path) -> set[Path]:
    """The textclf module files ``path`` imports anywhere in its body."""
    found = set()
    for node in ast.walk(ast.parse((root / path).read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        for name in names:
            parts = name.split(".")
            if parts[0] != "textclf":
                continue
            # textclf.a.b runs textclf/__init__.py, textclf/a/__init__.py and textclf/a/b.py
            for end in range(1, len(parts) + 1):
                path = SOURCES.joinpath(*parts[1:end])
                file = path / "__init__.py" if (root / path).is_dir() else path.with_suffix(".py")
                if (root / file).is_file():
                    found.add(file)
    return found


def import_closure(script: Path) -> set[Path]:
    files, pending = {script}, [script]
    while pending:
        for file in imported_files(pending.pop()) - files:
            files.add(file)
            pending.append(file)
    return files


def stage_bodies(pipeline: dict) -> dict[str, dict]:
    return {name: stage.get("do", stage) for name, stage in pipeline["stages"].items()}


def test_code_deps_are_exactly_the_import_closure(pipeline):
    for name, body in stage_bodies(pipeline).items():
        words = body["cmd"].split()
        script = Path(next(word for word in words if word.endswith(".py"))) if name != "pipeline" else SOURCES / "pipeline" / "layout.py"
        listed = {Path(dep) for dep in body.get("deps", []) if str(dep).endswith(".py")}
        needed = import_closure(script)
        assert listed == needed, (f"dvc.yaml stage '{name}': missing code deps {sorted(map(str, needed - listed))}, "
                                  f"surplus {sorted(map(str, listed - needed))}")


def test_the_closure_follows_imports_through_modules_and_functions():
    closure = set(map(Path, layout.code_deps("stages/evaluate.py")))
    assert {SOURCES / "__init__.py", SOURCES / "training" / "__init__.py", SOURCES / "training" / "fitting.py",
            SOURCES / "tasks" / "__init__.py", SOURCES / "tasks" / "metrics.py", SOURCES / "core" / "tf_runtime.py",
            SOURCES / "core" / "errors.py"} <= closure  # metrics via the task, a package's __init__ with its modules
    assert SOURCES / "reporting" / "report.py" not in closure


def test_every_model_and_dataset_has_its_stages_metrics_and_charts(project_layout, pipeline):
    groups = set(pipeline["stages"])
    for name, model in project_layout.models.items():
        assert model.stage("train").split("@")[0] in groups and model.stage("export").split("@")[0] in groups
    # What people compare, and nothing else: the per-model reports would make `dvc exp show` 1,000 columns wide.
    assert pipeline["metrics"] == [str(layout.leaderboard_files(dataset)["json"]) for dataset in project_layout.datasets] + [
        str(layout.TRANSFER_ANALYSIS)]
    for dataset in project_layout.datasets:
        assert str(layout.leaderboard_files(dataset)["png"]) in pipeline["plots"]
    drawn = [source for entry in pipeline["plots"] if isinstance(entry, dict) for spec in entry.values() for source in spec["y"]]
    for name in project_layout.models:
        assert any(f"/{name}/" in source for source in drawn), f"no chart draws {name}"


def test_each_ensemble_stage_depends_on_exactly_its_members_exports(project_layout, pipeline):
    for name, model in project_layout.models.items():
        if model.family != "ensemble":
            continue
        stage = pipeline["stages"][name]
        exports = sorted(dep for dep in stage["deps"] if dep.startswith("models/"))
        assert exports == sorted(str(layout.export_dir(member)) for member in model.block["members"])
        assert stage["params"] == [f"models.{name}"]


def test_a_leaderboard_depends_on_its_own_datasets_models_only(pipeline):
    deps = pipeline["stages"]["leaderboard"]["do"]["deps"]
    assert [dep for dep in deps if not dep.endswith(".py")] == [
        "data/prepared/${item}/task.json", "metrics/models/${item}", "metrics/timings/${item}"]
    assert "params" not in pipeline["stages"]["leaderboard"]["do"]


def test_every_per_model_chart_draws_a_file_evaluate_writes_for_its_task(tmp_path, project_layout, pipeline):
    """A chart of a file the task never writes (a confusion matrix of a multi-label model, say) stays empty."""
    from textclf import tasks
    from textclf.reporting import (
        plots,  # imports TensorFlow: here only, so the rest of this file stays fast
    )

    written = {}
    for task_name, task in {"binary": tasks.Binary(["a", "b"]), "multi_class": tasks.MultiClass(["a", "b", "c"]),
                            "multi_label": tasks.MultiLabel(["a", "b", "c"])}.items():
        labels = np.arange(4 * len(task.classes)) % len(task.classes)
        if task.name == "multi_label":
            labels = np.eye(len(task.classes), dtype=np.int32)[labels]
        logits = np.random.default_rng(0).normal(0, 1, (len(labels), task.units))
        directory = tmp_path / task_name
        directory.mkdir()
        plots.evaluation_plots(task, labels, task.probabilities(logits), task.report(labels, logits), "model", directory)
        written[task_name] = {path.name for path in directory.iterdir()}
    for task_name, charts in layout.TASK_CHARTS.items():
        needed = {file for _, _, _, file, _ in charts}
        for kind in ([task_name] if task_name else ["binary", "multi_class"]):
            assert needed <= written[kind], f"{task_name} charts draw {sorted(needed - written[kind])}, not written for {kind}"
