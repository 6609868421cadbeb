"""Shared fixtures: tiny IMDB-layout archives built from scratch for each test.

The reviews are synthetic but learnable (each label draws from its own sentiment
words), so real models trained on them reach well above chance in seconds.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

import textclf  # noqa: F401  (pins Keras 2 before anything imports TensorFlow)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
POSITIVE = "great wonderful superb moving brilliant loved delightful masterpiece".split()
NEGATIVE = "awful boring terrible dull waste worst hated mess".split()
NEUTRAL = "the movie film plot actor scene story camera music ending it was and a of to".split()
SPLIT_DIRS = [("train", "pos"), ("train", "neg"), ("test", "pos"), ("test", "neg"), ("train", "unsup")]


def pytest_collection_modifyitems(items):
    # The real-pipeline module takes the longest by far: first, so that with `-n` (make test) the others run beside it.
    items.sort(key=lambda item: item.path.name != "test_pipeline.py")


def review_text(label: str, rng: random.Random) -> str:
    words = [rng.choice(NEUTRAL) for _ in range(rng.randint(12, 30))]
    cue_words = {"pos": POSITIVE, "neg": NEGATIVE}.get(label, POSITIVE + NEGATIVE)
    for _ in range(rng.randint(2, 4)):
        words.insert(rng.randrange(len(words)), rng.choice(cue_words))
    middle = len(words) // 2
    return " ".join(words[:middle]) + ". <br /><br />" + " ".join(words[middle:]) + "."


def archive_members(per_label: int, seed: int = 0, reviews_per_movie: int = 3) -> dict[str, bytes]:
    """File name -> bytes of an aclImdb archive with ``per_label`` reviews per directory."""
    rng = random.Random(seed)
    members: dict[str, bytes] = {}
    for split, label in SPLIT_DIRS:
        urls = []
        for review_id in range(per_label):
            # Ratings cycle, so every star rating has reviews even in a tiny split.
            rating = 0 if label == "unsup" else ([7, 8, 9, 10] if label == "pos" else [1, 2, 3, 4])[review_id % 4]
            members[f"aclImdb/{split}/{label}/{review_id}_{rating}.txt"] = review_text(label, rng).encode()
            # Train pos and neg share movies (as in IMDB); test and unsup have their own.
            group = {"train": 1, "test": 2}[split] + (2 if label == "unsup" else 0)
            movie_number = group * 100_000 + review_id // reviews_per_movie
            urls.append(f"http://www.imdb.com/title/tt{movie_number:07d}/usercomments")
        members[f"aclImdb/{split}/urls_{label}.txt"] = ("\n".join(urls) + "\n").encode()
    members["aclImdb/README"] = b"tiny synthetic copy for tests\n"
    return members


def write_archive(path: Path, members: dict[str, bytes], mtime: int = 0, reverse: bool = False) -> Path:
    names = sorted(members, reverse=reverse)
    with tarfile.open(path, "w:gz") as archive:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(members[name]), mtime
            archive.addfile(info, io.BytesIO(members[name]))
    return path


GENRE_CUES = {
    "Comedy": "laugh funny joke hilarious", "Thriller": "suspense chase danger spy", "Romance": "love kiss heart wedding",
    "Action": "explosion fight gun battle", "Horror": "ghost blood scream haunted", "Crime": "detective murder heist police",
    "Documentary": "real interviews history archive", "Adventure": "quest journey treasure island",
    "Science Fiction": "alien robot space future",
}
MOVIE_COLUMNS = ["adult", "genres", "id", "imdb_id", "original_title", "overview", "title"]


def movies_metadata_rows(count: int, seed: int = 0) -> list[list[str]]:
    """Rows in The Movies Dataset's layout: one or two listed genres each, cue words in the overview,
    and a Python-literal genres cell, as the real file has them."""
    rng = random.Random(seed)
    genres, rows = list(GENRE_CUES), []
    for number in range(count):
        chosen = [genres[number % len(genres)]] + ([genres[(number * 7 + 3) % len(genres)]] if number % 3 == 0 else [])
        chosen = list(dict.fromkeys(chosen))
        words = [rng.choice(NEUTRAL) for _ in range(10)] + [rng.choice(GENRE_CUES[g].split()) for g in chosen for _ in range(3)]
        rng.shuffle(words)
        cell = str([{"id": 100 + len(g), "name": g} for g in chosen + (["Family"] if number % 5 == 0 else [])])
        rows.append(["False", cell, str(1000 + number), f"tt{number:07d}", f"Movie {number}", " ".join(words) + ".", f"Movie {number}"])
    return rows


def write_movies_metadata(path: Path, count: int = 240, seed: int = 0) -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MOVIE_COLUMNS)
        writer.writerows(movies_metadata_rows(count, seed))
        # The real file's mess: a shifted row (a date as id), a duplicate id, a placeholder overview.
        writer.writerow(["False", "[{'id': 35, 'name': 'Comedy'}]", "1997-08-20", "", "", "", ""])
        writer.writerow(["False", "[{'id': 35, 'name': 'Comedy'}]", "1000", "tt1", "Again", "funny laugh again.", "Again"])
        writer.writerow(["False", "[{'id': 35, 'name': 'Comedy'}]", "9999", "tt2", "None", "No overview found.", "None"])
    return path


@pytest.fixture
def tiny_archive(tmp_path) -> Path:
    return write_archive(tmp_path / "aclImdb_v1.tar.gz", archive_members(per_label=40))


def init_repository(project: Path) -> None:
    """git (with a committer, so tests can commit) and DVC initialised in ``project``."""
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    for key, value in {"user.name": "textclf tests", "user.email": "tests@localhost", "commit.gpgsign": "false"}.items():
        subprocess.run(["git", "config", key, value], cwd=project, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=project, check=True)


def working_copy(project: Path, tmp_path: Path, monkeypatch) -> Path:
    """A copy of a module's built ``project`` for one test to change, as the current directory."""
    copy = tmp_path / "project"
    shutil.copytree(project, copy, symlinks=True)
    monkeypatch.chdir(copy)
    return copy


