"""The real `dvc repro` in a temporary git repository, on a tiny archive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import archive_members, make_project, write_archive

pytestmark = pytest.mark.slow


def dvc(project: Path, *args: str) -> str:
    # Stage commands call `python`: it must be this interpreter, with textclf installed.
    env = {key: value for key, value in os.environ.items() if key != "TEXTCLF_FETCH_SOURCE"}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    result = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=project, capture_output=True, text=True, env=env)
    assert result.returncode == 0, f"dvc {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def stages_run(output: str) -> set[str]:
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}


def test_dvc_repro_end_to_end(tmp_path):
    archive = write_archive(tmp_path / "aclImdb_v1.tar.gz", archive_members(per_label=40))
    project = make_project(tmp_path / "project", archive)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    dvc(project, "init", "-q")

    first = dvc(project, "repro")
    models = ["bow_mean", "bilstm", "bilstm_stacked", "ngram"]
    setups = ["pretrained_frozen", "pretrained_finetuned", "random_frozen", "random_finetuned", "bow_mean"]
    assert stages_run(first) == {
        "fetch", "prepare", "vectorize@words_20k", "vectorize@words_1k", "vectorize@raw_text", "vectorize@ngrams_1to3",
        "pretrain", "train_hub@hub_dnn", "evaluate_hub@hub_dnn", "leaderboard", "transfer-analysis",
        *(f"train@{m}" for m in models), *(f"evaluate@{m}" for m in models),
        *(f"transfer@{setup}-64" for setup in setups),
    }
    models.append("hub_dnn")
    shown = json.dumps(json.loads(dvc(project, "metrics", "show", "--json")))
    assert "metrics/leaderboard.json" in shown and "metrics/models/ngram/evaluate.json" in shown
    assert "metrics/transfer_analysis.json" in shown
    transfer = json.loads((project / "metrics/transfer_analysis.json").read_text())
    assert set(transfer["grid"]) == set(setups) and set(transfer["learning_curve"]["bow_mean"]) == {"64"}
    board = json.loads((project / "metrics/leaderboard.json").read_text())
    assert set(board) == set(models)
    assert board["bow_mean"]["accuracy"] > 0.8 and board["ngram"]["accuracy"] > 0.8
    assert (project / "metrics/leaderboard.md").read_text().count("\n") == len(models) + 2

    unchanged = dvc(project, "repro")
    assert stages_run(unchanged) == set()
    assert "up to date" in unchanged

    # One model's params retrain that model only; the leaderboard is rebuilt.
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["models"]["bow_mean"]["learning_rate"] = 0.01
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert stages_run(dvc(project, "repro")) == {"train@bow_mean", "evaluate@bow_mean", "leaderboard"}

    # A new learning-curve point trains only its own cells.
    params["transfer"]["sizes"].append(16)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert stages_run(dvc(project, "repro")) == {*(f"transfer@{setup}-16" for setup in setups), "transfer-analysis"}

    plots = json.loads(dvc(project, "plots", "show", "--json"))["data"]
    assert {"Validation loss per epoch", "Confusion matrix (test)", "ROC (test)", "Test accuracy by model",
            "Transfer grid (seed 001)", "Learning curve (test accuracy)"} <= set(plots)
    assert all(plot[0]["type"] == "vega" for name, plot in plots.items() if not name.endswith(".png"))
