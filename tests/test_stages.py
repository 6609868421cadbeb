"""Stage scripts run as DVC runs them: subprocesses in a project directory.

Bad params and missing inputs stop a stage before it does any work; those
cases run the same script in this process (``run_stage_here``), which spares
each a TensorFlow import of several seconds.

Every dataset here is a tiny file written by the tests: the IMDB-layout
archive and The Movies Dataset's metadata from conftest, and a user's own
tables (CSV, JSONL) added to params.yaml as a ``table`` dataset.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import runpy
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import (
    archive_members,
    make_project,
    render_pipeline,
    write_archive,
    write_movies_metadata,
)

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
GENRES = ["Comedy", "Thriller", "Romance", "Action", "Horror", "Crime", "Documentary", "Adventure", "Science Fiction"]


def environment(project, **env) -> dict:
    """The stage's environment: the project copy's package first, and no source override unless a test sets one."""
    inherited = {key: value for key, value in os.environ.items()
                 if not key.startswith("TEXTCLF_SOURCE_") and key != "TEXTCLF_FETCH_SOURCE"}
    path = os.pathsep.join(filter(None, [str(project / "src"), os.environ.get("PYTHONPATH")]))
    return inherited | {"PYTHONPATH": path} | env


def run_stage(project, name, *args, **env):
    return subprocess.run([sys.executable, f"stages/{name}.py", *args], cwd=project, capture_output=True, text=True,
                          env=environment(project, **env))


def run_stage_here(project, name, *args):
    """A stage script that should stop at its params or inputs, run in this process (as `python stages/<name>.py`
    would run it, through runpy): the same code and the same one-line error, without importing TensorFlow again."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    stderr, argv, cwd = io.StringIO(), sys.argv, os.getcwd()
    sys.argv = [f"stages/{name}.py", *args]
    os.chdir(project)
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(f"stages/{name}.py", run_name="__main__")
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    finally:
        sys.argv = argv
        os.chdir(cwd)
        for sig, handler in previous.items():  # the stage watches for Ctrl-C; give the signals back to pytest
            signal.signal(sig, handler)
    return subprocess.CompletedProcess([name, *args], code, "", stderr.getvalue())


def run_steps(project, *steps):
    for step in steps:
        result = run_stage(project, *step)
        assert result.returncode == 0, f"{step} failed:\n{result.stderr}"


def edit_params(project, block, **values):
    """Update (or create) the params block at dotted ``block`` with ``values``."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    node = params
    for part in block.split("."):
        node = node.setdefault(part, {})
    node.update(values)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    render_pipeline(project, strict=False)


def remove_params(project, *dotted):
    params = yaml.safe_load((project / "params.yaml").read_text())
    for name in dotted:
        *parents, key = name.split(".")
        node = params
        for part in parents:
            node = node[part]
        del node[key]
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    render_pipeline(project, strict=False)


def assert_one_line_error(result, fragment):
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and "files/s" not in line]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert fragment in lines[0], lines[0]


def no_temporaries(project) -> bool:
    return list(project.rglob(".*.tmp-*")) == []


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project on the tiny archive and movie metadata, run through every stage of an IMDB model and a movie-genre
    model once. The genre hub models are left out of params.yaml (they need pretrain, which test_pipeline runs), so
    the genre leaderboard ranks the n-gram model alone."""
    root = tmp_path_factory.mktemp("stages")
    archive = write_archive(root / "aclImdb_v1.tar.gz", archive_members(per_label=40))
    project = make_project(root / "project", archive)
    remove_params(project, "models.genres_hub_dnn", "models.genres_hub_dnn_random")
    run_steps(project, ("fetch", "imdb"), ("fetch", "movies_metadata"), ("prepare", "imdb"), ("vectorize", "words_20k"),
              ("train", "bow_mean"), ("evaluate", "bow_mean"), ("prepare", "movie_genres"),
              ("vectorize", "genres_ngrams_1to2"), ("train", "genres_ngram"), ("evaluate", "genres_ngram"),
              ("export", "genres_ngram"), ("leaderboard", "movie_genres"))
    return project


def test_fit_unlabelled_counts_the_unsup_reviews_into_the_vocabulary(project):
    from textclf.features import vectorizing

    run_steps(project, ("vectorize", "ngrams_1to3_unlabelled"))
    block = yaml.safe_load((project / "params.yaml").read_text())["features"]["ngrams_1to3_unlabelled"]
    settings = vectorizing.checked_features(block, "ngrams_1to3_unlabelled")[1]
    train, unsup = (pd.read_parquet(project / f"data/prepared/imdb/{split}.parquet")["text"].tolist() for split in ("train", "unsup"))
    vocabulary = vectorizing.load_vocabulary(project / "data/features/ngrams_1to3_unlabelled/vocab.txt")
    kind = vectorizing.KINDS["ngrams"]
    assert vocabulary == kind.fit(settings, train + unsup) != kind.fit(settings, train)
    assert json.loads((project / "data/features/ngrams_1to3_unlabelled/train.json").read_text())["examples"] == len(train)


