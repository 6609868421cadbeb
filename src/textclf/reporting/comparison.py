"""What a change did to each dataset's models: base revision against the workspace, each change tested.

Per dataset, each model's main metric at both revisions (from the committed leaderboards), the rank change,
and whether the difference is real: tested on the two revisions' predictions on the same test texts
(``textclf.reporting.predictions``) with McNemar's test for accuracy and a paired bootstrap for any other
metric (``textclf.reporting.significance``). The leaderboard's other metrics are tested too, and those that
moved beyond noise are listed. A model whose predictions are missing at a revision (a cache without the base
revision's outputs) keeps its figures, marked "not tested".
"""

from __future__ import annotations

import io
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from textclf import tasks
from textclf.pipeline import layout
from textclf.reporting import predictions, significance

# A verdict per model, in words a reviewer scans for.
BETTER, WORSE, NOISE, UNCHANGED, ADDED, REMOVED, UNTESTED = (
    "better", "worse", "within noise", "unchanged", "added", "removed", "not tested")


@dataclass
class ModelChange:
    model: str
    base: float | None  # the main metric at the base revision; None: the model is new
    head: float | None  # None: the model was removed
    base_rank: int | None
    head_rank: int | None
    verdict: str
    difference: significance.Difference | None = None
    moved: dict[str, significance.Difference] = field(default_factory=dict)  # other metrics, beyond noise

    def as_json(self) -> dict:
        return {"model": self.model, "base": self.base, "head": self.head, "base_rank": self.base_rank,
                "head_rank": self.head_rank, "verdict": self.verdict,
                "test": _difference_json(self.difference) if self.difference else None,
                "moved": {metric: _difference_json(found) for metric, found in self.moved.items()}}


@dataclass
class DatasetChange:
    dataset: str
    metric: str
    models: list[ModelChange]

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for model in self.models:
            found[model.verdict] = found.get(model.verdict, 0) + 1
        return found

    def as_json(self) -> dict:
        return {"dataset": self.dataset, "metric": self.metric, "counts": self.counts(),
                "models": [model.as_json() for model in self.models]}


def _difference_json(found: significance.Difference) -> dict:
    return {"change": found.change, "low": found.low, "high": found.high, "level": found.level,
            "p_value": found.p_value, "test": found.test, "significant": found.significant}


class Revision:
    """Files of the project at a git revision (``ref``), or in the workspace (``ref`` None)."""

    def __init__(self, project: Path, ref: str | None):
        self.project, self.ref = project, ref

    def read_bytes(self, path: Path, cached: bool = False) -> bytes | None:
        """The file's bytes, or None where the revision has none (or, for a DVC-cached output, the cache lacks it)."""
        if self.ref is None:
            found = self.project / path
            return found.read_bytes() if found.is_file() else None
        if cached:
            return _dvc_cached(self.project, path, self.ref)
        shown = subprocess.run(["git", "show", f"{self.ref}:./{path.as_posix()}"], cwd=self.project, capture_output=True, check=False)
        return shown.stdout if shown.returncode == 0 else None

    def main_metric(self, dataset: str) -> str | None:
        """What the dataset's leaderboard ranks by, as its chart's data names it (None: no leaderboard)."""
        chart = self.read_bytes(layout.leaderboard_files(dataset)["csv"])
        return pd.read_csv(io.BytesIO(chart))["metric"].iloc[0] if chart else None

    def leaderboards(self) -> list[str]:
        folder = layout.leaderboard_files("_")["json"].parent
        if self.ref is None:
            return sorted(path.stem for path in (self.project / folder).glob("*.json"))
        listed = subprocess.run(["git", "ls-tree", "--name-only", self.ref, f"./{folder.as_posix()}/"],
                                cwd=self.project, capture_output=True, text=True, check=False)
        return sorted(Path(line).stem for line in listed.stdout.splitlines() if line.endswith(".json"))


