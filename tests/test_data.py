import pandas as pd
import pytest
import yaml
from conftest import PROJECT_ROOT, write_movies_metadata

from textclf import tasks
from textclf.core.errors import TextclfError
from textclf.data import fetch, preparation

SENTIMENT = ["negative", "positive"]
RATINGS = [1, 2, 3, 4, 7, 8, 9, 10]
GENRES = ["Comedy", "Thriller", "Romance", "Action", "Horror", "Crime", "Documentary", "Adventure", "Science Fiction"]


@pytest.fixture
def records(tiny_archive):
    return preparation.tidy(fetch.records_from_archive(tiny_archive))


@pytest.fixture
def imdb_dir(tiny_archive, tmp_path):
    """data/raw/imdb as fetch@imdb writes it."""
    directory = tmp_path / "raw" / "imdb"
    directory.mkdir(parents=True)
    fetch.write_records(fetch.records_from_archive(tiny_archive), directory / "records.parquet")
    return directory


def imdb_params(directory, **settings):
    block = {"task": "binary", "reader": "imdb", "path": str(directory), "label": "sentiment", "classes": SENTIMENT,
             "validation_fraction": 0.25, "seed": 0, "limit_per_label": None}
    return {"datasets": {"d": block | settings}}


def ratings_params(directory, **settings):
    return imdb_params(directory, **{"task": "multi_class", "label": "rating", "classes": RATINGS} | settings)


def prepared(params):
    tables, dropped, task = preparation.prepare(preparation.checked_dataset(params["datasets"]["d"], "d"))
    return task, tables, dropped


def test_clean_text_replaces_html_breaks():
    assert preparation.clean_text("Good.<br /><br />Really<br/>good<BR>") == "Good.  Really good"


def test_tidy_maps_labels_and_cleans_text(records):
    assert set(records["label"]) == {0, 1, -1}
    assert not records["text"].str.contains("<br", regex=False).any()


def test_tables_have_the_documented_columns(records):
    tables = preparation.split_tables(records, fraction=0.25, seed=1, classes=SENTIMENT)
    assert set(tables) == set(preparation.SPLITS)
    for table in tables.values():
        assert list(table.columns) == preparation.COLUMNS
    assert len(tables["test"]) == 80 and len(tables["unsup"]) == 40
    assert len(tables["train"]) + len(tables["validation"]) == 80


def test_validation_is_movie_disjoint_and_stratified(records):
    tables = preparation.split_tables(records, fraction=0.25, seed=3, classes=SENTIMENT)
    train, validation = tables["train"], tables["validation"]
    assert not set(train["movie"]) & set(validation["movie"])
    assert validation["label"].value_counts().to_dict() == {0: 10, 1: 10}
    assert not set(zip(train["id"], train["label"])) & set(zip(validation["id"], validation["label"]))


def test_split_is_seeded(records):
    first = preparation.split_tables(records, fraction=0.25, seed=3, classes=SENTIMENT)["validation"]
    again = preparation.split_tables(records, fraction=0.25, seed=3, classes=SENTIMENT)["validation"]
    other = preparation.split_tables(records, fraction=0.25, seed=4, classes=SENTIMENT)["validation"]
    assert first.equals(again)
    assert not first.equals(other)


def test_reviews_without_movie_are_their_own_group():
    records = pd.DataFrame(
        {"split": ["train"] * 4, "label": ["pos", "pos", "neg", "neg"], "id": [0, 1, 0, 1],
         "rating": [0] * 4, "movie": [""] * 4, "text": ["a", "b", "c", "d"]}
    )
    tables = preparation.split_tables(preparation.tidy(records), fraction=0.5, seed=0, classes=SENTIMENT)
    assert tables["validation"]["label"].value_counts().to_dict() == {0: 1, 1: 1}


def test_too_small_a_fraction_is_an_error(records):
    with pytest.raises(TextclfError, match="no room for a single movie"):
        preparation.split_tables(records, fraction=0.01, seed=0, classes=SENTIMENT)


def test_limit_per_label_keeps_a_seeded_slice(records):
    limited = preparation.limit_per_label(records, 7, seed=0)
    assert limited.groupby(["split", "label"]).size().eq(7).all()
    assert limited.equals(preparation.limit_per_label(records, 7, seed=0))
    assert preparation.limit_per_label(records, None, seed=0) is records