def plot_files(project, model) -> set[str]:
    return {path.name for path in (project / "plots/models" / model).iterdir()}


def test_every_stage_writes_its_outputs(project):
    for path in [
        "data/raw/imdb/records.parquet", "data/prepared/imdb/train.parquet", "data/prepared/imdb/unsup.parquet",
        "data/features/words_20k/vocab.txt", "data/features/words_20k/test.json", "data/features/words_20k/test-00000.tfrecord",
        "models/bow_mean/model.keras",
        "metrics/models/imdb/bow_mean/train/plots/metrics/eval/loss.tsv", "metrics/models/imdb/bow_mean/train/metrics.json",
        "metrics/timings/imdb/bow_mean.json", "data/prepared/imdb/task.json",
    ]:
        assert (project / path).exists(), path
    assert plot_files(project, "bow_mean") == {"confusion.csv", "roc.csv", "precision_recall.csv", "confusion_matrix.png",
                                               "roc.png", "precision_recall.png", "training_curves.png"}
    report = json.loads((project / "metrics/data/imdb.json").read_text())
    assert report["counts"]["test"] == {"total": 80, "negative": 40, "positive": 40}
    assert report["dropped"] == {}
    evaluation = json.loads((project / "metrics/models/imdb/bow_mean/evaluate.json").read_text())
    assert set(evaluation) == {"accuracy", "loss", "precision", "recall", "f1", "roc_auc", "threshold"}
    # The threshold is the model's own, chosen on validation: the one train recorded, at which evaluate decided.
    summary = json.loads((project / "metrics/models/imdb/bow_mean/train/metrics.json").read_text())
    assert 0 < evaluation["threshold"] == summary["threshold"] < 1
    assert evaluation["accuracy"] > 0.8  # the synthetic cue words make this easy
    assert no_temporaries(project)


def test_fetch_output_is_the_same_for_path_and_file_url(project):
    before = (project / "data/raw/imdb/records.parquet").read_bytes()
    result = run_stage(project, "fetch", "imdb", TEXTCLF_SOURCE_IMDB=(project.parent / "aclImdb_v1.tar.gz").as_uri())
    assert result.returncode == 0, result.stderr
    assert f"reading {(project.parent / 'aclImdb_v1.tar.gz').as_uri()}" in result.stdout
    assert (project / "data/raw/imdb/records.parquet").read_bytes() == before


def test_fetch_keeps_a_file_source_as_it_is_under_its_canonical_name(project, tmp_path):
    movies = project.parent / "movies_metadata.csv"
    assert (project / "data/raw/movies_metadata/movies_metadata.csv").read_bytes() == movies.read_bytes()
    assert [path.name for path in (project / "data/raw/movies_metadata").iterdir()] == ["movies_metadata.csv"]
    mirror = tmp_path / "mirror-copy.csv"
    mirror.write_bytes(movies.read_bytes())
    result = run_stage(project, "fetch", "movies_metadata", TEXTCLF_SOURCE_MOVIES_METADATA=str(mirror))
    assert result.returncode == 0, result.stderr
    # Unpinned: a warning that shows the fingerprint to pin.
    assert "warning: sources.movies_metadata.fingerprint is not set;" in result.stdout
    assert [path.name for path in (project / "data/raw/movies_metadata").iterdir()] == ["movies_metadata.csv"]
    assert (project / "data/raw/movies_metadata/movies_metadata.csv").read_bytes() == movies.read_bytes()


def test_prepare_movie_genres_counts_what_it_drops(project):
    report = json.loads((project / "metrics/data/movie_genres.json").read_text())
    # conftest's file: 240 movies, then a shifted row, a duplicate id and a placeholder overview.
    assert report["dropped"] == {"shifted_columns": 1, "duplicate_id": 1, "placeholder_overview": 1}
    assert {split: counts["total"] for split, counts in report["counts"].items()} == {"train": 144, "validation": 48,
                                                                                      "test": 48}
    for counts in report["counts"].values():
        assert set(counts) == {"total", *GENRES}
        assert sum(counts[genre] for genre in GENRES) > counts["total"]  # some movies have two genres
    train = pd.read_parquet(project / "data/prepared/movie_genres/train.parquet")
    assert list(train.columns) == ["id", "text", "label"]
    assert all(len(labels) >= 1 and set(labels) <= set(range(len(GENRES))) for labels in train["label"])
    assert not (project / "data/prepared/movie_genres/unsup.parquet").exists()


