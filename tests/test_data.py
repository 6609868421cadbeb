import pandas as pd
import pytest

from textclf import data, fetch
from textclf.errors import TextclfError


@pytest.fixture
def records(tiny_archive):
    return data.tidy(fetch.records_from_archive(tiny_archive))


def test_clean_text_replaces_html_breaks():
    assert data.clean_text("Good.<br /><br />Really<br/>good<BR>") == "Good.  Really good"


def test_tidy_maps_labels_and_cleans_text(records):
    assert set(records["label"]) == {0, 1, -1}
    assert not records["text"].str.contains("<br", regex=False).any()


def test_tables_have_the_documented_columns(records):
    tables = data.split_tables(records, fraction=0.25, seed=1)
    assert set(tables) == set(data.SPLITS)
    for table in tables.values():
        assert list(table.columns) == data.COLUMNS
    assert len(tables["test"]) == 80 and len(tables["unsup"]) == 40
    assert len(tables["train"]) + len(tables["validation"]) == 80


def test_validation_is_movie_disjoint_and_stratified(records):
    tables = data.split_tables(records, fraction=0.25, seed=3)
    train, validation = tables["train"], tables["validation"]
    assert not set(train["movie"]) & set(validation["movie"])
    assert validation["label"].value_counts().to_dict() == {0: 10, 1: 10}
    assert not set(zip(train["id"], train["label"])) & set(zip(validation["id"], validation["label"]))


def test_split_is_seeded(records):
    first = data.split_tables(records, fraction=0.25, seed=3)["validation"]
    again = data.split_tables(records, fraction=0.25, seed=3)["validation"]
    other = data.split_tables(records, fraction=0.25, seed=4)["validation"]
    assert first.equals(again)
    assert not first.equals(other)


def test_reviews_without_movie_are_their_own_group():
    records = pd.DataFrame(
        {"split": ["train"] * 4, "label": ["pos", "pos", "neg", "neg"], "id": [0, 1, 0, 1],
         "rating": [0] * 4, "movie": [""] * 4, "text": ["a", "b", "c", "d"]}
    )
    tables = data.split_tables(data.tidy(records), fraction=0.5, seed=0)
    assert tables["validation"]["label"].value_counts().to_dict() == {0: 1, 1: 1}


def test_too_small_a_fraction_is_an_error(records):
    with pytest.raises(TextclfError, match="no room for a single movie"):
        data.split_tables(records, fraction=0.01, seed=0)


def test_limit_per_label_keeps_a_seeded_slice(records):
    limited = data.limit_per_label(records, 7, seed=0)
    assert limited.groupby(["split", "label"]).size().eq(7).all()
    assert limited.equals(data.limit_per_label(records, 7, seed=0))
    assert data.limit_per_label(records, None, seed=0) is records


def test_data_report_counts_duplicates_and_leaks(records):
    records.loc[(records["split"] == "test") & (records["id"] == 0), "text"] = "shared review"
    records.loc[(records["split"] == "train") & (records["id"].isin([0, 1])) & (records["label"] == 1), "text"] = "shared review"
    records.loc[(records["split"] == "test") & (records["id"] == 1), "text"] = " "
    report = data.data_report(data.split_tables(records, fraction=0.25, seed=0))
    assert report["counts"]["test"] == {"total": 80, "neg": 40, "pos": 40}
    assert report["counts"]["unsup"] == {"total": 40, "unlabelled": 40}
    assert report["duplicate_texts_in_train"] == 1
    assert report["texts_shared_by_train_and_test"] == 1
    assert report["empty_texts"]["test"] == 2
    assert report["movies_shared_by_train_and_validation"] == 0
    assert report["length_words"]["train"]["p5"] <= report["length_words"]["train"]["p50"] <= report["length_words"]["train"]["max"]


def test_a_validation_split_that_breaks_stratification_is_refused(tiny_archive):
    """All positive train reviews under one movie: it cannot fit in validation, which would hold only negatives."""
    records = data.tidy(fetch.records_from_archive(tiny_archive))
    positive_train = (records["split"] == "train") & (records["label"] == 1)
    records.loc[positive_train, "movie"] = "tt9999999"
    with pytest.raises(TextclfError, match=r"not stratified: validation holds neg 100.0%, pos 0.0%, the labelled train reviews neg 50.0%, pos 50.0%"):
        data.split_tables(records, fraction=0.25, seed=0)


def test_a_validation_split_that_shares_movies_is_refused(records):
    tables = data.split_tables(records, fraction=0.25, seed=0)
    leaked = tables["validation"].assign(movie=tables["train"]["movie"].iloc[0])
    with pytest.raises(TextclfError, match="validation shares 1 movie"):
        data.check_validation_split(tables["train"], leaked)
