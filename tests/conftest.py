"""Shared fixtures: tiny IMDB-layout archives built from scratch for each test.

The reviews are synthetic but learnable (each label draws from its own sentiment
words), so real models trained on them reach well above chance in seconds.
"""

from __future__ import annotations

import io
import random
import shutil
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
            rating = 0 if label == "unsup" else rng.choice([7, 8, 9, 10] if label == "pos" else [1, 2, 3, 4])
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


@pytest.fixture
def tiny_archive(tmp_path) -> Path:
    return write_archive(tmp_path / "aclImdb_v1.tar.gz", archive_members(per_label=40))


def make_project(root: Path, archive: Path, **overrides) -> Path:
    """A copy of the project (stages, package sources, dvc.yaml) with test-sized params."""
    from textclf import fetch

    root.mkdir(parents=True, exist_ok=True)
    for name in ("stages", "src"):
        shutil.copytree(PROJECT_ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(PROJECT_ROOT / "dvc.yaml", root / "dvc.yaml")
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    params["fetch"]["source"] = str(archive)
    params["fetch"]["fingerprint"] = fetch.fingerprint(fetch.records_from_archive(archive))
    # Test-sized features and models: the same code paths, seconds instead of minutes.
    params["features"]["words_20k"].update(max_tokens=200, sequence_length=48)
    params["features"]["words_1k"].update(max_tokens=100, sequence_length=32)
    params["features"]["ngrams_1to3"].update(max_tokens=5000)
    for model in params["models"].values():
        model.update(batch_size=16, epochs=30, learning_rate=0.02, patience=4)
    for name in ("bilstm", "bilstm_stacked"):
        params["models"][name].update(embedding_dim=8, lstm_units=[4] * len(params["models"][name]["lstm_units"]),
                                      hidden_units=8, epochs=8, learning_rate=0.01)
    params["pretrain"].update(vocab_size=200, min_count=1, dim=8, epochs=1, batch_size=256, negatives=4, oov_buckets=10)
    params["hub_models"]["hub_dnn"].update(batch_size=16, epochs=4, learning_rate=0.02, patience=2)
    params["transfer"].update(sizes=[64], epochs=3, batch_size=16, learning_rate=0.02, patience=1)
    for dotted, value in overrides.items():
        node = params
        *parents, key = dotted.split("__")
        for parent in parents:
            node = node[parent]
        node[key] = value
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return root