def test_a_multi_label_model_trains_evaluates_and_exports(project):
    evaluation = json.loads((project / "metrics/models/movie_genres/genres_ngram/evaluate.json").read_text())
    assert set(evaluation) == {"roc_auc_micro", "roc_auc_macro", "precision_micro", "recall_micro", "f1_micro",
                               "precision_macro", "recall_macro", "f1_macro", "subset_accuracy", "hamming_loss", "loss",
                               "threshold", "per_label"}
    assert list(evaluation["per_label"]) == sorted(GENRES)  # write_json sorts keys
    for label in evaluation["per_label"].values():
        assert set(label) == {"support", "roc_auc", "precision", "recall", "f1"} and label["support"] > 0
    # The model's own threshold, chosen on validation for micro F1 (the main metric, ROC-AUC, ignores it).
    summary = json.loads((project / "metrics/models/movie_genres/genres_ngram/train/metrics.json").read_text())
    assert 0 < evaluation["threshold"] == summary["threshold"] < 1
    assert evaluation["roc_auc_micro"] > 0.8  # the cue words make this easy
    assert plot_files(project, "genres_ngram") == {"roc.csv", "precision_recall.csv", "roc.png", "precision_recall.png",
                                                   "per_class.csv", "per_class.png", "training_curves.png"}
    per_class = pd.read_csv(project / "plots/models/genres_ngram/per_class.csv")
    assert list(per_class["class"]) == GENRES and list(per_class.columns) == ["class", "roc_auc", "f1", "support"]
    assert (project / "models/genres_ngram/serving/saved_model.pb").is_file()


def test_the_leaderboard_of_a_dataset_ranks_its_models_by_the_task_metric(project):
    board = json.loads((project / "metrics/leaderboards/movie_genres.json").read_text())
    assert list(board) == ["genres_ngram"] and board["genres_ngram"]["rank"] == 1
    assert "roc_auc_micro" in board["genres_ngram"] and "accuracy" not in board["genres_ngram"]
    assert "| rank | model | micro ROC-AUC |" in (project / "metrics/leaderboards/movie_genres.md").read_text()
    chart = pd.read_csv(project / "plots/leaderboards/movie_genres.csv")
    assert chart.to_dict("records") == [{"model": "genres_ngram", "score": board["genres_ngram"]["roc_auc_micro"],
                                         "metric": "roc_auc_micro"}]
    assert (project / "plots/leaderboards/movie_genres.png").read_bytes().startswith(b"\x89PNG")


def test_predict_best_of_a_dataset_uses_the_exported_multi_label_model(project):
    result = subprocess.run([str(BIN / "textclf"), "predict", "--model", "best", "--dataset", "movie_genres", "--top-k",
                             "2", "--format", "jsonl", "laugh funny joke hilarious"], cwd=project, capture_output=True,
                            text=True, env=environment(project))
    assert result.returncode == 0, result.stderr
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["model"] == "genres_ngram" and list(record["probabilities"]) == GENRES
    assert record["top"][0][0] == "Comedy" and len(record["top"]) == 2
    # The export decides at the threshold the model was given on validation, not at params.yaml's.
    evaluation = json.loads((project / "metrics/models/movie_genres/genres_ngram/evaluate.json").read_text())
    assert record["threshold"] == evaluation["threshold"] != 0.5


@pytest.fixture
def fresh_project(tmp_path):
    archive = write_archive(tmp_path / "aclImdb_v1.tar.gz", archive_members(per_label=10))
    movies = write_movies_metadata(tmp_path / "movies_metadata.csv", count=60)
    return make_project(tmp_path / "project", archive, movies=movies)


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        ("truncate", "is truncated or corrupt"),
        ("drop_test_neg", "has no reviews in aclImdb/test/neg/"),
        ("latin1", "is not valid UTF-8"),
        ("edit", "fingerprint mismatch"),
        ("remap_movies", "fingerprint mismatch"),
    ],
)
def test_fetch_rejects_bad_archives_without_output(fresh_project, damage, fragment):
    archive = fresh_project.parent / "aclImdb_v1.tar.gz"
    members = archive_members(per_label=10)
    if damage == "truncate":
        archive.write_bytes(archive.read_bytes()[:-300])
    else:
        if damage == "drop_test_neg":
            members = {name: data for name, data in members.items() if "/test/neg/" not in name}
        elif damage == "remap_movies":  # every positive train review under one movie: prepare would split it wrongly
            members["aclImdb/train/urls_pos.txt"] = b"http://www.imdb.com/title/tt0000001/usercomments\n" * 10
        else:
            name = next(n for n in members if n.startswith("aclImdb/train/neg/1_"))
            members[name] = b"na\xefve" if damage == "latin1" else members[name] + b" extra"
        write_archive(archive, members)
    result = run_stage(fresh_project, "fetch", "imdb")
    assert_one_line_error(result, fragment)
    assert not (fresh_project / "data/raw/imdb").exists() and no_temporaries(fresh_project)


