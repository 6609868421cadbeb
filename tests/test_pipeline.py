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
    assert stages_run(first) == {"fetch", "prepare", "vectorize", "train", "evaluate"}
    shown = json.loads(dvc(project, "metrics", "show", "--json"))
    assert "metrics/evaluate.json" in json.dumps(shown)
    assert json.loads((project / "metrics/evaluate.json").read_text())["accuracy"] > 0.8

    unchanged = dvc(project, "repro")
    assert stages_run(unchanged) == set()
    assert "up to date" in unchanged

    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["learning_rate"] = 0.01
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert stages_run(dvc(project, "repro")) == {"train", "evaluate"}

    plots = json.loads(dvc(project, "plots", "show", "--json"))["data"]
    assert {"Loss per epoch", "Accuracy per epoch", "Confusion matrix (test)", "ROC (test)"} <= set(plots)
    assert all(plot[0]["type"] == "vega" for name, plot in plots.items() if not name.endswith(".png"))
