import numpy as np

from textclf import vectorizing

TRAIN = ["Great movie, great cast!", "Dull plot.", "great fun"]


def test_vocabulary_comes_from_the_given_texts_only():
    vocabulary = vectorizing.fit_vocabulary(TRAIN, max_tokens=100, standardize="lower_and_strip_punctuation")
    assert vocabulary[0] == "great"  # most frequent first
    assert "" not in vocabulary and "[UNK]" not in vocabulary
    assert set(vocabulary) == {"great", "movie", "cast", "dull", "plot", "fun"}


def test_max_tokens_counts_the_reserved_ids():
    vocabulary = vectorizing.fit_vocabulary(TRAIN, max_tokens=4, standardize="lower")
    assert vectorizing.vocabulary_size(vocabulary) == 4


def test_saved_vocabulary_encodes_identically(tmp_path):
    vocabulary = vectorizing.fit_vocabulary(TRAIN, max_tokens=100, standardize="lower_and_strip_punctuation")
    vectorizing.save_vocabulary(vocabulary, tmp_path / "vocab.txt")
    reloaded = vectorizing.load_vocabulary(tmp_path / "vocab.txt")
    assert reloaded == vocabulary
    texts = ["great dull unknownword", ""]
    first = vectorizing.encode(vectorizing.make_vectorizer(5, "lower_and_strip_punctuation", vocabulary), texts)
    second = vectorizing.encode(vectorizing.make_vectorizer(5, "lower_and_strip_punctuation", reloaded), texts)
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.int32 and first.shape == (2, 5)
    assert list(first[0]) == [2, vocabulary.index("dull") + 2, 1, 0, 0]  # 1 = out of vocabulary, 0 = padding
    assert not first[1].any()


def test_encode_truncates_long_texts():
    vocabulary = vectorizing.fit_vocabulary(TRAIN, max_tokens=100, standardize="lower")
    encoded = vectorizing.encode(vectorizing.make_vectorizer(2, "lower", vocabulary), ["great great great"], batch_size=1)
    assert encoded.shape == (1, 2)
