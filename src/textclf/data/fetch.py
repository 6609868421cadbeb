"""Obtain a source's data, verified: the IMDB archive as records, or a plain file as it is.

Each source of params.yaml (``sources:``) has a canonical URL and a fingerprint.
The IMDB archive is read straight from its gzip stream (no 100k-file extraction) into
records ``(split, label, id, rating, movie, text)``. A *content* fingerprint over
the sorted records pins the data: the canonical archive and any mirror of it with
other tar headers give the same fingerprint, a truncated or edited one does not.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import tarfile
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from textclf.core.errors import TextclfError

CANONICAL_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
SOURCE_ENV_PREFIX = "TEXTCLF_SOURCE_"
CACHE_ENV = "TEXTCLF_CACHE_DIR"
COLUMNS = ["split", "label", "id", "rating", "movie", "text"]
LABELLED_DIRS = [("train", "pos"), ("train", "neg"), ("test", "pos"), ("test", "neg")]

_REVIEW = re.compile(r"^aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")
_URLS = re.compile(r"^aclImdb/(train|test)/urls_(pos|neg|unsup)\.txt$")
_MOVIE = re.compile(r"/title/(tt\d+)")


def source_variable(name: str) -> str:
    """The environment variable that overrides source ``name``: TEXTCLF_SOURCE_IMDB for ``imdb``."""
    return SOURCE_ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", name.upper())


def resolve_source(name: str, param_source: str) -> str:
    """The environment wins over params.yaml, so a mirror needs no tracked edit."""
    return os.environ.get(source_variable(name)) or param_source


def describe_source(source: str) -> str:
    return "TensorFlow Datasets imdb_reviews" if source == "tfds" else source


def local_file(source: str) -> Path:
    """A local path for ``source``: an http(s) URL (downloaded once), a file:// URL or a path."""
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme in ("http", "https"):
        return download(source)
    if parsed.scheme == "file":
        return Path(urllib.request.url2pathname(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:  # one letter is a Windows drive
        raise TextclfError(f"unsupported source scheme '{parsed.scheme}://' in {source!r}")
    return Path(source).expanduser()


def load_records(source: str) -> pd.DataFrame:
    """IMDB records from ``source``: an http(s) URL, a file:// URL, a local path or ``tfds``."""
    if source == "tfds":
        return records_from_tfds()
    return records_from_archive(local_file(source))


def file_digest(path: Path) -> str:
    """sha256 of a plain file's bytes (its fingerprint)."""
    if not path.is_file():
        raise TextclfError(f"{path}: file not found")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "textclf"
    return Path(os.environ.get(CACHE_ENV, default))


def download(url: str) -> Path:
    """Download once into the user cache, with a progress bar; reuse it afterwards.

    A stale or damaged cached file is caught by the fingerprint check, whose
    message says where the file is.
    """
    target = cache_dir() / Path(urllib.parse.urlparse(url).path).name
    if target.exists():
        print(f"using cached download {target}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with partial.open("wb") as out, tqdm(
                total=total, unit="B", unit_scale=True, desc=f"downloading {target.name}"
            ) as bar:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    bar.update(len(chunk))
    except (OSError, ValueError) as error:
        partial.unlink(missing_ok=True)
        raise TextclfError(f"cannot download {url}: {error}") from None
    os.replace(partial, target)
    return target


def movie_id(url: str) -> str:
    match = _MOVIE.search(url)
    return match.group(1) if match else url.strip()


def records_from_archive(path: Path) -> pd.DataFrame:
    """Parse an archive in the aclImdb layout, checking it is complete and UTF-8."""
    if not path.is_file():
        raise TextclfError(f"archive not found: {path}")
    reviews: list[tuple[str, str, int, int, str]] = []
    urls: dict[tuple[str, str], list[str]] = {}
    try:
        # Stream mode reads the gzip once, front to back: no seeking, no extraction.
        # tarfile stops quietly at a short read, so the gzip stream is drained to
        # its end afterwards: that is where gzip checks its length and CRC trailer.
        with gzip.open(path, "rb") as stream, tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in tqdm(archive, desc=f"reading {path.name}", unit=" files", mininterval=2):
                if not member.isfile():
                    continue
                name = member.name.removeprefix("./")
                review = _REVIEW.match(name)
                url_list = _URLS.match(name)
                if not (review or url_list):
                    continue
                payload = archive.extractfile(member).read()
                try:
                    content = payload.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise TextclfError(
                        f"{name} in {path} is not valid UTF-8 "
                        f"(byte 0x{payload[error.start]:02x} at offset {error.start})"
                    ) from None
                if review:
                    split, label, review_id, rating = review.groups()
                    reviews.append((split, label, int(review_id), int(rating), content))
                else:
                    urls[url_list.groups()] = content.splitlines()
            while stream.read(1 << 20):
                pass
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise TextclfError(f"archive {path} is truncated or corrupt ({error})") from None
    return _attach_movies(reviews, urls, path)


def _attach_movies(reviews, urls, path: Path) -> pd.DataFrame:
    frame = pd.DataFrame(reviews, columns=["split", "label", "id", "rating", "text"])
    present = set(zip(frame["split"], frame["label"]))
    for split, label in LABELLED_DIRS:
        if (split, label) not in present:
            raise TextclfError(f"archive {path} has no reviews in aclImdb/{split}/{label}/")
    movies = []
    for split, label, review_id in zip(frame["split"], frame["label"], frame["id"]):
        lines = urls.get((split, label))
        if lines is None:
            raise TextclfError(
                f"archive {path} lacks aclImdb/{split}/urls_{label}.txt "
                "(review id N is line N there; it names each review's movie)"
            )
        if review_id >= len(lines):
            raise TextclfError(
                f"aclImdb/{split}/urls_{label}.txt in {path} has {len(lines)} lines, "
                f"but review id {review_id} needs line {review_id}"
            )
        movies.append(movie_id(lines[review_id]))
    frame["movie"] = movies
    return canonical_order(frame)


def records_from_tfds() -> pd.DataFrame:
    """The same reviews through tensorflow-datasets' ``imdb_reviews``.

    TFDS keeps only text and label: there are no review ids, ratings or movie
    URLs, so ids are the order within each (split, label), ratings are 0 and
    movies empty (prepare then treats every review as its own movie).
    """
    import tensorflow_datasets as tfds

    import textclf.core.tf_runtime  # noqa: F401  (quiet, Keras-2 TensorFlow before TFDS loads it)

    rows = []
    for tfds_split, split in (("train", "train"), ("test", "test"), ("unsupervised", "train")):
        dataset = tfds.load("imdb_reviews", split=tfds_split, shuffle_files=False)
        counters = {"pos": 0, "neg": 0, "unsup": 0}
        for example in tfds.as_numpy(dataset):
            # TFDS labels: 0 = neg, 1 = pos; the unsupervised split has -1.
            label = "unsup" if tfds_split == "unsupervised" else ("neg", "pos")[int(example["label"])]
            try:
                text = example["text"].decode("utf-8")
            except UnicodeDecodeError:
                raise TextclfError(f"a review in TFDS split {tfds_split} is not valid UTF-8") from None
            rows.append((split, label, counters[label], 0, "", text))
            counters[label] += 1
    return canonical_order(pd.DataFrame(rows, columns=COLUMNS))


def canonical_order(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({"id": "int64", "rating": "int64"})
    return frame[COLUMNS].sort_values(["split", "label", "id"], kind="stable").reset_index(drop=True)


def fingerprint(frame: pd.DataFrame) -> str:
    """sha256 over the sorted (split, label, id, rating, movie, text) records.

    Every column prepare relies on is covered: the movie decides which reviews
    may go to validation, so an edited ``urls_*.txt`` must fail here, not
    quietly change the splits. One JSON array per line makes the encoding
    unambiguous whatever the text holds.
    """
    digest = hashlib.sha256()
    ordered = canonical_order(frame)
    for split, label, review_id, rating, movie, text in ordered.itertuples(index=False, name=None):
        line = json.dumps([split, label, int(review_id), int(rating), movie, text], ensure_ascii=False)
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def verify(actual: str, expected: str | None, source: str, name: str) -> str:
    """Compare a fingerprint with the pin of source ``name``; no pin gives a warning that shows it."""
    if expected is None:
        print(f"warning: sources.{name}.fingerprint is not set; {source} has "
              f"fingerprint {actual} (pin it in params.yaml)")
    elif actual != expected:
        # Only a download has a cached copy worth pointing at; a local file is the user's own.
        where = (f"; the cached download is in {cache_dir()}, delete it to download again"
                 if urllib.parse.urlparse(source).scheme in ("http", "https") else "")
        raise TextclfError(
            f"fingerprint mismatch for {source}: expected {expected}, got {actual} "
            f"(the data is altered or incomplete{where})"
        )
    return actual


def write_records(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False)
