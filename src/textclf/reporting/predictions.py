"""A model's test predictions, kept by its evaluate stage: what a report needs to test a change on the same texts.

A metric moved by half a point between two revisions: real, or noise? Only the two models' predictions on the
same test texts can say (``textclf.reporting.significance``). One parquet file per model, tracked by DVC
(``textclf.pipeline.layout.predictions``): a row per test text in the prepared split's order, its label and the
model's logits, named so that ``pandas.read_parquet`` shows what they are:

- ``label`` (the class index), or for multi-label ``label:<class>`` (0/1) for every class;
- ``logit:<class>`` for every output (a binary model has one, its second class's).

The file's metadata holds the task, the classes and the threshold the model decides at, so a file is read
without the revision's other files.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from textclf.core.errors import TextclfError

METADATA_KEY = b"textclf"


@dataclass(frozen=True)
class Predictions:
    task: str
    classes: list[str]
    threshold: float | None  # None for multi-class, which takes the most probable class
    labels: np.ndarray  # [n] class indices, or [n, classes] 0/1 for multi-label
    logits: np.ndarray  # [n, outputs] float32

    def decision_logits(self) -> np.ndarray:
        """The logits moved so that deciding at probability 0.5 decides as the model does at its threshold.

        Two revisions' models decide at thresholds of their own; moved, the same metric function scores both.
        The move is the same for every text, so rankings (ROC-AUC) are unchanged.
        """
        if self.threshold is None:
            return self.logits
        return self.logits - np.float32(np.log(self.threshold / (1.0 - self.threshold)))

    def same_texts(self, other: Predictions) -> bool:
        """Whether both are predictions on the same test split (paired): the same task, classes and labels."""
        return (self.task, self.classes) == (other.task, other.classes) and np.array_equal(self.labels, other.labels)


def write(path: Path, task, labels: np.ndarray, logits: np.ndarray) -> None:
    """Write a model's test ``labels`` and ``logits`` for ``task`` (a ``textclf.tasks.Task``) to ``path``."""
    logits = np.asarray(logits, np.float32).reshape(len(labels), -1)
    outputs = task.classes[-1:] if task.name == "binary" else task.classes
    if task.name == "multi_label":
        columns = {f"label:{name}": pa.array(labels[:, k].astype(np.int8)) for k, name in enumerate(task.classes)}
    else:
        columns = {"label": pa.array(np.asarray(labels, np.int64))}
    columns |= {f"logit:{name}": pa.array(logits[:, k]) for k, name in enumerate(outputs)}
    described = {"task": task.name, "classes": task.classes,
                 "threshold": float(task.threshold) if task.uses_threshold else None}
    table = pa.table(columns).replace_schema_metadata({METADATA_KEY: json.dumps(described).encode()})
    pq.write_table(table, path, compression="zstd")


def read(source: Path | bytes) -> Predictions:
    """The predictions in a file (a path, or its bytes as read from a git revision)."""
    name = source if isinstance(source, Path) else "predictions"
    try:
        table = pq.read_table(source if isinstance(source, Path) else io.BytesIO(source))
        described = json.loads(table.schema.metadata[METADATA_KEY])
        columns = table.column_names
        label_columns = [column for column in columns if column.startswith("label")]
        logit_columns = [column for column in columns if column.startswith("logit:")]
        labels = np.stack([table[column].to_numpy() for column in label_columns], axis=1).astype(np.int64)
        logits = np.stack([table[column].to_numpy() for column in logit_columns], axis=1).astype(np.float32)
    except (OSError, KeyError, TypeError, ValueError, pa.ArrowException) as error:
        raise TextclfError(f"{name} is not a textclf predictions file ({error})") from None
    return Predictions(described["task"], described["classes"], described["threshold"],
                       labels if described["task"] == "multi_label" else labels[:, 0], logits)
