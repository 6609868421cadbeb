import hashlib

import pytest
from conftest import archive_members, write_archive, write_movies_metadata

from textclf.core.errors import TextclfError
from textclf.data import fetch


def test_archive_records_carry_split_label_id_rating_and_movie(tiny_archive):
    records = fetch.records_from_archive(tiny_archive)
    assert list(records.columns) == fetch.COLUMNS
    assert records.groupby(["split", "label"]).size().to_dict() == {
        ("test", "neg"): 40, ("test", "pos"): 40, ("train", "neg"): 40, ("train", "pos"): 40, ("train", "unsup"): 40,
    }
    first = records[(records["split"] == "train") & (records["label"] == "pos") & (records["id"] == 4)].iloc[0]
    assert first["movie"] == "tt0100001"  # line 4 of urls_pos.txt: reviews 3, 4 and 5 share a movie
    assert 7 <= first["rating"] <= 10
    assert set(records.loc[records["label"] == "unsup", "rating"]) == {0}


def test_fingerprint_ignores_tar_headers_but_not_content(tmp_path):
    members = archive_members(per_label=10)
    original = fetch.records_from_archive(write_archive(tmp_path / "a.tar.gz", members))
    repacked = fetch.records_from_archive(write_archive(tmp_path / "b.tar.gz", members, mtime=123456, reverse=True))
    assert fetch.fingerprint(original) == fetch.fingerprint(repacked)

    edited = dict(members)
    edited["aclImdb/test/neg/3_" + next(n.split("_")[1] for n in members if n.startswith("aclImdb/test/neg/3_"))] += b"!"
    changed = fetch.records_from_archive(write_archive(tmp_path / "c.tar.gz", edited))
    assert fetch.fingerprint(changed) != fetch.fingerprint(original)


def test_file_url_and_plain_path_give_the_same_records(tiny_archive):
    by_path = fetch.load_records(str(tiny_archive))
    by_url = fetch.load_records(tiny_archive.as_uri())
    assert by_path.equals(by_url)


def test_verify_rejects_a_mismatching_pin(tiny_archive):
    digest = fetch.fingerprint(fetch.records_from_archive(tiny_archive))
    with pytest.raises(TextclfError, match=f"fingerprint mismatch for {tiny_archive}: expected 0{{64}}, got {digest}"):
        fetch.verify(digest, "0" * 64, str(tiny_archive), "imdb")
    assert fetch.verify(digest, digest, str(tiny_archive), "imdb") == digest


def test_an_unpinned_source_warns_with_its_fingerprint(tmp_path, capsys):
    movies = write_movies_metadata(tmp_path / "movies_metadata.csv")
    digest = fetch.file_digest(movies)
    assert fetch.verify(digest, None, str(movies), "movies_metadata") == digest
    assert capsys.readouterr().out == (f"warning: sources.movies_metadata.fingerprint is not set; {movies} has "
                                       f"fingerprint {digest} (pin it in params.yaml)\n")


def test_a_plain_files_fingerprint_is_the_sha256_of_its_bytes(tmp_path):
    movies = write_movies_metadata(tmp_path / "movies_metadata.csv")
    digest = fetch.file_digest(movies)
    assert digest == hashlib.sha256(movies.read_bytes()).hexdigest()
    assert fetch.verify(digest, digest, str(movies), "movies_metadata") == digest
    movies.write_bytes(movies.read_bytes()[:-10])  # a truncated copy
    with pytest.raises(TextclfError) as caught:
        fetch.verify(fetch.file_digest(movies), digest, str(movies), "movies_metadata")
    assert str(caught.value) == (f"fingerprint mismatch for {movies}: expected {digest}, got {fetch.file_digest(movies)} "
                                 "(the data is altered or incomplete)")
    with pytest.raises(TextclfError, match="nope.csv: file not found"):
        fetch.file_digest(tmp_path / "nope.csv")


def test_local_file_of_a_path_a_file_url_and_an_unknown_scheme(tmp_path, monkeypatch):
    movies = write_movies_metadata(tmp_path / "movies_metadata.csv")
    assert fetch.local_file(str(movies)) == movies
    assert fetch.local_file(movies.as_uri()) == movies
    monkeypatch.setenv("HOME", str(tmp_path))
    assert fetch.local_file("~/movies_metadata.csv") == movies
    with pytest.raises(TextclfError, match="unsupported source scheme 's3://'"):
        fetch.local_file("s3://bucket/movies_metadata.csv")