def test_fetch_refuses_a_file_whose_fingerprint_does_not_match(fresh_project):
    movies = fresh_project.parent / "movies_metadata.csv"
    edit_params(fresh_project, "sources.movies_metadata", fingerprint="0" * 64)
    result = run_stage(fresh_project, "fetch", "movies_metadata")
    actual = hashlib.sha256(movies.read_bytes()).hexdigest()
    assert_one_line_error(result, f"fingerprint mismatch for {movies}: expected {'0' * 64}, got {actual} "
                                  "(the data is altered or incomplete)")
    assert not (fresh_project / "data/raw/movies_metadata").exists() and no_temporaries(fresh_project)
    edit_params(fresh_project, "sources.movies_metadata", fingerprint=actual)  # pinned right, it passes quietly
    result = run_stage(fresh_project, "fetch", "movies_metadata")
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stdout + result.stderr
    assert (fresh_project / "data/raw/movies_metadata/movies_metadata.csv").read_bytes() == movies.read_bytes()


def test_a_movies_file_under_another_name_is_fetched_and_prepared(fresh_project):
    """params.yaml allows a local path as the url; a copy saved as movies.csv is as good as the canonical name."""
    renamed = write_movies_metadata(fresh_project.parent / "movies.csv")  # enough movies for every genre in every split
    edit_params(fresh_project, "sources.movies_metadata", url=str(renamed))
    run_steps(fresh_project, ("fetch", "movies_metadata"))
    result = run_stage(fresh_project, "prepare", "movie_genres")
    assert result.returncode == 0, result.stderr


def test_fetch_of_a_missing_file_or_source_is_named(fresh_project):
    missing = fresh_project.parent / "nowhere.csv"
    result = run_stage(fresh_project, "fetch", "movies_metadata", TEXTCLF_SOURCE_MOVIES_METADATA=str(missing))
    assert_one_line_error(result, f"{missing}: file not found")
    assert_one_line_error(run_stage(fresh_project, "fetch", "wikipedia"), "params.yaml: missing block 'sources.wikipedia'")
    assert not (fresh_project / "data/raw").exists() or not any((fresh_project / "data/raw").iterdir())