def _dvc_cached(project: Path, path: Path, ref: str) -> bytes | None:
    import dvc.api  # about a second to import: only when a base revision's predictions are read

    try:
        return dvc.api.read(path.as_posix(), repo=str(project), rev=ref, mode="rb")
    except Exception:  # noqa: BLE001  (an output missing from the cache surfaces as one of several dvc-data errors)
        return None


def _board(revision: Revision, dataset: str) -> tuple[dict, str | None]:
    """The leaderboard's rows by model, and the main metric it ranks by."""
    board = revision.read_bytes(layout.leaderboard_files(dataset)["json"])
    return (json.loads(board) if board else {}), revision.main_metric(dataset)


def compare(project: Path, ref: str, draws: int = 1000, level: float = 0.95) -> list[DatasetChange]:
    """Every dataset with a leaderboard at either revision, its models in the workspace's ranking (removed last)."""
    base, head = Revision(project, ref), Revision(project, None)
    found = []
    for dataset in sorted(set(base.leaderboards()) | set(head.leaderboards())):
        (base_board, base_metric), (head_board, head_metric) = _board(base, dataset), _board(head, dataset)
        metric = head_metric or base_metric
        order = sorted(head_board, key=lambda model: head_board[model]["rank"])
        order += sorted(set(base_board) - set(head_board), key=lambda model: base_board[model]["rank"])
        found.append(DatasetChange(dataset, metric, [
            _model_change(dataset, model, base_board.get(model), head_board.get(model), metric, base, head,
                          draws, level) for model in order]))
    return found


def _model_change(dataset: str, model: str, base_row: dict | None, head_row: dict | None, metric: str,
                  base: Revision, head: Revision, draws: int, level: float) -> ModelChange:
    change = ModelChange(model, base_row and base_row.get(metric), head_row and head_row.get(metric),
                         base_row and base_row["rank"], head_row and head_row["rank"], UNTESTED)
    if base_row is None or head_row is None:
        change.verdict = ADDED if base_row is None else REMOVED
        return change
    path = layout.predictions(dataset, model)
    base_bytes, head_bytes = base.read_bytes(path, cached=True), head.read_bytes(path)
    if base_bytes is not None and base_bytes == head_bytes:
        change.verdict = UNCHANGED
        return change
    if base_bytes is None or head_bytes is None:
        change.verdict = UNCHANGED if change.base == change.head else UNTESTED
        return change
    before, after = predictions.read(base_bytes), predictions.read(head_bytes)
    if not before.same_texts(after):  # the test split itself changed: nothing to pair
        return change
    tests = {name: tested_difference(before, after, name, draws, level) for name in _columns(after)}
    change.difference = tests[metric]
    change.verdict = (NOISE if not change.difference.significant
                      else BETTER if change.difference.change > 0 else WORSE)
    change.moved = {name: found for name, found in tests.items() if name != metric and found.significant}
    return change


def _columns(found: predictions.Predictions) -> list[str]:
    return list(tasks.TASKS[found.task].columns)


def tested_difference(before: predictions.Predictions, after: predictions.Predictions, metric: str, draws: int,
         level: float) -> significance.Difference:
    """Whether ``metric`` differs between two models' predictions on the same test texts.

    Accuracy is a share of texts right: McNemar's test on the texts one model gets right and the other wrong.
    Any other metric: a paired bootstrap over the test texts.
    """
    task = tasks.TASKS[after.task](after.classes, 0.5, metric)  # the moved logits decide at 0.5
    base_logits, head_logits = before.decision_logits(), after.decision_logits()
    if metric == "accuracy":
        return significance.mcnemar(_correct(task, after.labels, base_logits), _correct(task, after.labels, head_logits),
                                    level=level)
    return significance.paired_bootstrap(after.labels, base_logits, head_logits, task.score, draws=draws, level=level)


def _correct(task: tasks.Task, labels: np.ndarray, logits: np.ndarray) -> np.ndarray:
    return task.predicted(task.probabilities(logits)) == labels