def test_truncated_archive_is_reported(tiny_archive, tmp_path):
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(tiny_archive.read_bytes()[: tiny_archive.stat().st_size // 2])
    with pytest.raises(TextclfError, match="truncated or corrupt"):
        fetch.records_from_archive(truncated)


def test_missing_split_directory_is_reported(tmp_path):
    members = {name: data for name, data in archive_members(per_label=5).items() if "/test/neg/" not in name}
    with pytest.raises(TextclfError, match=r"no reviews in aclImdb/test/neg/"):
        fetch.records_from_archive(write_archive(tmp_path / "a.tar.gz", members))


def test_missing_url_list_is_reported(tmp_path):
    members = archive_members(per_label=5)
    del members["aclImdb/train/urls_pos.txt"]
    with pytest.raises(TextclfError, match="lacks aclImdb/train/urls_pos.txt"):
        fetch.records_from_archive(write_archive(tmp_path / "a.tar.gz", members))


def test_non_utf8_review_is_named(tmp_path):
    members = archive_members(per_label=5)
    name = next(n for n in members if n.startswith("aclImdb/train/pos/2_"))
    members[name] = b"caf\xe9 au lait"
    with pytest.raises(TextclfError, match=rf"{name} .* not valid UTF-8 \(byte 0xe9 at offset 3\)"):
        fetch.records_from_archive(write_archive(tmp_path / "a.tar.gz", members))


def test_missing_archive_and_unknown_scheme(tmp_path):
    with pytest.raises(TextclfError, match="archive not found"):
        fetch.load_records(str(tmp_path / "nope.tar.gz"))
    with pytest.raises(TextclfError, match="unsupported source scheme 'ftp://'"):
        fetch.load_records("ftp://example.org/aclImdb_v1.tar.gz")


def test_each_source_has_its_own_environment_override(monkeypatch):
    assert fetch.source_variable("imdb") == "TEXTCLF_SOURCE_IMDB"
    assert fetch.source_variable("movies_metadata") == "TEXTCLF_SOURCE_MOVIES_METADATA"
    assert fetch.source_variable("my-data.v2") == "TEXTCLF_SOURCE_MY_DATA_V2"
    movies_url = "https://example.org/movies_metadata.csv"
    monkeypatch.setenv("TEXTCLF_SOURCE_IMDB", "/mirror/aclImdb_v1.tar.gz")
    assert fetch.resolve_source("imdb", fetch.CANONICAL_URL) == "/mirror/aclImdb_v1.tar.gz"
    assert fetch.resolve_source("movies_metadata", movies_url) == movies_url  # another source's mirror is not this one's
    monkeypatch.setenv("TEXTCLF_SOURCE_MOVIES_METADATA", "/mirror/movies.csv")
    assert fetch.resolve_source("movies_metadata", movies_url) == "/mirror/movies.csv"
    monkeypatch.delenv("TEXTCLF_SOURCE_IMDB")
    assert fetch.resolve_source("imdb", fetch.CANONICAL_URL) == fetch.CANONICAL_URL
    monkeypatch.setenv("TEXTCLF_SOURCE_IMDB", "")  # set but empty: as if unset
    assert fetch.resolve_source("imdb", fetch.CANONICAL_URL) == fetch.CANONICAL_URL


def test_download_goes_through_the_cache(tiny_archive, tmp_path, monkeypatch):
    """An http(s) source is downloaded once into the cache, then reused."""
    import http.server
    import threading
    from functools import partial

    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tiny_archive.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(fetch.CACHE_ENV, str(tmp_path / "cache"))
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{tiny_archive.name}"
        downloaded = fetch.load_records(url)
    finally:
        server.shutdown()
    assert (tmp_path / "cache" / tiny_archive.name).read_bytes() == tiny_archive.read_bytes()
    assert downloaded.equals(fetch.records_from_archive(tiny_archive))
    assert fetch.load_records(url).equals(downloaded)  # served from the cache: the server is gone
    assert fetch.local_file(url) == tmp_path / "cache" / tiny_archive.name


def test_tfds_source_with_tfds_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=6):
        records = fetch.load_records("tfds")
    assert list(records.columns) == fetch.COLUMNS
    assert (records["split"] == "test").sum() == 6
    assert set(records["label"]) <= {"pos", "neg", "unsup"}
    assert (records["label"] == "unsup").sum() == 6
    assert records["text"].map(lambda t: isinstance(t, str)).all()
    assert len(fetch.fingerprint(records)) == 64


def test_fingerprint_covers_the_movie_mapping(tmp_path):
    """prepare splits by movie, so an edited urls_*.txt must not pass as the same data."""
    members = archive_members(per_label=10)
    original = fetch.records_from_archive(write_archive(tmp_path / "a.tar.gz", members))
    members["aclImdb/train/urls_pos.txt"] = b"http://www.imdb.com/title/tt0000001/usercomments\n" * 10
    remapped = fetch.records_from_archive(write_archive(tmp_path / "b.tar.gz", members))
    assert fetch.fingerprint(remapped) != fetch.fingerprint(original)


def test_mismatch_message_names_the_cache_only_for_downloads(tiny_archive):
    digest = fetch.fingerprint(fetch.records_from_archive(tiny_archive))
    with pytest.raises(TextclfError) as local:
        fetch.verify(digest, "0" * 64, str(tiny_archive), "imdb")
    assert "cache" not in str(local.value) and str(local.value).endswith("(the data is altered or incomplete)")
    with pytest.raises(TextclfError, match=r"the cached download is in .*textclf, delete it to download again"):
        fetch.verify(digest, "0" * 64, fetch.CANONICAL_URL, "imdb")
