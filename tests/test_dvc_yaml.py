"""dvc.yaml keeps the promises a trustworthy cache rests on.

Each stage's code deps are exactly the project files its script runs: the
script and every ``src/textclf`` module it imports, directly or through other
project modules (lazy imports inside functions included). A missing one lets
a code change leave stale results that `dvc status` calls up to date; a
surplus one reruns work for nothing. Derived with ``ast``, without importing
anything, so it runs in a second.

Its charts are per dataset: a chart of per-model files draws every model of
one dataset (params.yaml's ``models``, ``hub_models`` and ``self_trained`` name each model's
``dataset``) and only files evaluate writes for that dataset's task, and each
dataset has its leaderboard chart.
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


def top_level_plots() -> list:
    return yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))["plots"]


def chart_sources(spec) -> list[str]:
    """The files a chart draws its lines from (its ``y`` mapping)."""
    return list(spec["y"]) if isinstance(spec, dict) and isinstance(spec.get("y"), dict) else []


def per_model_charts() -> dict[str, list[str]]:
    """Chart title -> the models it draws, for the top-level plots that draw per-model files."""
    charts = {}
    for entry in top_level_plots():
        if not isinstance(entry, dict):
            continue
        (title, spec), = entry.items()
        per_model = [source.split("/")[2] for source in chart_sources(spec)
                     if source.startswith(("metrics/models/", "plots/models/"))]
        if per_model:
            charts[title] = per_model
    return charts


def model_datasets() -> dict[str, str]:
    """Model name -> its dataset, for every block of ``models``, ``hub_models`` and ``self_trained`` in params.yaml."""
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    return {name: block["dataset"] for group in ("models", "hub_models", "self_trained")
            for name, block in (params.get(group) or {}).items()}


def test_every_per_model_chart_draws_all_models_of_one_dataset():
    datasets_of = model_datasets()
    charts = per_model_charts()
    unknown = {title: sorted(set(drawn) - set(datasets_of)) for title, drawn in charts.items() if set(drawn) - set(datasets_of)}
    assert not unknown, f"dvc.yaml plots draw models that params.yaml does not have: {unknown}"
    mixed = {title: sorted({datasets_of[name] for name in drawn}) for title, drawn in charts.items()
             if len({datasets_of[name] for name in drawn}) > 1}
    assert not mixed, f"dvc.yaml plots mix the models of several datasets in one chart: {mixed}"
    repeated = {title: sorted({name for name in drawn if drawn.count(name) > 1}) for title, drawn in charts.items()
                if len(set(drawn)) < len(drawn)}
    assert not repeated, f"dvc.yaml plots draw a model twice: {repeated}"
    incomplete = {}
    for title, drawn in charts.items():
        dataset = datasets_of[drawn[0]]
        missing = sorted(name for name, of in datasets_of.items() if of == dataset and name not in drawn)
        if missing:
            incomplete[title] = missing
    assert not incomplete, f"dvc.yaml plots miss models of their dataset in params.yaml (add a line for each): {incomplete}"


def test_every_dataset_with_models_has_its_curves_and_its_leaderboard_chart():
    datasets_with_models = set(model_datasets().values())
    charted = {model_datasets()[drawn[0]] for drawn in per_model_charts().values()}
    assert datasets_with_models - charted == set(), "datasets whose models no per-model chart draws"
    entries = top_level_plots()
    images = {entry for entry in entries if isinstance(entry, str)}
    boards = {Path(source).stem for entry in entries if isinstance(entry, dict)
              for spec in entry.values() for source in chart_sources(spec) if source.startswith("plots/leaderboards/")}
    for dataset in sorted(datasets_with_models):
        assert dataset in boards, f"dvc.yaml has no chart of plots/leaderboards/{dataset}.csv"
        assert f"plots/leaderboards/{dataset}.png" in images, f"dvc.yaml does not list plots/leaderboards/{dataset}.png"


def test_the_top_level_metrics_are_exactly_the_metrics_files_of_every_model_and_dataset():
    """By name, not by folder: a folder would hand DVC the DVCLive .tsv files and the leaderboards' .md tables."""
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    listed = yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))["metrics"]
    models = [name for group in ("models", "hub_models", "self_trained", "ensembles") for name in params.get(group) or {}]
    expected = {
        *(f"metrics/{kind}/{dataset}.json" for dataset in params["datasets"] for kind in ("leaderboards", "data")),
        *(f"metrics/models/{name}/{file}" for name in models for file in ("evaluate.json", "train/metrics.json")),
        "metrics/pretrain.json", "metrics/transfer_analysis.json",
    }
    assert len(listed) == len(set(listed)), "dvc.yaml lists a metrics file twice"
    assert sorted(expected - set(listed)) == [], "metrics files dvc.yaml does not list (add a line for each)"
    assert sorted(set(listed) - expected) == [], "dvc.yaml lists metrics no model or dataset of params.yaml writes"


