"""Prepared tables (``data/prepared/<dataset>/<split>.parquet``), read a chunk of rows at a time,
so memory stays flat however large a split is."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

import pandas as pd
import pyarrow.parquet as pq

from textclf.core.errors import TextclfError
from textclf.pipeline.layout import prepared_split

UNLABELLED_SPLIT = "unsup"


def table_chunks(path: Path, rows: int, columns: Sequence[str] = ("text", "label")) -> Iterator[pd.DataFrame]:
    """The table's ``columns`` in chunks of at most ``rows`` rows; an empty table is one empty chunk."""
    batches = pq.ParquetFile(path).iter_batches(batch_size=rows, columns=list(columns))
    first = next(batches, None)
    if first is None:
        yield pq.read_table(path, columns=list(columns)).to_pandas()
        return
    yield first.to_pandas()
    for batch in batches:
        yield batch.to_pandas()


def unlabelled_table(dataset: str) -> Path:
    """The table of a dataset's unlabelled texts, which self-training and ``fit_unlabelled`` read."""
    path = prepared_split(dataset, UNLABELLED_SPLIT)
    if not path.is_file():
        raise TextclfError(f"{path} not found: dataset '{dataset}' has no unlabelled texts (IMDB's unsup reviews are "
                           "one such split); self-training and fit_unlabelled need them")
    return path
