"""Turn fetched records into tidy train / validation / test / unsup tables.

The validation split is carved from train only, stratified by label and
movie-disjoint: IMDB keeps train and test movies apart, and a validation set
that shares movies with train would reward memorising actor and title names.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from textclf.errors import TextclfError

SPLITS = ("train", "validation", "test", "unsup")
COLUMNS = ["id", "text", "label", "rating", "movie"]
LABEL_IDS = {"neg": 0, "pos": 1, "unsup": -1}
_HTML_BREAK = re.compile(r"<br\s*/?>", flags=re.IGNORECASE)


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


def split_tables(frame: pd.DataFrame, fraction: float, seed: int) -> dict[str, pd.DataFrame]:
    labelled_train = frame[(frame["split"] == "train") & (frame["label"] >= 0)]
    in_validation = movie_disjoint_split(labelled_train, fraction, seed)
    tables = {
        "train": labelled_train[~in_validation],
        "validation": labelled_train[in_validation],
        "test": frame[frame["split"] == "test"],
        "unsup": frame[frame["label"] < 0],
    }
    return {name: table[COLUMNS].reset_index(drop=True) for name, table in tables.items()}


def data_report(tables: dict[str, pd.DataFrame]) -> dict:
    """Counts and hygiene checks a reader should see before trusting any score."""
    labelled_train = pd.concat([tables["train"], tables["validation"]])
    report: dict = {"counts": {}, "empty_texts": {}, "length_words": {}}
    for name, table in tables.items():
        names = table["label"].map({0: "neg", 1: "pos", -1: "unlabelled"})
        report["counts"][name] = {"total": int(len(table)), **{k: int(v) for k, v in names.value_counts().sort_index().items()}}
        report["empty_texts"][name] = int((table["text"].str.strip() == "").sum())
        words = table["text"].str.split().str.len()
        report["length_words"][name] = (
            {f"p{q}": float(np.percentile(words, q)) for q in (5, 50, 95)} | {"max": int(words.max())}
            if len(table) else {}
        )
    report["duplicate_texts_in_train"] = int(labelled_train["text"].duplicated().sum())
    report["texts_shared_by_train_and_test"] = len(set(labelled_train["text"]) & set(tables["test"]["text"]))
    report["movies_shared_by_train_and_validation"] = len(
        set(tables["train"]["movie"]) & set(tables["validation"]["movie"])
    )
    return report