def test_data_report_counts_duplicates_and_leaks(records):
    records.loc[(records["split"] == "test") & (records["id"] == 0), "text"] = "shared review"
    records.loc[(records["split"] == "train") & (records["id"].isin([0, 1])) & (records["label"] == 1), "text"] = "shared review"
    records.loc[(records["split"] == "test") & (records["id"] == 1), "text"] = " "
    tables = preparation.split_tables(records, fraction=0.25, seed=0, classes=SENTIMENT)
    report = preparation.data_report(tables, tasks.Binary(SENTIMENT), {})
    assert report["counts"]["test"] == {"total": 80, "negative": 40, "positive": 40}
    assert report["counts"]["unsup"] == {"total": 40, "unlabelled": 40}
    assert report["duplicate_texts_in_train"] == 1
    assert report["texts_shared_by_train_and_test"] == 1
    assert report["empty_texts"]["test"] == 2
    assert report["movies_shared_by_train_and_validation"] == 0
    assert report["length_words"]["train"]["p5"] <= report["length_words"]["train"]["p50"] <= report["length_words"]["train"]["max"]
    assert report["dropped"] == {}


def test_a_validation_split_that_breaks_stratification_is_refused(tiny_archive):
    """All positive train reviews under one movie: it cannot fit in validation, which would hold only negatives."""
    records = preparation.tidy(fetch.records_from_archive(tiny_archive))
    positive_train = (records["split"] == "train") & (records["label"] == 1)
    records.loc[positive_train, "movie"] = "tt9999999"
    with pytest.raises(TextclfError, match=r"not stratified: validation holds negative 100.0%, positive 0.0%, "
                                           r"the labelled train reviews negative 50.0%, positive 50.0%"):
        preparation.split_tables(records, fraction=0.25, seed=0, classes=SENTIMENT)


def test_a_validation_split_that_shares_movies_is_refused(records):
    tables = preparation.split_tables(records, fraction=0.25, seed=0, classes=SENTIMENT)
    leaked = tables["validation"].assign(movie=tables["train"]["movie"].iloc[0])
    with pytest.raises(TextclfError, match="validation shares 1 movie"):
        preparation.check_validation_split(tables["train"], leaked, SENTIMENT)


# The IMDB reader through prepare --------------------------------------------


def test_imdb_by_sentiment_through_prepare(imdb_dir):
    task, tables, dropped = prepared(imdb_params(imdb_dir))
    assert task.name == "binary" and dropped == {}
    assert {split: len(table) for split, table in tables.items()} == {"train": 60, "validation": 20, "test": 80, "unsup": 40}
    assert set(tables["test"]["label"]) == {0, 1} and set(tables["unsup"]["label"]) == {-1}
    positive = tables["test"][tables["test"]["label"] == 1]
    assert positive["rating"].between(7, 10).all()  # label 1 is the second class, positive


def test_imdb_limit_per_label_through_prepare(imdb_dir):
    _, tables, _ = prepared(imdb_params(imdb_dir, limit_per_label=20))
    assert len(tables["test"]) == 40 and len(tables["train"]) + len(tables["validation"]) == 40


def test_imdb_by_rating_gives_class_indices(imdb_dir):
    task, tables, _ = prepared(ratings_params(imdb_dir))
    assert task.name == "multi_class" and task.classes == [str(r) for r in RATINGS]
    for split in ("train", "validation", "test"):
        table = tables[split]
        assert table["label"].dtype == "int64"
        # Each label is the index of the review's star rating among the classes.
        assert (table["label"].map(lambda index: RATINGS[index]) == table["rating"]).all()
    assert tables["test"]["label"].value_counts().to_dict() == dict.fromkeys(range(8), 10)
    assert set(tables["unsup"]["label"]) == {-1}
    assert not set(tables["train"]["movie"]) & set(tables["validation"]["movie"])


def test_imdb_rating_outside_the_classes_is_named(imdb_dir):
    with pytest.raises(TextclfError, match=r"records.parquet: review (test|train)/\d+: rating 4 is not one of the "
                                           r"configured classes \(1, 2, 3, 7, 8, 9, 10\)"):
        prepared(ratings_params(imdb_dir, classes=[1, 2, 3, 7, 8, 9, 10]))


def test_a_class_no_review_has_is_refused(imdb_dir):
    with pytest.raises(TextclfError, match=r"the train split has no example of class '5', which has 0 labelled row"):
        prepared(ratings_params(imdb_dir, classes=[1, 2, 3, 4, 5, 7, 8, 9, 10]))


def test_imdb_records_not_fetched_yet(tmp_path):
    with pytest.raises(TextclfError, match=r"records.parquet not found \(run `dvc repro fetch`\)"):
        prepared(imdb_params(tmp_path))