def make_project(root: Path, archive: Path, movies: Path | None = None, **overrides) -> Path:
    """A copy of the project (stages, package sources, dvc.yaml) with test-sized params."""
    from textclf.data import fetch

    root.mkdir(parents=True, exist_ok=True)
    for name in ("stages", "src"):
        shutil.copytree(PROJECT_ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    params["sources"]["imdb"]["url"] = str(archive)
    params["sources"]["imdb"]["fingerprint"] = fetch.fingerprint(fetch.records_from_archive(archive))
    movies = movies or write_movies_metadata(archive.parent / "movies_metadata.csv")
    params["sources"]["movies_metadata"]["url"] = str(movies)
    # Test-sized features and models: the same code paths, seconds instead of minutes.
    for features in params["features"].values():
        if features["kind"] == "sequence":
            features.update(max_tokens=200, sequence_length=48)
        elif features["kind"] == "ngrams":
            features.update(max_tokens=5000)
    for model in params["models"].values():
        if model["architecture"] in ("hub_dnn", "cnn"):
            model.update(batch_size=16, epochs=4, learning_rate=0.02, patience=2)
            if model["architecture"] == "cnn":  # its embedding takes the module's vectors: the same size
                model.update(embedding_dim=8, filters=8)
        elif model["architecture"] == "bilstm":
            model.update(batch_size=16, embedding_dim=8, lstm_units=[4] * len(model.get("lstm_units", [64])),
                         hidden_units=8, epochs=8, learning_rate=0.01, patience=4)
        elif model["architecture"] != "ensemble":
            model.update(batch_size=16, epochs=30, learning_rate=0.02, patience=4)
    params["pretrain"].update(vocab_size=200, min_count=1, dim=8, epochs=1, negatives=4, oov_buckets=10)
    params["datasets"]["movie_genres"].update(validation_fraction=0.2, test_fraction=0.2)
    params["transfer"].update(sizes=[32, 64], epochs=3, batch_size=16, learning_rate=0.02, patience=1)
    for dotted, value in overrides.items():
        node = params
        *parents, key = dotted.split("__")
        for parent in parents:
            node = node[parent]
        node[key] = value
    write_params(root, params)
    return root


def write_params(project: Path, params: dict) -> None:
    """params.yaml, and the dvc.yaml rendered from it, as `textclf pipeline` writes it."""
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    render_pipeline(project)


def render_pipeline(project: Path, strict: bool = True) -> None:
    """`textclf pipeline` in ``project``; not ``strict``, params it refuses leave dvc.yaml as it was (for tests of
    the refusal, which every stage repeats before it checks dvc.yaml)."""
    from textclf.core.errors import TextclfError
    from textclf.pipeline import layout

    here = os.getcwd()
    os.chdir(project)
    try:
        layout.write()
    except TextclfError:
        if strict:
            raise
    finally:
        os.chdir(here)


# The vocabulary of the model tests' token ids (test_models) and of the tiny module's words.
WIDTH = 50


@pytest.fixture(scope="module")
def tiny_module(tmp_path_factory):
    """A real exported text-embedding module over the WIDTH words w0, w1, ..."""
    import numpy as np

    from textclf.models import hub_modules

    path = tmp_path_factory.mktemp("hub") / "module"
    vectors = np.random.default_rng(0).normal(0, 0.1, (WIDTH, 8)).astype(np.float32)
    hub_modules.export_module(path, [f"w{i}" for i in range(WIDTH)], vectors, oov_buckets=2)
    return str(path)
