"""The report's summary: each model's change tested on the two revisions' test predictions, in a real git + DVC
project whose one stage writes a leaderboard and DVC-cached predictions the way evaluate and leaderboard do."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import init_repository, working_copy

from textclf.reporting import comparison, report

# Each model's predictions on the same 600 test texts: logits = skill * (2 * label - 1) + noise(seed), so a
# higher skill is a better model, and a new seed at the same skill is the same model retrained.
EVALUATE = """\
import json, os
import numpy as np, pandas as pd, yaml
from textclf import tasks
from textclf.reporting import predictions

params = yaml.safe_load(open("params.yaml"))
labels = np.random.default_rng(0).integers(0, 2, 600)
task = tasks.Binary(["neg", "pos"])
os.makedirs("data/predictions/toy", exist_ok=True)
rows = {}
for name, (skill, seed) in params["models"].items():
    logits = skill * (2 * labels - 1) + np.random.default_rng(seed).normal(size=600)
    predictions.write(f"data/predictions/toy/{name}.parquet", task, labels, logits)
    report = task.report(labels, logits)
    rows[name] = {key: report[key] for key in task.columns}
ranked = sorted(rows, key=lambda name: -rows[name]["accuracy"])
os.makedirs("metrics/leaderboards", exist_ok=True)
os.makedirs("plots/leaderboards", exist_ok=True)
json.dump({name: {"rank": rank, **rows[name]} for rank, name in enumerate(ranked, 1)},
          open("metrics/leaderboards/toy.json", "w"), indent=2)
pd.DataFrame({"model": ranked, "score": [rows[name]["accuracy"] for name in ranked], "metric": "accuracy"}).to_csv(
    "plots/leaderboards/toy.csv", index=False)
# Thousands of metrics that every run moves: more than a comment holds.
json.dump({f"m{key:04d}": key + params["offset"] for key in range(3000)}, open("metrics/many.json", "w"))
"""
DVC_YAML = """\
stages:
  evaluate:
    cmd: '"{python}" evaluate.py'
    deps: [evaluate.py]
    params: [models, offset]
    outs:
      - data/predictions
      - metrics/leaderboards/toy.json: {{cache: false}}
      - plots/leaderboards/toy.csv: {{cache: false}}
      - metrics/many.json: {{cache: false}}
metrics: [metrics/leaderboards/toy.json, metrics/many.json]
plots:
  - plots/leaderboards/toy.csv: {{x: model, y: score}}
"""
BASE = {"improved": [0.3, 1], "same": [0.5, 2], "retrained": [0.5, 3], "removed": [0.4, 4]}
HEAD = {"improved": [1.0, 1], "same": [0.5, 2], "retrained": [0.5, 5], "added": [0.6, 6]}
TEXTCLF = Path(sys.executable).parent / "textclf"


def run(project: Path, *command: str) -> str:
    return subprocess.run(command, cwd=project, check=True, capture_output=True, text=True).stdout


def repro(project: Path, models: dict, offset: int) -> None:
    (project / "params.yaml").write_text(json.dumps({"models": models, "offset": offset}))
    run(project, sys.executable, "-m", "dvc", "repro", "-q")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The toy project run with BASE and committed, then run with HEAD in the workspace."""
    project = tmp_path_factory.mktemp("compared")
    init_repository(project)
    (project / "evaluate.py").write_text(EVALUATE)
    (project / "dvc.yaml").write_text(DVC_YAML.format(python=sys.executable))
    repro(project, BASE, 0)
    run(project, "git", "add", "-A")
    run(project, "git", "commit", "-qm", "base")
    repro(project, HEAD, 1)
    return project


@pytest.fixture
def project(built, tmp_path, monkeypatch):
    return working_copy(built, tmp_path, monkeypatch)


def verdicts(changes):
    return {change.model: change.verdict for dataset in changes for change in dataset.models}


def test_each_change_is_tested_on_the_same_texts(project):
    [toy] = comparison.compare(project, "HEAD", draws=300)
    assert toy.dataset == "toy" and toy.metric == "accuracy"
    assert verdicts([toy]) == {"improved": "better", "same": "unchanged", "retrained": "within noise",
                               "added": "added", "removed": "removed"}
    improved = next(change for change in toy.models if change.model == "improved")
    assert improved.difference.test == "McNemar" and improved.difference.low > 0
    assert improved.difference.change == pytest.approx(improved.head - improved.base, abs=1e-6)
    # ROC-AUC and F1 moved with accuracy: tested by the bootstrap, listed as beyond noise.
    assert set(improved.moved) == {"roc_auc", "f1"}
    assert all(found.test == "paired bootstrap" for found in improved.moved.values())


