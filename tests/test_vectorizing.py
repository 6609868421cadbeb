import numpy as np
import pytest

from textclf import vectorizing
from textclf.errors import TextclfError

TRAIN = ["Great movie, great cast!", "Dull plot.", "great fun"]
WORDS = {"kind": "sequence", "max_tokens": 100, "sequence_length": 5, "standardize": "lower_and_strip_punctuation"}
NGRAMS = {"kind": "ngrams", "max_tokens": 100, "ngrams": 2, "standardize": "lower_and_strip_punctuation"}


def test_vocabulary_comes_from_the_given_texts_only():
    vocabulary = vectorizing.fit_vocabulary(TRAIN, WORDS)
    assert vocabulary[0] == "great"  # most frequent first
    assert "" not in vocabulary and "[UNK]" not in vocabulary
    assert set(vocabulary) == {"great", "movie", "cast", "dull", "plot", "fun"}


def test_max_tokens_counts_the_reserved_ids():
    vocabulary = vectorizing.fit_vocabulary(TRAIN, WORDS | {"max_tokens": 4})
    assert vectorizing.vocabulary_size(vocabulary, "sequence") == 4


def test_vocabulary_file_keeps_tokens_with_odd_line_separators(tmp_path):
    tokens = ["great", "a\x85b", "c\u2028d", "e\rf", "g\x0ch"]
    vectorizing.save_vocabulary(tokens, tmp_path / "vocab.txt")
    assert vectorizing.load_vocabulary(tmp_path / "vocab.txt") == tokens


def test_saved_vocabulary_encodes_identically(tmp_path):
    vocabulary = vectorizing.fit_vocabulary(TRAIN, WORDS)
    vectorizing.save_vocabulary(vocabulary, tmp_path / "vocab.txt")
    reloaded = vectorizing.load_vocabulary(tmp_path / "vocab.txt")
    assert reloaded == vocabulary
    texts = ["great dull unknownword", ""]
    first = vectorizing.encode(vectorizing.make_vectorizer(WORDS, vocabulary), texts, "sequence")["tokens"]
    second = vectorizing.encode(vectorizing.make_vectorizer(WORDS, reloaded), texts, "sequence")["tokens"]
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.int32 and first.shape == (2, 5)
    assert list(first[0]) == [2, vocabulary.index("dull") + 2, 1, 0, 0]  # 1 = out of vocabulary, 0 = padding
    assert not first[1].any()


def test_encode_truncates_long_texts():
    vocabulary = vectorizing.fit_vocabulary(TRAIN, WORDS)
    encoded = vectorizing.encode(vectorizing.make_vectorizer(WORDS | {"sequence_length": 2}, vocabulary), ["great great great"], "sequence", batch_size=1)
    assert encoded["tokens"].shape == (1, 2)


def test_ngram_bags_are_stored_as_csr():
    vocabulary = vectorizing.fit_vocabulary(TRAIN, NGRAMS)
    assert "great movie" in vocabulary and "great" in vocabulary
    texts = ["great movie", "nothing known here", "great fun great fun"]
    encoded = vectorizing.encode(vectorizing.make_vectorizer(NGRAMS, vocabulary), texts, "ngrams", batch_size=2)
    indptr, indices = encoded["indptr"], encoded["indices"]
    assert list(indptr) == [0, 3, 4, 4 + 4]
    first_row = {vocabulary[i - 1] for i in indices[indptr[0] : indptr[1]]}
    assert first_row == {"great", "movie", "great movie"}
    assert list(indices[indptr[1] : indptr[2]]) == [0]  # only the out-of-vocabulary id


def test_splits_round_trip_and_widths(tmp_path):
    vectorizing.save_split(tmp_path, "train", {"tokens": np.ones((2, 3), np.int32)}, np.array([0, 1]))
    arrays, labels = vectorizing.load_split(tmp_path, "train")
    assert set(arrays) == {"tokens"} and list(labels) == [0, 1]
    vectorizing.save_vocabulary(["a", "b"], tmp_path / "vocab.txt")
    assert vectorizing.input_width(tmp_path, "sequence") == 4
    with pytest.raises(TextclfError, match="holds token sequences, but the model reads n-gram bags"):
        vectorizing.input_width(tmp_path, "ngrams")
    with pytest.raises(TextclfError, match="run `dvc repro vectorize`"):
        vectorizing.load_split(tmp_path, "test")


def test_feature_kind_is_checked():
    with pytest.raises(TextclfError, match="features.x.kind must be one of"):
        vectorizing.feature_schema({"kind": "chars"}, "x")


def test_text_features_round_trip_through_parquet(tmp_path):
    texts = np.array(["a review", "", "ünïcode ok"], dtype=object)
    vectorizing.save_split(tmp_path, "train", {"texts": texts}, np.array([1, 0, 1]))
    arrays, labels = vectorizing.load_split(tmp_path, "train")
    assert list(arrays["texts"]) == list(texts) and list(labels) == [1, 0, 1]
    assert vectorizing.input_width(tmp_path, "text") == 0
    with pytest.raises(TextclfError, match="holds raw text, but the model reads token sequences"):
        vectorizing.input_width(tmp_path, "sequence")


def test_take_selects_rows_of_every_kind():
    csr = {"indptr": np.array([0, 2, 3, 6]), "indices": np.array([5, 7, 1, 2, 3, 4], np.int32)}
    taken = vectorizing.take(csr, np.array([0, 2]))
    assert list(taken["indptr"]) == [0, 2, 5] and list(taken["indices"]) == [5, 7, 2, 3, 4]
    dense = vectorizing.take({"tokens": np.arange(6).reshape(3, 2)}, np.array([2]))
    assert dense["tokens"].tolist() == [[4, 5]]