@pytest.mark.parametrize(
    ("block", "values", "stage", "fragment"),
    [
        ("models.bow_mean", {"epochs": -1}, ("train", "bow_mean"), "models.bow_mean.epochs must be a positive integer, got -1"),
        ("models.bow_mean", {"architecture": "gpt"}, ("train", "bow_mean"),
         "models.bow_mean.architecture must be one of 'bow_mean', 'bilstm', 'ngram', 'cnn', 'hub_dnn', 'ensemble', got 'gpt'"),
        ("models.bow_mean", {"features": "ngrams_1to3"}, ("train", "bow_mean"),
         "models.bow_mean.features: 'ngrams_1to3' holds 'ngrams' features; a bow_mean model reads 'sequence'"),
        ("models.bow_mean", {"hiden_units": 8}, ("evaluate", "bow_mean"),
         "models.bow_mean: unknown key 'hiden_units' (did you mean 'hidden_units'?)"),
        ("models.bow_mean", {"features": "ratings_words_20k"}, ("train", "bow_mean"),
         "models.bow_mean.features 'ratings_words_20k' are fitted on dataset 'imdb_ratings', not on the model's "
         "dataset 'imdb'"),
        ("datasets.imdb", {"validation_fraction": 1.5}, ("prepare", "imdb"),
         "datasets.imdb.validation_fraction must be a number strictly between 0 and 1"),
        ("datasets.imdb", {"lable": "rating"}, ("prepare", "imdb"), "datasets.imdb: unknown key 'lable' (did you mean 'label'?)"),
        ("datasets.movie_genres", {"task": "regression"}, ("prepare", "movie_genres"),
         "datasets.movie_genres.task must be one of 'binary', 'multi_class', 'multi_label', got 'regression'"),
        ("datasets.movie_genres", {"threshold": 1.5}, ("prepare", "movie_genres"),
         "datasets.movie_genres.threshold must be a number strictly between 0 and 1, got 1.5"),
        ("datasets.movie_genres", {"classes": ["Comedy", "Comedy"]}, ("prepare", "movie_genres"),
         "datasets.movie_genres.classes must not repeat a class"),
        ("datasets.movie_genres", {"reader": "excel"}, ("prepare", "movie_genres"),
         "datasets.movie_genres.reader must be one of 'table', 'imdb', 'movies_metadata', got 'excel'"),
        ("datasets.imdb", {"classes": ["negative", "neutral", "positive"]}, ("prepare", "imdb"),
         "datasets.imdb: a binary task needs exactly two classes, got 3"),
        ("features.genres_ngrams_1to2", {"dataset": "books"}, ("vectorize", "genres_ngrams_1to2"),
         "features.genres_ngrams_1to2.dataset: 'books' is not a dataset of params.yaml"),
        ("features.words_20k", {"max_tokens": 2}, ("vectorize", "words_20k"),
         "features.words_20k.max_tokens must be at least 3: the first 2 id(s) are reserved, got 2"),
        ("transfer.setups.pretrained_frozen", {"patience": -1}, ("transfer", "pretrained_frozen"),
         "transfer.setups.pretrained_frozen.patience must be an integer >= 0, got -1"),
    ],
)
def test_bad_params_fail_before_any_output(fresh_project, block, values, stage, fragment):
    edit_params(fresh_project, block, **values)
    (fresh_project / "data/features/ngrams_1to3").mkdir(parents=True)
    (fresh_project / "data/features/ngrams_1to3/vocab.txt").touch()
    (fresh_project / "data/features/ngrams_1to3/train.json").write_text('{"kind": "ngrams"}')
    result = run_stage_here(fresh_project, *stage)
    assert_one_line_error(result, fragment)
    assert not (fresh_project / "models").exists() and not (fresh_project / "metrics").exists()
    assert not (fresh_project / "data/prepared").exists()


def test_a_missing_key_without_a_default_is_named(fresh_project):
    remove_params(fresh_project, "models.hub_dnn.handle")
    assert_one_line_error(run_stage_here(fresh_project, "train", "hub_dnn"),
                          "models.hub_dnn: missing key 'handle'")
    # What reads the bad block stops on it too; another model's stage goes on (here, to its missing input).
    assert_one_line_error(run_stage_here(fresh_project, "ensemble", "ensemble"), "models.ensemble: 'hub_dnn' is not valid")
    assert_one_line_error(run_stage_here(fresh_project, "train", "cnn"), "data/prepared/imdb/task.json not found")
    edit_params(fresh_project, "models.hub_dnn", handle="models/hub/pretrained")
    remove_params(fresh_project, "datasets.movie_genres.classes")
    assert_one_line_error(run_stage_here(fresh_project, "prepare", "movie_genres"), "datasets.movie_genres: missing key 'classes'")


def test_a_stale_dvc_yaml_stops_a_stage_before_any_work(fresh_project):
    params = yaml.safe_load((fresh_project / "params.yaml").read_text())
    params["models"]["bow_mean"]["features"] = "ratings_words_20k"
    params["models"]["bow_mean"]["dataset"] = "imdb_ratings"
    (fresh_project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))  # and no `textclf pipeline`
    assert_one_line_error(run_stage_here(fresh_project, "fetch", "imdb"), "dvc.yaml is out of date with params.yaml")
    assert not (fresh_project / "data/raw").exists()


def test_unknown_names_are_named(fresh_project):
    assert_one_line_error(run_stage_here(fresh_project, "vectorize", "chars"), "unknown feature set 'chars'")
    assert_one_line_error(run_stage_here(fresh_project, "train", "gpt"), "unknown model 'gpt'")
    assert_one_line_error(run_stage_here(fresh_project, "prepare", "books"), "missing block 'datasets.books'")
    assert_one_line_error(run_stage_here(fresh_project, "leaderboard", "books"), "missing block 'datasets.books'")


@pytest.mark.parametrize(("stage", "fragment"), [
    (("prepare", "imdb"), "run `dvc repro fetch`"),
    (("prepare", "movie_genres"), "run `dvc repro fetch"),
    (("vectorize", "genres_ngrams_1to2"), "run `dvc repro prepare@movie_genres`"),
])
def test_a_stage_without_its_inputs_says_what_to_run(fresh_project, stage, fragment):
    assert_one_line_error(run_stage_here(fresh_project, *stage), fragment)


