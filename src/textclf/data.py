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
LABEL_NAMES = {label_id: name for name, label_id in LABEL_IDS.items()}
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


def split_tables(frame: pd.DataFrame, fraction: float, seed: int) -> dict[str, pd.DataFrame]:
    labelled_train = frame[(frame["split"] == "train") & (frame["label"] >= 0)]
    in_validation = movie_disjoint_split(labelled_train, fraction, seed)
    tables = {
        "train": labelled_train[~in_validation],
        "validation": labelled_train[in_validation],
        "test": frame[frame["split"] == "test"],
        "unsup": frame[frame["label"] < 0],
    }
    tables = {name: table[COLUMNS].reset_index(drop=True) for name, table in tables.items()}
    check_validation_split(tables["train"], tables["validation"])
    return tables


def _shares(shares: pd.Series) -> str:
    return ", ".join(f"{LABEL_NAMES.get(label, label)} {share:.1%}" for label, share in shares.sort_index().items())


def check_validation_split(train: pd.DataFrame, validation: pd.DataFrame) -> None:
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
            f"validation split is not stratified: validation holds {_shares(actual)}, the labelled train reviews "
            f"{_shares(expected)} (is the movie column of data/raw/imdb.parquet right, or are some movies too "
            "large for prepare.validation_fraction?)"
        )


def data_report(tables: dict[str, pd.DataFrame]) -> dict:
    """Counts and hygiene checks a reader should see before trusting any score."""
    labelled_train = pd.concat([tables["train"], tables["validation"]])
    report: dict = {"counts": {}, "empty_texts": {}, "length_words": {}}
    for name, table in tables.items():
        names = table["label"].map(LABEL_NAMES | {-1: "unlabelled"})
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
