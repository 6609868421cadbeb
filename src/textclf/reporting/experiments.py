"""A grid of experiments for the terminal: the params that vary, and each dataset's best model and main metric.

``dvc exp show`` lists every param of params.yaml (hundreds) and every declared metric; on an 80-column terminal
it prints nothing but ellipses. This reads its JSON and keeps what tells experiments apart: the params whose
values differ between the rows, and per dataset the top of the leaderboard, sorted by the first dataset's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from textclf.core.errors import TextclfError
from textclf.pipeline import layout
from textclf.reporting import comparison


def exp_show(project: Path, *options: str) -> list[dict]:
    """``dvc exp show --json`` with ``options`` (``--all-commits``, ``--rev main``...): by default the workspace,
    HEAD and HEAD's experiments."""
    result = subprocess.run([sys.executable, "-m", "dvc", "exp", "show", "--json", *options], cwd=project,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()] or ["(no message)"]
        raise TextclfError(f"`dvc exp show --json` failed: {lines[-1]}")
    return json.loads(result.stdout or "[]")


def _name(revision: dict) -> str:
    """An experiment's or branch's name, else "workspace" or the commit's short hash."""
    rev = revision["rev"]
    return revision.get("name") or (rev if rev == "workspace" else rev[:7])


def rows(shown: list[dict]) -> list[tuple[str, dict]]:
    """(name, data) of every commit and experiment in ``dvc exp show --json``'s output."""
    found = []
    for commit in shown:
        if commit.get("data"):
            found.append((_name(commit), commit["data"]))
        for experiment in commit.get("experiments") or []:
            found += [(_name(revision), revision["data"]) for revision in experiment.get("revs", []) if revision.get("data")]
    return found


def _flat(tree: dict, prefix: str = "") -> dict[str, object]:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = json.dumps(value) if isinstance(value, list) else value
    return flat


def grid(project: Path, shown: list[dict]) -> pd.DataFrame:
    """One row per experiment: the params that vary between rows, then per dataset the best model and its main
    metric; sorted by the first dataset's metric, best first."""
    found = rows(shown)
    params = [_flat((data.get("params") or {}).get(str(layout.PARAMS), {}).get("data", {})) for _, data in found]
    varying = sorted(key for key in set().union(*params) if len({json.dumps(row.get(key)) for row in params}) > 1)
    table = pd.DataFrame({"experiment": [name for name, _ in found]} | {key: [row.get(key) for row in params]
                                                                         for key in varying})
    sort_by = None
    for path in sorted({path for _, data in found for path in (data.get("metrics") or {})}):
        dataset = Path(path).stem
        if Path(path).parent != layout.leaderboard_files(dataset)["json"].parent:
            continue
        metric = comparison.Revision(project, None).main_metric(dataset)
        best, score = [], []
        for _, data in found:
            board = ((data.get("metrics") or {}).get(path) or {}).get("data") or {}
            top = min(board, key=lambda model: board[model].get("rank", 1e9), default=None)
            best.append(top)
            score.append(board[top].get(metric) if top else None)
        table[f"{dataset} best"], table[f"{dataset} {metric}"] = best, score
        sort_by = sort_by or f"{dataset} {metric}"
    return table.sort_values(sort_by, ascending=False, kind="stable", na_position="last") if sort_by else table