def test_check_classes_present_names_the_split_and_the_class():
    task = tasks.MultiLabel(["a", "b", "c"])
    tables = {"train": pd.DataFrame({"label": [[0, 1], [2]]}), "validation": pd.DataFrame({"label": [[0], [2], [0, 2]]}),
              "test": pd.DataFrame({"label": [[0, 1, 2]]})}
    with pytest.raises(TextclfError, match=r"data/x: the validation split has no example of class 'b', which has 2 "
                                           r"labelled row\(s\) in all \(3 rows in validation; add rows of it, change the "
                                           r"split fractions, or drop the class\)"):
        preparation.check_classes_present(tables, task, "data/x")
    tables["validation"].loc[0, "label"] = [0, 1]
    preparation.check_classes_present(tables, task, "data/x")
    single = {split: pd.DataFrame({"label": [0, 1]}) for split in preparation.LABELLED_SPLITS}
    preparation.check_classes_present(single, tasks.Binary(SENTIMENT), "data/x")
    single["test"] = pd.DataFrame({"label": [1, 1]})
    with pytest.raises(TextclfError, match="the test split has no example of class 'negative'"):
        preparation.check_classes_present(single, tasks.Binary(SENTIMENT), "data/x")


# A multi-label dataset: counts and drops in the report ----------------------


def test_data_report_counts_each_label_and_what_the_reader_dropped(tmp_path):
    write_movies_metadata(tmp_path / "movies_metadata.csv")
    params = {"datasets": {"d": {"task": "multi_label", "reader": "movies_metadata", "path": str(tmp_path),
                                 "classes": GENRES, "threshold": 0.5, "validation_fraction": 0.2, "test_fraction": 0.2,
                                 "seed": 42}}}
    task, tables, dropped = prepared(params)
    assert dropped == {"shifted_columns": 1, "duplicate_id": 1, "placeholder_overview": 1}
    assert set(tables) == set(preparation.LABELLED_SPLITS)  # no unsup split
    report = preparation.data_report(tables, task, dropped)
    assert report["dropped"] == dropped
    for split, table in tables.items():
        counts = report["counts"][split]
        assert counts["total"] == len(table)
        for index, genre in enumerate(GENRES):
            assert counts.get(genre, 0) == sum(index in labels for labels in table["label"])
        assert sum(counts.values()) - counts["total"] > counts["total"]  # some movies have two genres
    assert "movies_shared_by_train_and_validation" not in report  # no movie column to share
    assert report["texts_shared_by_train_and_test"] == 0


# checked_dataset ---------------------------------------------------------------


def test_every_dataset_of_the_project_params_checks_out():
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    for name, block in params["datasets"].items():
        settings = preparation.checked_dataset(block, name)
        assert settings == preparation.checked_dataset(block, name) and settings["task"] == block["task"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"reader": "sql"}, "datasets.d.reader must be one of 'table', 'imdb', 'movies_metadata', got 'sql'"),
        ({"reader": None}, "datasets.d.reader must be one of .*, got None"),
        ({"label": "stars"}, "datasets.d.label must be one of 'sentiment', 'rating', got 'stars'"),
        ({"validation_fraction": 1.5}, "datasets.d.validation_fraction must be a number strictly between 0 and 1, got 1.5"),
        ({"limit_per_label": 0}, "datasets.d.limit_per_label must be a positive integer, got 0"),
        ({"seed": -1}, "datasets.d.seed must be an integer >= 0, got -1"),
        ({"path": ""}, "datasets.d.path must be a non-empty string"),
        ({"test_fraction": 0.2}, "datasets.d: unknown key 'test_fraction'"),  # IMDB has its own test split
        ({"labels": "rating"}, "datasets.d: unknown key 'labels' \\(did you mean 'label'\\?\\)"),
        ({"task": "regression"}, "datasets.d.task must be one of 'binary', 'multi_class', 'multi_label'"),
    ],
)
def test_checked_dataset_errors_name_the_key(settings, message, tmp_path):
    with pytest.raises(TextclfError, match=message):
        preparation.checked_dataset(imdb_params(tmp_path, **settings)["datasets"]["d"], "d")


def test_checked_dataset_fills_in_defaults_and_names_what_has_none(tmp_path):
    block = {"reader": "imdb", "path": str(tmp_path), "classes": SENTIMENT}
    assert preparation.checked_dataset(block, "d") == block | {
        "task": None, "threshold": None, "metric": None, "seed": 42, "label": "sentiment", "validation_fraction": 0.2,
        "limit_per_label": None, "default_models": True, "name": "d"}
    with pytest.raises(TextclfError, match="datasets.d: missing key 'classes'"):
        preparation.checked_dataset({"reader": "movies_metadata", "path": str(tmp_path)}, "d")


def test_checked_dataset_reports_every_problem_at_once_one_line_each():
    with pytest.raises(TextclfError) as raised:
        preparation.checked_dataset({"text_colum": "body", "seed": -1, "encoding": "klingon"}, "mine")
    assert str(raised.value).splitlines() == [
        "params.yaml: datasets.mine: missing key 'path'",
        "params.yaml: datasets.mine.seed must be an integer >= 0, got -1",
        "params.yaml: datasets.mine: missing key 'text_column'",
        "params.yaml: datasets.mine: missing key 'label_column'",
        "params.yaml: datasets.mine.encoding is not an encoding Python knows (utf-8, latin-1, cp1252, ...), got 'klingon'",
        "params.yaml: datasets.mine: unknown key 'text_colum' (did you mean 'text_column'?)",
    ]