def test_the_leaderboard_charts_plot_the_metric_each_task_ranks_by():
    """A chart's x must be a column the leaderboard stage writes: the dataset's main metric."""
    from textclf import tasks  # imports TensorFlow: here only, so the rest of this file stays fast

    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    for entry in top_level_plots():
        if not isinstance(entry, dict):
            continue
        (title, spec), = entry.items()
        for source in chart_sources(spec):
            if source.startswith("plots/leaderboards/"):
                task = tasks.task_of(params, Path(source).stem)
                assert spec["x"] == task.main_metric, f"{title}: x is {spec['x']}, the leaderboard has {task.main_metric}"


def test_every_per_model_plot_file_is_one_evaluate_writes_for_the_task_of_its_model(tmp_path):
    """A chart of a file the task never writes (a confusion matrix of a multi-label model, say) stays empty."""
    import numpy as np

    from textclf import plots, tasks  # imports TensorFlow: here only, so the rest of this file stays fast

    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    written = {}
    for name in params["datasets"]:
        task = tasks.task_of(params, name)
        labels = np.arange(4 * len(task.classes)) % len(task.classes)
        if task.name == "multi_label":
            labels = np.eye(len(task.classes), dtype=np.int32)[labels]
        logits = np.random.default_rng(0).normal(0, 1, (len(labels), task.units))
        directory = tmp_path / name
        directory.mkdir()
        plots.evaluation_plots(task, labels, task.probabilities(logits), task.report(labels, logits), "model", directory)
        written[name] = {path.name for path in directory.iterdir()}
    datasets_of = model_datasets()
    wrong = []
    for entry in top_level_plots():
        if not isinstance(entry, dict):
            continue
        (title, spec), = entry.items()
        for source in chart_sources(spec):
            parts = source.split("/")
            if source.startswith("plots/models/") and parts[3] not in written[datasets_of[parts[2]]]:
                wrong.append(f"{title}: {source}")
    assert not wrong, f"dvc.yaml plots draw files evaluate does not write for the model's task: {wrong}"


def test_each_ensemble_is_a_stage_whose_deps_are_exactly_its_members_exports():
    """DVC cannot put a list into deps, so each ensemble's stage lists its members by hand: they must agree."""
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    stages = yaml.safe_load((root / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    for name, block in (params.get("ensembles") or {}).items():
        assert name in stages, f"params.yaml has ensemble '{name}' but dvc.yaml has no stage '{name}'"
        stage = stages[name]
        assert stage["cmd"] == f"python stages/ensemble.py {name}"
        exports = sorted(dep for dep in stage["deps"] if dep.startswith("models/"))
        assert exports == sorted(f"models/{member}/serving" for member in block["members"]), (
            f"dvc.yaml stage '{name}' depends on {exports}, its members in params.yaml are {block['members']}")
        assert f"data/prepared/{block['dataset']}" in stage["deps"]
        assert {f"ensembles.{name}", f"datasets.{block['dataset']}"} <= set(stage["params"])
        assert {f"models/{name}/serving", f"metrics/models/{name}/evaluate.json"} <= {
            next(iter(out)) if isinstance(out, dict) else out for out in stage["outs"]}