def test_models_come_in_the_new_ranking_and_removed_ones_last(project):
    [toy] = comparison.compare(project, "HEAD", draws=100)
    board = json.loads((project / "metrics/leaderboards/toy.json").read_text())
    assert [change.model for change in toy.models] == sorted(board, key=lambda name: board[name]["rank"]) + ["removed"]
    assert [change.head_rank for change in toy.models] == [1, 2, 3, 4, None]
    assert report._rank(toy.models[0]) == f"{toy.models[0].base_rank} → 1"


def test_without_the_base_predictions_a_change_is_not_tested(project):
    shutil.rmtree(project / ".dvc" / "cache")
    (project / "data" / "predictions" / "toy" / "same.parquet").unlink()
    found = verdicts(comparison.compare(project, "HEAD", draws=100))
    # The same figures at both revisions are unchanged, tested or not; a moved figure cannot be judged.
    assert found == {"improved": "not tested", "same": "unchanged", "retrained": "not tested", "added": "added",
                     "removed": "removed"}


def test_the_terminal_shows_the_summary_and_json_its_data(project):
    text = run(project, str(TEXTCLF), "report", "--draws", "100")
    lines = text.splitlines()
    assert lines[0] == "Workspace against HEAD (changes tested at 95% on the same test texts)"
    assert lines[2].startswith("toy (accuracy): 1 better, 1 within noise, 1 unchanged, 1 added, 1 removed")
    assert "▲ better (p " in text and "roc_auc of improved moved: +" in text
    data = json.loads(run(project, str(TEXTCLF), "report", "--draws", "100", "--json"))
    [toy] = data["datasets"]
    assert toy["counts"] == {"better": 1, "within noise": 1, "unchanged": 1, "added": 1, "removed": 1}
    assert toy["models"][0]["test"]["significant"] is True


def test_a_report_where_everything_changed_fits_a_comment(project):
    out = report.build(project, "HEAD", Path("report.md"), draws=100)
    text, full = out.read_text(), (project / "report" / "full.md").read_text()
    assert len(text) <= report.COMMENT_LIMIT < len(full)
    # The summary comes first and stays; the metric tables are cut, and the comment says so.
    assert text.index("## Summary") < text.index("## Params that changed") < text.index("## Plots that changed")
    assert "| `improved` |" in text and "▲ better" in text
    assert ("_To fit a pull-request comment (65,536 characters), Metrics that changed shows its first lines, "
            "left out: Every metric. Everything is in the full report, `report/full.md`._") in text
    assert "<summary>Metrics that changed (the first " in text and " of 3,017 rows)</summary>" in text
    assert "| metrics/many.json | m2999 | 2999.0000 | 3000.0000 | +1 |" in full
    assert "![changes](changes.png)" in full and "![changes](report/changes.png)" in text
    assert (project / "report" / "changes.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("limit", [1500, 4000, 20000])
def test_the_limit_holds_at_any_size(project, limit):
    text = report.build(project, "HEAD", Path("report.md"), draws=50, limit=limit, full_link="https://ci/run/1").read_text()
    assert len(text) <= limit
    assert "[full.md](https://ci/run/1)" in text


def test_the_experiment_grid_has_a_column_per_varying_param_and_per_dataset(project):
    run(project, sys.executable, "-m", "dvc", "exp", "run", "-q", "-n", "stronger", "-S", "models.retrained=[2.0,3]")
    grid = json.loads(run(project, str(TEXTCLF), "experiments", "--json"))
    # The workspace and the experiment (the same run), then HEAD: best first.
    assert [row["experiment"] for row in grid][-1] not in ("workspace", "stronger")
    assert {row["experiment"] for row in grid[:2]} == {"workspace", "stronger"}
    # HEAD's params differ from the experiment's in every model and the offset; nothing else is shown.
    assert list(grid[0]) == ["experiment", "models.added", "models.improved", "models.removed", "models.retrained",
                             "offset", "toy best", "toy accuracy"]
    assert grid[0]["toy best"] == "retrained" and grid[0]["models.retrained"] == "[2.0, 3]"
    assert grid[0]["toy accuracy"] > grid[-1]["toy accuracy"]
    text = run(project, str(TEXTCLF), "experiments").splitlines()
    assert text[0].split() == ["experiment", "models.added", "models.improved", "models.removed", "models.retrained",
                               "offset", "toy", "best", "toy", "accuracy"]


def test_a_dataset_with_nothing_changed_folds_its_table(project):
    run(project, "git", "add", "-A")
    run(project, "git", "commit", "-qm", "head")
    [toy] = comparison.compare(project, "HEAD", draws=100)
    assert set(verdicts([toy]).values()) == {"unchanged"}
    summary = report.summary_markdown([toy], 0.95)
    assert summary.startswith("### toy: accuracy\n\n4 unchanged.\n\n<details><summary>Its models</summary>\n\n| model |")