def test_fit_unlabelled_on_a_dataset_without_unlabelled_texts_is_one_error(fresh_project):
    write_csv(fresh_project / "data/user/reviews.csv", reviews_csv())
    add_table_dataset(fresh_project, "reviews", "data/user/reviews.csv")
    edit_params(fresh_project, "features.reviews_ngrams", kind="ngrams", dataset="reviews", max_tokens=500, ngrams=1,
                standardize="lower_and_strip_punctuation", fit_unlabelled=True)
    run_steps(fresh_project, ("prepare", "reviews"))
    assert_one_line_error(run_stage_here(fresh_project, "vectorize", "reviews_ngrams"),
                          "data/prepared/reviews/unsup.parquet not found: dataset 'reviews' has no unlabelled texts")
    assert not (fresh_project / "data/features/reviews_ngrams").exists()


def test_prepare_refuses_records_whose_movies_break_its_split(fresh_project):
    """Even with the fingerprint unpinned, prepare checks its own promises before writing."""
    archive = fresh_project.parent / "aclImdb_v1.tar.gz"
    members = archive_members(per_label=10)
    members["aclImdb/train/urls_pos.txt"] = b"http://www.imdb.com/title/tt0000001/usercomments\n" * 10
    write_archive(archive, members)
    edit_params(fresh_project, "sources.imdb", fingerprint=None)
    assert run_stage(fresh_project, "fetch", "imdb").returncode == 0
    assert_one_line_error(run_stage(fresh_project, "prepare", "imdb"),
                          "validation split is not stratified: validation holds negative 100.0%, positive 0.0%")
    assert not (fresh_project / "data/prepared").exists() and no_temporaries(fresh_project)


def test_temporaries_of_a_killed_stage_are_gone_after_its_next_run(fresh_project):
    assert run_stage(fresh_project, "fetch", "imdb").returncode == 0
    killed = subprocess.Popen([sys.executable, "stages/prepare.py", "imdb"], cwd=fresh_project,
                              env=environment(fresh_project))
    killed.kill()  # SIGKILL: no handler runs, as when the kernel's OOM killer strikes
    killed.wait()
    leftover = fresh_project / "data/prepared" / f".imdb.tmp-{killed.pid}"  # what a kill mid-write leaves
    leftover.mkdir(parents=True)
    (leftover / "train.parquet").write_bytes(b"PAR1 half written")
    result = run_stage(fresh_project, "prepare", "imdb")
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (fresh_project / "data").iterdir()) == ["prepared", "raw"]
    assert sorted(path.name for path in (fresh_project / "data/prepared").iterdir()) == ["imdb"]


def test_ctrl_c_during_training_exits_130_and_removes_the_live_log(fresh_project):
    run_steps(fresh_project, ("fetch", "imdb"), ("prepare", "imdb"), ("vectorize", "words_20k"))
    edit_params(fresh_project, "models.bow_mean", epochs=100_000, patience=100_000)
    live_log = fresh_project / "metrics/models/imdb/bow_mean/train/plots/metrics/train/loss.tsv"
    training = subprocess.Popen([sys.executable, "stages/train.py", "bow_mean"], cwd=fresh_project, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=environment(fresh_project, PYTHONUNBUFFERED="1"))
    for line in training.stdout:
        if line.startswith("Epoch 3/"):
            assert live_log.is_file()  # a non-atomic writer would leave this behind
            training.send_signal(signal.SIGINT)
            break
    _, stderr = training.communicate(timeout=60)
    assert training.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "error: interrupted; no output was written"
    left = [path for folder in ("metrics/models", "metrics/timings", "models") for path in (fresh_project / folder).rglob("*")
            if path.is_file()]
    assert left == [] and no_temporaries(fresh_project)


# A user's own table -------------------------------------------------------------

CUES = {"low": "awful boring dull", "mid": "okay fine decent", "high": "superb great moving"}
NEUTRAL = "the film plot cast scene story music".split()


def review(stars: str, rng: random.Random) -> str:
    words = rng.sample(NEUTRAL, 4) + rng.sample(CUES[stars].split(), 2)
    rng.shuffle(words)
    return " ".join(words)


def reviews_csv(count: int = 60, seed: int = 0) -> list[list[str]]:
    """Rows (id, review, stars) with string labels; the second review's text spans two lines."""
    rng = random.Random(seed)
    rows = [[str(100 + number), review(stars, rng), stars] for number, stars in
            enumerate(list(CUES)[number % 3] for number in range(count))]
    rows[1][1] = rows[1][1] + "\nand a second line"
    return rows


