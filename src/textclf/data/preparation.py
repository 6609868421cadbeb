"""Datasets: a params block in, tidy train / validation / test (/ unsup) tables out.

Each dataset names a ``reader`` (how its file becomes labelled rows), a
``task`` and its ``classes``. Prepared tables hold ``id``, ``text`` and
``label``: a class index, or a list of them for multi-label tasks.

IMDB's validation split is carved from train only, stratified by label and
movie-disjoint: IMDB keeps train and test movies apart, and a validation set
that shares movies with train would reward memorising actor and title names.
Other datasets are split by a seeded shuffle, or by the user's split column.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from textclf.core import schema
from textclf.core.errors import TextclfError
from textclf.data import labelled_files
from textclf.tasks import TASKS, Task

SPLITS = ("train", "validation", "test", "unsup")
LABELLED_SPLITS = ("train", "validation", "test")
COLUMNS = ["id", "text", "label", "rating", "movie"]
LABEL_IDS = {"neg": 0, "pos": 1, "unsup": -1}  # the archive's directories
_HTML_BREAK = re.compile(r"<br\s*/?>", flags=re.IGNORECASE)
# How far a label's share in validation may stray from its share in train. The
# greedy movie split meets its targets almost exactly on IMDB (at most 30 reviews
# a movie); a larger gap means the movie column is wrong or movies are too big.
SHARE_TOLERANCE = 0.05


def clean_text(text: str) -> str:
    """The archive keeps the site's ``<br />`` line breaks; they are not words."""
    return _HTML_BREAK.sub(" ", text).strip()


def tidy(records: pd.DataFrame) -> pd.DataFrame:
    missing = sorted({"split", "label", "id", "rating", "movie", "text"} - set(records.columns))
    if missing:
        raise TextclfError(f"fetched records lack columns: {', '.join(missing)}")
    frame = records.copy()
    frame["text"] = frame["text"].map(clean_text)
    unknown = sorted(set(frame["label"]) - set(LABEL_IDS))
    if unknown:
        raise TextclfError(f"fetched records have unknown labels: {unknown}")
    frame["label"] = frame["label"].map(LABEL_IDS).astype("int64")
    # Without a movie (TFDS gives none) every review is its own group.
    no_movie = frame["movie"].fillna("") == ""
    frame.loc[no_movie, "movie"] = "review-" + frame.loc[no_movie, "split"] + "-" + frame.loc[no_movie, "id"].astype(str)
    return frame


def limit_per_label(frame: pd.DataFrame, limit: int | None, seed: int) -> pd.DataFrame:
    """Keep at most ``limit`` reviews per (split, label): a seeded, quick slice."""
    if limit is None:
        return frame
    shuffled = frame.sample(frac=1.0, random_state=seed)
    return shuffled.groupby(["split", "label"], sort=False).head(limit).sort_index()