def test_a_label_delimiter_may_be_a_space():
    block = {"path": "x.csv", "text_column": "t", "label_column": "l", "label_delimiter": " "}
    assert preparation.checked_dataset(block, "d")["label_delimiter"] == " "
    with pytest.raises(TextclfError, match="label_delimiter must be a string of one or more characters, got ''"):
        preparation.checked_dataset(block | {"label_delimiter": ""}, "d")


# A user's own table: three keys, the rest read from the data ---------------------


def table_block(path, **settings):
    return {"path": str(path), "text_column": "text", "label_column": "label"} | settings


def write_csv(path, labels, texts=None):
    rows = "".join(f"{texts[i] if texts else f'text {i}'},{label}\n" for i, label in enumerate(labels))
    path.write_text("text,label\n" + rows, encoding="utf-8")
    return path


@pytest.mark.parametrize(("labels", "task", "classes"), [
    (["yes", "no"] * 10, "binary", ["no", "yes"]),
    (["10", "2", "1"] * 10, "multi_class", ["1", "2", "10"]),  # whole numbers in their order, not as text
])
def test_the_task_and_classes_are_read_from_the_labels(tmp_path, labels, task, classes):
    tables, _, settled = preparation.prepare(preparation.checked_dataset(table_block(write_csv(tmp_path / "d.csv", labels)), "d"))
    assert settled.name == task and settled.classes == classes
    # Per class: round(10 * 0.2) test rows and round(10 * 0.1) validation rows.
    per_class = {"train": 7, "validation": 1, "test": 2}
    assert {split: len(table) for split, table in tables.items()} == {k: v * len(classes) for k, v in per_class.items()}
    assert all(set(table["label"]) == set(range(len(classes))) for table in tables.values())


def test_stated_classes_fix_the_order_and_are_checked(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["yes", "no"] * 10)
    _, _, task = preparation.prepare(preparation.checked_dataset(table_block(path, classes=["yes", "no"]), "d"))
    assert task.classes == ["yes", "no"]
    with pytest.raises(TextclfError, match="label 'no' is not one of the configured classes \\(yes, maybe\\)"):
        preparation.prepare(preparation.checked_dataset(table_block(path, classes=["yes", "maybe"]), "d"))


def test_one_class_is_not_a_task(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["spam"] * 10)
    with pytest.raises(TextclfError, match="datasets.d: 1 class found \\('spam'\\): a task needs at least two classes"):
        preparation.prepare(preparation.checked_dataset(table_block(path), "d"))
    with pytest.raises(TextclfError, match="a binary task needs exactly two classes"):
        preparation.prepare(preparation.checked_dataset(table_block(write_csv(tmp_path / "e.csv", ["a", "b", "c"] * 5), task="binary"), "e"))


def test_several_labels_in_a_single_label_cell_are_an_error_naming_the_line(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["billing", "bugs", "billing|bugs"] * 5)
    with pytest.raises(TextclfError, match=f"{path}: line 4: column 'label' holds 2 labels \\(billing, bugs\\); a "
                                           "multi_class dataset takes one a row"):
        preparation.prepare(preparation.checked_dataset(table_block(path, label_delimiter="|", task="multi_class"), "d"))
    _, _, task = preparation.prepare(preparation.checked_dataset(table_block(path, label_delimiter="|"), "d"))
    assert task.name == "multi_label" and task.classes == ["billing", "bugs"]


def test_a_rare_class_lands_in_every_split(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["rare"] * 4 + ["common"] * 96)
    tables, _, task = preparation.prepare(preparation.checked_dataset(table_block(path), "d"))
    rare = task.classes.index("rare")
    assert [int((tables[split]["label"] == rare).sum()) for split in preparation.LABELLED_SPLITS] == [2, 1, 1]


def test_a_class_missing_from_a_given_split_says_to_mark_rows_of_it(tmp_path):
    path = tmp_path / "d.csv"
    rows = [f"text {i},{label},{'test' if i < 4 and label == 'no' else 'validation' if i % 5 == 0 else 'train'}"
            for i, label in enumerate(["yes", "no"] * 10)]
    path.write_text("text,label,part\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(TextclfError, match="the test split has no example of class 'yes', which has 10 labelled row\\(s\\) in all "
                                           "\\(2 rows in test; mark rows of it as test in column 'part', or drop the class\\)"):
        preparation.prepare(preparation.checked_dataset(table_block(path, split_column="part"), "d"))