def write_csv(path: Path, rows: list[list[str]], header=("id", "review", "stars")) -> Path:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([list(header), *rows])
    return path


def add_table_dataset(project, name: str, path: str, **settings) -> None:
    """A ``table`` dataset in params.yaml, with every key its reader needs."""
    block = {"task": "multi_class", "reader": "table", "path": path, "format": "auto", "text_column": "review",
             "label_column": "stars", "label_delimiter": None, "split_column": None, "classes": list(CUES),
             "validation_fraction": 0.2, "test_fraction": 0.2, "seed": 0}
    edit_params(project, f"datasets.{name}", **(block | settings))


GENRE_CUES = {"Comedy": "funny laugh joke", "Horror": "ghost blood scream", "Romance": "love kiss heart"}


def genres_jsonl(path: Path, count: int = 60, seed: int = 0) -> Path:
    """One JSON object a line; genres as delimited text (``Comedy|Horror``), and one record's as a JSON list."""
    rng = random.Random(seed)
    names = list(GENRE_CUES)
    lines = []
    for number in range(count):
        genres = [names[number % 3]] + ([names[(number + 1) % 3]] if number % 4 == 0 else [])
        words = rng.sample(NEUTRAL, 4) + [rng.choice(GENRE_CUES[genre].split()) for genre in genres for _ in range(2)]
        cell = genres if number == 5 else "|".join(genres)
        lines.append(json.dumps({"id": number, "overview": " ".join(words), "genres": cell}))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_prepare_a_users_csv_with_multi_class_string_labels(fresh_project):
    write_csv(fresh_project / "data/user/reviews.csv", reviews_csv())
    add_table_dataset(fresh_project, "reviews", "data/user/reviews.csv")
    result = run_stage(fresh_project, "prepare", "reviews")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "prepare@reviews: multi_class, 3 classes; train 36, validation 12, test 12"
    tables = {split: pd.read_parquet(fresh_project / f"data/prepared/reviews/{split}.parquet")
              for split in ("train", "validation", "test")}
    assert sorted(path.name for path in (fresh_project / "data/prepared/reviews").iterdir()) == [
        "task.json", "test.parquet", "train.parquet", "validation.parquet"]
    everything = pd.concat(tables.values()).sort_values("id")
    # ids are the physical lines records start on: the header is line 1, the second record spans lines 3-4
    assert everything["id"].tolist() == [2, 3, *range(5, 63)]
    source = {stars: index for index, stars in enumerate(CUES)}
    assert everything["label"].tolist() == [source[stars] for _, _, stars in reviews_csv()]
    assert "\nand a second line" in everything["text"].iloc[1]
    report = json.loads((fresh_project / "metrics/data/reviews.json").read_text())
    assert report["counts"]["test"]["total"] == 12 and set(report["counts"]["test"]) == {"total", "low", "mid", "high"}
    assert report["dropped"] == {}


def test_prepare_a_users_jsonl_with_delimited_multi_labels(fresh_project):
    genres_jsonl(fresh_project / "data/user/genres.jsonl")
    add_table_dataset(fresh_project, "tagged", "data/user/genres.jsonl", task="multi_label", text_column="overview",
                      label_column="genres", label_delimiter="|", classes=list(GENRE_CUES), threshold=0.5)
    result = run_stage(fresh_project, "prepare", "tagged")
    assert result.returncode == 0, result.stderr
    tables = pd.concat([pd.read_parquet(fresh_project / f"data/prepared/tagged/{split}.parquet")
                        for split in ("train", "validation", "test")]).sort_values("id")
    assert tables["id"].tolist() == list(range(1, 61))  # JSONL lines, from 1
    labels = [sorted(labels) for labels in tables["label"]]
    assert labels[0] == [0, 1] and labels[1] == [1] and labels[4] == [1, 2]
    assert labels[5] == [2]  # its genres are a JSON list
    report = json.loads((fresh_project / "metrics/data/tagged.json").read_text())
    total = report["counts"]["train"]["total"] + report["counts"]["validation"]["total"] + report["counts"]["test"]["total"]
    assert total == 60 and sum(report["counts"]["train"][name] for name in GENRE_CUES) > report["counts"]["train"]["total"]