def movie_disjoint_split(train: pd.DataFrame, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of the validation rows: whole movies, label shares kept.

    Movies are visited in a seeded random order and a movie joins validation
    only while no label would overshoot its target count. IMDB has at most 30
    reviews per movie, so the targets are met almost exactly.
    """
    counts = train.groupby(["movie", "label"]).size().unstack(fill_value=0)
    targets = (train["label"].value_counts() * fraction).round().astype(int)
    filled = pd.Series(0, index=targets.index)
    chosen = []
    order = np.random.default_rng(seed).permutation(len(counts))
    for movie, per_label in counts.iloc[order].iterrows():
        if ((filled + per_label.reindex(filled.index, fill_value=0)) <= targets).all():
            filled += per_label.reindex(filled.index, fill_value=0)
            chosen.append(movie)
            if (filled == targets).all():
                break
    if len(chosen) == 0:
        raise TextclfError(
            f"prepare.validation_fraction={fraction} leaves no room for a single movie "
            f"in validation ({len(train)} train reviews)"
        )
    return train["movie"].isin(chosen).to_numpy()


def split_tables(frame: pd.DataFrame, fraction: float, seed: int, classes: list[str]) -> dict[str, pd.DataFrame]:
    labelled_train = frame[(frame["split"] == "train") & (frame["label"] >= 0)]
    in_validation = movie_disjoint_split(labelled_train, fraction, seed)
    tables = {
        "train": labelled_train[~in_validation],
        "validation": labelled_train[in_validation],
        "test": frame[frame["split"] == "test"],
        "unsup": frame[frame["label"] < 0],
    }
    tables = {name: table[COLUMNS].reset_index(drop=True) for name, table in tables.items()}
    check_validation_split(tables["train"], tables["validation"], classes)
    return tables


def _shares(shares: pd.Series, classes: list[str]) -> str:
    return ", ".join(f"{classes[label]} {share:.1%}" for label, share in shares.sort_index().items())


def check_validation_split(train: pd.DataFrame, validation: pd.DataFrame, classes: list[str]) -> None:
    """Refuse a validation split that breaks the two promises it is made with.

    Checked on the result, not trusted from the algorithm: a damaged movie
    mapping once produced a validation split with no positive review at all.
    """
    shared = sorted(set(train["movie"]) & set(validation["movie"]))
    if shared:
        raise TextclfError(f"validation shares {len(shared)} movie(s) with train (first: {shared[0]}); it must be movie-disjoint")
    labelled = pd.concat([train, validation])
    expected = labelled["label"].value_counts(normalize=True)
    actual = validation["label"].value_counts(normalize=True).reindex(expected.index, fill_value=0.0)
    if (actual - expected).abs().max() > SHARE_TOLERANCE:
        raise TextclfError(
            f"validation split is not stratified: validation holds {_shares(actual, classes)}, the labelled train "
            f"reviews {_shares(expected, classes)} (is the movie column of the records right, or are some movies too "
            "large for validation_fraction?)"
        )


def data_report(tables: dict[str, pd.DataFrame], task: Task, dropped: dict[str, int]) -> dict:
    """Counts and hygiene checks a reader should see before trusting any score."""
    labelled_train = pd.concat([tables["train"], tables["validation"]])
    report: dict = {"counts": {}, "empty_texts": {}, "length_words": {}}
    for name, table in tables.items():
        names = table["label"].explode().dropna().map(lambda label: task.classes[label] if label >= 0 else "unlabelled")
        report["counts"][name] = {"total": int(len(table)), **{k: int(v) for k, v in names.value_counts().sort_index().items()}}
        report["empty_texts"][name] = int((table["text"].str.strip() == "").sum())
        words = table["text"].str.split().str.len()
        report["length_words"][name] = (
            {f"p{q}": float(np.percentile(words, q)) for q in (5, 50, 95)} | {"max": int(words.max())}
            if len(table) else {}
        )
    report["duplicate_texts_in_train"] = int(labelled_train["text"].duplicated().sum())
    report["texts_shared_by_train_and_test"] = len(set(labelled_train["text"]) & set(tables["test"]["text"]))
    if "movie" in tables["train"]:
        report["movies_shared_by_train_and_validation"] = len(
            set(tables["train"]["movie"]) & set(tables["validation"]["movie"])
        )
    report["dropped"] = dict(dropped)
    return {"task": task.name, "classes": task.classes} | report


# Datasets ---------------------------------------------------------------------

def _imdb_records(settings: dict) -> tuple[dict[str, pd.DataFrame], dict[str, int], Task]:
    """IMDB reviews labelled by sentiment (neg, pos) or by their star rating."""
    task = settled_task(settings, [])
    path = Path(settings["path"]) / "records.parquet"
    if not path.is_file():
        raise TextclfError(f"{path} not found (run `dvc repro fetch`)")
    records = limit_per_label(tidy(pd.read_parquet(path)), settings["limit_per_label"], settings["seed"])
    if settings["label"] == "rating":
        labelled = records["label"] >= 0
        ratings = records.loc[labelled, "rating"].astype(str)
        unknown = ratings[~ratings.isin(task.classes)]
        if len(unknown):
            row = records.loc[unknown.index[0]]
            raise TextclfError(f"{path}: review {row['split']}/{row['id']}: rating {unknown.iloc[0]} is not one of "
                               f"the configured classes ({', '.join(task.classes)})")
        records.loc[labelled, "label"] = ratings.map(task.classes.index).astype("int64")
    return split_tables(records, settings["validation_fraction"], settings["seed"], task.classes), {}, task


def _labelled_rows(rows: labelled_files.Rows, task: Task, settings: dict, path: Path, column: str) -> dict[str, pd.DataFrame]:
    """Class indices and splits for rows a reader returned."""
    frame = rows.frame
    if task.name != "multi_label":
        several = frame["labels"].str.len() > 1
        if several.any():
            first = frame[several].iloc[0]
            raise TextclfError(f"{path}: {rows.location} {first['line']}: column '{column}' holds {len(first['labels'])} labels "
                               f"({', '.join(first['labels'])}); a {task.name} dataset takes one a row "
                               "(set task: multi_label, or drop label_delimiter)")
    indices = frame["labels"].map(lambda names: [task.classes.index(name) for name in names])
    if task.name != "multi_label":
        indices = indices.map(lambda labels: labels[0])
    table = pd.DataFrame({"id": frame["line"].astype("int64"), "text": frame["text"], "label": indices})
    splits = frame["split"]
    if splits.isna().all():
        fractions = settings["validation_fraction"], settings["test_fraction"], settings["seed"]
        if settings["split"] == "shuffle":
            splits = labelled_files.split_rows(len(frame), *fractions)
        else:
            splits = labelled_files.stratified_split_rows(labelled_files.strata(frame["labels"].tolist()), *fractions)
        splits = pd.Series(splits, index=frame.index)
    return {split: table[splits.to_numpy() == split].reset_index(drop=True) for split in LABELLED_SPLITS}


def fetched_file(path: Path) -> Path:
    """``path`` itself, or the one file fetch wrote into the directory ``path``."""
    if not path.exists():
        raise TextclfError(f"{path} not found (run `dvc repro fetch@{path.name}`, or fix the dataset's path)")
    if path.is_file():
        return path
    files = sorted(item for item in path.iterdir() if item.is_file() and not item.name.startswith("."))
    if len(files) != 1:
        raise TextclfError(f"{path} holds {len(files)} files; the dataset's path must name one file or a folder with one")
    return files[0]


def _movies_metadata(settings: dict) -> tuple[dict[str, pd.DataFrame], dict[str, int], Task]:
    """The movie-genre tutorial's data: overviews tagged with any of the listed genres."""
    task = settled_task(settings, [])
    rows = labelled_files.read_movies_metadata(fetched_file(Path(settings["path"])), task.classes)
    return _labelled_rows(rows, task, settings, Path(settings["path"]), "genres"), rows.dropped, task


def _table(settings: dict) -> tuple[dict[str, pd.DataFrame], dict[str, int], Task]:
    """A user's own CSV, TSV, JSONL or parquet file."""
    path = Path(settings["path"])
    rows = labelled_files.read_table(path, settings)
    found = list(dict.fromkeys(label for labels in rows.frame["labels"] for label in labels))
    task = settled_task(settings, found)
    labelled_files.check_labels(rows, task.classes, path, settings["label_column"])
    return _labelled_rows(rows, task, settings, path, settings["label_column"]), rows.dropped, task


def _class_order(found: list[str]) -> list[str]:
    """A stable order for classes read from the data: by value for whole numbers (1, 2, 10), else alphabetical."""
    if all(re.fullmatch(r"-?[0-9]+", name) for name in found):
        return sorted(found, key=int)
    return sorted(found)


def settled_task(settings: dict, found: list[str]) -> Task:
    """The dataset's task: its stated task and classes, or what the labels ``found`` in its data imply.

    A label delimiter means multi-label; otherwise two classes make a binary
    task and more a multi-class one. Stated classes fix the order the model
    outputs them in; read ones are sorted (see ``_class_order``).
    """
    name = settings["name"]
    classes = [str(c) for c in settings["classes"]] if settings.get("classes") is not None else _class_order(found)
    task = settings.get("task") or ("multi_label" if settings.get("label_delimiter") else
                                    "binary" if len(classes) == 2 else "multi_class")
    if len(classes) < 2:
        raise TextclfError(f"datasets.{name}: {len(classes)} class found ({', '.join(map(repr, classes)) or 'none'}): "
                           "a task needs at least two classes")
    try:
        return TASKS[task](classes, settings["threshold"], settings["metric"])
    except TextclfError as error:  # the task's own check of its classes
        raise TextclfError(f"params.yaml: datasets.{name}: {error}") from None


# Each reader: the function that turns its checked block (textclf.core.schema.DATASET_READERS) into tables.
READERS = {"imdb": _imdb_records, "movies_metadata": _movies_metadata, "table": _table}


def checked_dataset(block: dict, name: str) -> dict:
    """Dataset ``name``'s block over its reader's defaults, every problem found at once, one line each."""
    reader = block.get("reader", "table")
    if reader not in schema.DATASET_READERS:
        raise TextclfError(f"params.yaml: datasets.{name}.reader must be one of "
                           f"{', '.join(map(repr, schema.DATASET_READERS))}, got {reader!r}")
    return schema.validated(schema.DATASET_READERS[reader], block, f"datasets.{name}") | {"name": name}


def prepare(settings: dict) -> tuple[dict[str, pd.DataFrame], dict[str, int], Task]:
    """The dataset's tables, what its reader dropped on purpose (by reason) and its task."""
    tables, dropped, task = READERS[settings["reader"]](settings)
    check_classes_present(tables, task, settings["path"], settings.get("split_column"))
    return tables, dropped, task


def check_classes_present(tables: dict[str, pd.DataFrame], task: Task, path: str, split_column: str | None = None) -> None:
    """Every labelled split needs an example of every class: a model cannot learn, or be scored on, a class it never sees."""
    for split in LABELLED_SPLITS:
        present = set(tables[split]["label"].explode().dropna())
        missing = [name for index, name in enumerate(task.classes) if index not in present]
        if missing:
            index = task.classes.index(missing[0])
            rows = sum(int((table["label"].explode() == index).sum()) for name, table in tables.items() if name in LABELLED_SPLITS)
            fix = (f"mark rows of it as {split} in column '{split_column}'" if split_column else
                   "add rows of it, change the split fractions")
            raise TextclfError(f"{path}: the {split} split has no example of class {missing[0]!r}, which has {rows} labelled "
                               f"row(s) in all ({len(tables[split])} rows in {split}; {fix}, or drop the class)")