def test_a_users_multi_class_table_trains_and_evaluates(fresh_project):
    write_csv(fresh_project / "data/user/reviews.csv", reviews_csv())
    add_table_dataset(fresh_project, "reviews", "data/user/reviews.csv")
    edit_params(fresh_project, "features.reviews_ngrams", kind="ngrams", dataset="reviews", max_tokens=500, ngrams=1,
                standardize="lower_and_strip_punctuation", fit_unlabelled=False)
    edit_params(fresh_project, "models.reviews_ngram", architecture="ngram", dataset="reviews", features="reviews_ngrams",
                seed=0, batch_size=8, epochs=20, learning_rate=0.05, patience=4, weighting="naive_bayes", l2=0.0)
    run_steps(fresh_project, ("prepare", "reviews"), ("vectorize", "reviews_ngrams"), ("train", "reviews_ngram"),
              ("evaluate", "reviews_ngram"))
    evaluation = json.loads((fresh_project / "metrics/models/reviews/reviews_ngram/evaluate.json").read_text())
    assert set(evaluation) == {"accuracy", "loss", "macro_f1", "weighted_f1", "per_class", "confusion_matrix"}
    assert set(evaluation["per_class"]) == set(CUES) and evaluation["macro_f1"] > 0.8
    assert sum(evaluation["confusion_matrix"][actual][predicted] for actual in CUES for predicted in CUES) == 12
    assert plot_files(fresh_project, "reviews_ngram") == {
        "roc.csv", "precision_recall.csv", "confusion.csv", "confusion_matrix.png", "roc.png", "precision_recall.png",
        "per_class.csv", "per_class.png", "training_curves.png"}


def bad_csv(rows, *changes):
    """reviews_csv rows with (row index, column index, value) changes."""
    rows = [list(row) for row in rows]
    for row, column, value in changes:
        rows[row][column] = value
    return rows


TABLE_ERRORS = {
    # name: (file, content, params, the error after "error: <file>: ")
    "missing text column": (
        "reviews.csv", lambda path: write_csv(path, reviews_csv(), header=("id", "text", "stars")), {},
        "no column 'review' (columns: id, text, stars)"),
    "label not in classes": (
        "reviews.csv", lambda path: write_csv(path, bad_csv(reviews_csv(), (3, 2, "medium"))), {},
        "line 6: column 'stars': label 'medium' is not one of the configured classes (low, mid, high)"),
    "empty text": (
        "reviews.csv", lambda path: write_csv(path, bad_csv(reviews_csv(), (2, 1, "  "))), {},
        "line 5: column 'review' is empty"),
    "a split without a class": (
        "reviews.csv",
        lambda path: write_csv(path, [[*row, "test" if number < 6 and row[2] != "high" else "train" if number % 5 else
                                       "validation"] for number, row in enumerate(reviews_csv())],
                               header=("id", "review", "stars", "split")),
        {"split_column": "split"}, "the test split has no example of class 'high', which has 20 labelled row(s) in all "),
    "not UTF-8": (
        "reviews.csv", lambda path: path.write_bytes(path.read_bytes().replace(b"\n103,", b"\n103,caf\xe9 ", 1)), {},
        "line 6: not valid utf-8 (invalid continuation byte at byte offset "),
    "jsonl label missing": (
        "genres.jsonl", lambda path: path.write_text(
            path.read_text().replace('"genres": "Romance"}', '"genre": "Romance"}', 1)), {"format": "jsonl"},
        "line 3: no column 'genres' (columns: id, overview, genre)"),
    "jsonl label not in classes": (
        "genres.jsonl", lambda path: path.write_text(
            path.read_text().replace('"genres": "Horror"}', '"genres": "Horror|Musical"}', 1)), {},
        "line 2: column 'genres': label 'Musical' is not one of the configured classes (Comedy, Horror, Romance)"),
}


@pytest.mark.parametrize("case", list(TABLE_ERRORS))
def test_a_bad_user_table_is_one_error_naming_where_and_leaves_no_output(fresh_project, case):
    file, damage, settings, message = TABLE_ERRORS[case]
    path = fresh_project / "data/user" / file
    if file.endswith(".csv"):
        write_csv(path, reviews_csv())
        add_table_dataset(fresh_project, "mine", f"data/user/{file}", **settings)
    else:
        genres_jsonl(path)
        add_table_dataset(fresh_project, "mine", f"data/user/{file}", **{
            "task": "multi_label", "text_column": "overview", "label_column": "genres", "label_delimiter": "|",
            "classes": list(GENRE_CUES), "threshold": 0.5} | settings)
    damage(path)
    result = run_stage(fresh_project, "prepare", "mine")
    assert_one_line_error(result, f"error: data/user/{file}: {message}")
    assert not (fresh_project / "data/prepared/mine").exists() and not (fresh_project / "metrics/data/mine.json").exists()
    assert no_temporaries(fresh_project)
