"""Feature kinds: each one's fitting, encoding, row selection, training inputs and serving-time inputs."""

import numpy as np
import pytest

from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import tf
from textclf.features import vectorizing
from textclf.training import fitting

SEQUENCE, NGRAMS, TEXT = (vectorizing.KINDS[name] for name in ("sequence", "ngrams", "text"))
TRAIN = ["Great movie, great cast!", "Dull plot.", "great fun"]
WORDS = {"kind": "sequence", "dataset": "imdb", "max_tokens": 100, "sequence_length": 5,
         "standardize": "lower_and_strip_punctuation", "fit_unlabelled": False}
BAGS = {"kind": "ngrams", "dataset": "imdb", "max_tokens": 100, "ngrams": 2, "standardize": "lower_and_strip_punctuation",
        "fit_unlabelled": False}
RAW = {"kind": "text", "dataset": "imdb"}


def test_kinds_are_registered_by_name():
    assert list(vectorizing.KINDS) == ["sequence", "ngrams", "text"]
    assert [kind.fits_vocabulary for kind in (SEQUENCE, NGRAMS, TEXT)] == [True, True, False]
    assert isinstance(SEQUENCE, vectorizing.SequenceKind) and isinstance(NGRAMS, vectorizing.NgramKind)
    assert isinstance(TEXT, vectorizing.TextKind)


# Fitting ----------------------------------------------------------------------


def test_vocabulary_comes_from_the_given_texts_only():
    vocabulary = SEQUENCE.fit(WORDS, TRAIN)
    assert vocabulary[0] == "great"  # most frequent first
    assert "" not in vocabulary and "[UNK]" not in vocabulary
    assert set(vocabulary) == {"great", "movie", "cast", "dull", "plot", "fun"}


def test_max_tokens_counts_the_reserved_ids():
    assert vectorizing.vocabulary_size(SEQUENCE.fit(WORDS | {"max_tokens": 4}, TRAIN), "sequence") == 4  # padding, OOV
    assert vectorizing.vocabulary_size(NGRAMS.fit(BAGS | {"max_tokens": 4}, TRAIN), "ngrams") == 4  # OOV


def test_fitting_on_no_text_is_an_error():
    with pytest.raises(TextclfError, match="cannot fit a vocabulary on an empty train split"):
        SEQUENCE.fit(WORDS, [])


@pytest.mark.parametrize("kind, settings", [(SEQUENCE, WORDS), (NGRAMS, BAGS | {"ngrams": 3})], ids=["sequence", "ngrams"])
@pytest.mark.parametrize("max_tokens", [3, 7, 12, 1000])
def test_a_fitted_vocabulary_is_the_one_keras_adapt_learns(kind, settings, max_tokens):
    # Many tokens share a count here, so the cut at max_tokens falls inside a tie; at 1000 nothing is cut.
    texts = TRAIN + ["the plot, the cast and the fun", "A great great plot", "unk [UNK] cast", "zebra yak xylophone"]
    settings = settings | {"max_tokens": max_tokens, "standardize": "none"}  # "[UNK]" stays a token of the text
    adapted = kind.vectorizer(settings)
    adapted.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(2))
    assert kind.fit(settings, texts) == adapted.get_vocabulary()[kind.reserved :]


def test_most_frequent_breaks_ties_by_the_tokens_bytes_and_drops_the_excluded():
    tokens = tf.constant(["b", "a", "[UNK]", "c", "é"])
    counts = tf.constant([2, 2, 9, 1, 2], tf.int64)
    assert vectorizing.most_frequent(tokens, counts, 2, ["[UNK]"]) == ["é", "b"]
    assert vectorizing.most_frequent(tokens, counts, 10, ["[UNK]"]) == ["é", "b", "a", "c"]


def test_most_frequent_cut_inside_a_tie_keeps_what_a_full_sort_keeps():
    # Many tokens share a count and their first 8 bytes, as the n-grams seen once do: the cut falls among them.
    rng = np.random.default_rng(0)
    stems = ["the movie was", "the movie is", "and the", "a", "it", "é und"]
    words = sorted({f"{rng.choice(stems)} {rng.integers(0, 50)}{'x' * rng.integers(0, 3)}" for _ in range(400)})
    counts = rng.choice([1, 1, 1, 2, 3], size=len(words))
    tokens = np.array([word.encode("utf-8") for word in words], dtype=object)
    full_sort = [tokens[row].decode("utf-8") for row in np.lexsort((tokens, counts))[::-1]]
    for limit in (0, 1, 5, 37, 150, len(words) - 1, len(words), len(words) + 5):
        assert vectorizing.most_frequent(tf.constant(tokens), tf.constant(counts, tf.int64), limit, []) == full_sort[:limit]


def test_vocabulary_file_keeps_tokens_with_odd_line_separators(tmp_path):
    tokens = ["great", "a\x85b", "c\u2028d", "e\rf", "g\x0ch"]
    vectorizing.save_vocabulary(tokens, tmp_path / "vocab.txt")
    assert vectorizing.load_vocabulary(tmp_path / "vocab.txt") == tokens


def test_saved_vocabulary_loads_a_vectorizer_that_encodes_identically(tmp_path):
    vocabulary = SEQUENCE.fit(WORDS, TRAIN)
    vectorizing.save_vocabulary(vocabulary, tmp_path / "vocab.txt")
    reloaded = vectorizing.load_vectorizer(tmp_path, SEQUENCE, WORDS)
    assert reloaded.get_vocabulary()[2:] == vocabulary
    texts = ["great dull unknownword", ""]
    first = SEQUENCE.encode(SEQUENCE.vectorizer(WORDS, vocabulary), texts)["tokens"]
    second = SEQUENCE.encode(reloaded, texts)["tokens"]
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.int32 and first.shape == (2, 5)
    assert list(first[0]) == [2, vocabulary.index("dull") + 2, 1, 0, 0]  # 1 = out of vocabulary, 0 = padding
    assert not first[1].any()
    assert vectorizing.load_vectorizer(tmp_path, TEXT, RAW) is None  # raw text needs none
    with pytest.raises(TextclfError, match="vocabulary not found: .*run `dvc repro vectorize`"):
        vectorizing.load_vectorizer(tmp_path / "elsewhere", NGRAMS, BAGS)


# Encoding ---------------------------------------------------------------------


def test_sequences_are_truncated_and_an_empty_split_keeps_its_width():
    vectorizer = SEQUENCE.vectorizer(WORDS | {"sequence_length": 2}, SEQUENCE.fit(WORDS, TRAIN))
    assert SEQUENCE.encode(vectorizer, ["great great great"], batch_size=1)["tokens"].shape == (1, 2)
    empty = SEQUENCE.encode(vectorizer, [])["tokens"]
    assert empty.shape == (0, 2) and empty.dtype == np.int32


def test_ngram_bags_are_stored_as_csr():
    vocabulary = NGRAMS.fit(BAGS, TRAIN)
    assert "great movie" in vocabulary and "great" in vocabulary
    texts = ["great movie", "nothing known here", "great fun great fun"]
    encoded = NGRAMS.encode(NGRAMS.vectorizer(BAGS, vocabulary), texts, batch_size=2)
    indptr, indices = encoded["indptr"], encoded["indices"]
    assert list(indptr) == [0, 3, 4, 4 + 4]
    first_row = {vocabulary[i - 1] for i in indices[indptr[0] : indptr[1]]}
    assert first_row == {"great", "movie", "great movie"}
    assert list(indices[indptr[1] : indptr[2]]) == [0]  # only the out-of-vocabulary id
    assert all(np.all(np.diff(indices[start:end]) > 0) for start, end in zip(indptr[:-1], indptr[1:]))  # sorted, once each
    empty = NGRAMS.encode(NGRAMS.vectorizer(BAGS, vocabulary), [])
    assert list(empty["indptr"]) == [0] and len(empty["indices"]) == 0


def test_text_is_kept_as_it_is():
    encoded = TEXT.encode(None, ["A review, as written.", ""])
    assert encoded["texts"].dtype == object and list(encoded["texts"]) == ["A review, as written.", ""]


# Rows and training inputs -----------------------------------------------------


def test_take_selects_rows_of_every_kind():
    csr = {"indptr": np.array([0, 2, 3, 6]), "indices": np.array([5, 7, 1, 2, 3, 4], np.int32)}
    for taken in (vectorizing.take(csr, np.array([0, 2])), NGRAMS.take(csr, np.array([0, 2]))):
        assert list(taken["indptr"]) == [0, 2, 5] and list(taken["indices"]) == [5, 7, 2, 3, 4]
    assert list(NGRAMS.take(csr, np.array([], np.int64))["indptr"]) == [0]
    dense = vectorizing.take({"tokens": np.arange(6).reshape(3, 2)}, np.array([2]))
    assert dense["tokens"].tolist() == [[4, 5]]
    texts = vectorizing.take({"texts": np.array(["a", "b", "c"], dtype=object)}, np.array([2, 0]))
    assert list(texts["texts"]) == ["c", "a"]


def test_kind_of_tells_a_splits_kind_from_its_arrays():
    assert vectorizing.kind_of({"tokens": np.zeros((1, 2))}) is SEQUENCE
    assert vectorizing.kind_of({"indptr": np.zeros(1), "indices": np.zeros(0)}) is NGRAMS
    assert vectorizing.kind_of({"texts": np.array([], dtype=object)}) is TEXT


def batches_of(arrays, labels, batch_size, width):
    return list(vectorizing.ArraySplit(arrays, labels).kind.batch(
        vectorizing.ArraySplit(arrays, labels).examples(), batch_size, False, vectorizing.kind_of(arrays).max_length(arrays), width))


def test_each_kinds_batches():
    tokens = np.array([[2, 3, 0], [4, 0, 0]], np.int32)
    [(batch, _)] = batches_of({"tokens": tokens}, np.zeros(2), 2, 10)
    assert batch.numpy().tolist() == [[2, 3], [4, 0]]  # padded to the longest text
    [(bags, _)] = batches_of({"indptr": np.array([0, 2, 3]), "indices": np.array([1, 4, 0], np.int32)}, np.zeros(2), 2, 5)
    assert isinstance(bags, tf.SparseTensor) and bags.dense_shape.numpy().tolist() == [2, 5] and bags.shape[1] == 5
    assert tf.sparse.to_dense(bags).numpy().tolist() == [[0, 1, 0, 0, 1], [1, 0, 0, 0, 0]]
    [(texts, _)] = batches_of({"texts": np.array(["a b", "c"], dtype=object)}, np.zeros(2), 2, 0)
    assert texts.dtype == tf.string and texts.numpy().tolist() == [b"a b", b"c"]


def test_sequence_batches_are_cut_to_their_longest_text():
    tokens = np.array([[5, 0, 0, 0], [5, 6, 0, 0], [5, 6, 7, 0], [5, 0, 0, 0]], np.int32)
    widths = [batch.shape[1] for batch, _ in batches_of({"tokens": tokens}, np.zeros(4, np.float32), 2, 10)]
    assert widths == [2, 3]
    [(padding_only, _)] = batches_of({"tokens": np.zeros((2, 4), np.int32)}, np.zeros(2), 2, 10)
    assert padding_only.shape == (2, 1)  # never zero columns
    assert vectorizing.cut_padding(tf.zeros((2, 4), tf.int32)).shape == (2, 1)  # as an exported model cuts them


# Serving-time inputs ----------------------------------------------------------


def test_serving_inputs_match_what_training_read():
    """Inside an exported model, each kind computes from strings what the model was trained on."""
    texts = ["great movie", "dull dull plot great", "unknown"]
    vocabulary = SEQUENCE.fit(WORDS | {"sequence_length": 8}, TRAIN)
    vectorizer = SEQUENCE.vectorizer(WORDS | {"sequence_length": 8}, vocabulary)
    served = SEQUENCE.serving_inputs(vectorizer, tf.constant(texts)).numpy()
    stored = SEQUENCE.encode(vectorizer, texts)["tokens"]
    assert served.shape == (3, 4)  # the longest text, not sequence_length
    np.testing.assert_array_equal(served, stored[:, :4])

    vocabulary = NGRAMS.fit(BAGS, TRAIN)
    vectorizer = NGRAMS.vectorizer(BAGS, vocabulary)
    served = tf.sparse.to_dense(NGRAMS.serving_inputs(vectorizer, tf.constant(texts))).numpy()
    width = vectorizing.vocabulary_size(vocabulary, "ngrams")
    [(bags, _)] = batches_of(NGRAMS.encode(vectorizer, texts), np.zeros(3), 3, width)
    stored = tf.sparse.to_dense(bags).numpy()
    np.testing.assert_array_equal(served, stored)

    assert TEXT.serving_inputs(None, tf.constant(texts)).numpy().tolist() == [t.encode() for t in texts]


def test_a_vectorizer_holds_its_vocabulary_in_its_lookup_table_only():
    """A vocabulary passed to the constructor stays on the layer as a Python list, which saving a SavedModel
    walks item by item: minutes for a million n-grams."""
    vocabulary = NGRAMS.fit(BAGS, TRAIN)
    vectorizer = NGRAMS.vectorizer(BAGS, vocabulary)
    assert vectorizer.get_vocabulary()[NGRAMS.reserved:] == list(vocabulary)
    assert vectorizer.get_config()["vocabulary"] is None


# Params -----------------------------------------------------------------------


def test_checked_features_gives_the_kind_and_the_block_over_its_defaults():
    kind, settings = vectorizing.checked_features(BAGS, "bags")
    assert kind is NGRAMS and settings == BAGS
    assert vectorizing.checked_features(RAW, "raw")[0] is TEXT
    assert vectorizing.checked_features({"kind": "ngrams", "dataset": "d"}, "bags")[1] == {
        "kind": "ngrams", "dataset": "d", "max_tokens": 1000000, "ngrams": 2, "standardize": "lower_and_strip_punctuation",
        "fit_unlabelled": False}


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (WORDS | {"kind": "chars"}, "features.x.kind must be one of 'sequence', 'ngrams', 'text', got 'chars'"),
        ({"dataset": "imdb"}, "features.x.kind must be one of .*, got None"),
        ({key: value for key, value in WORDS.items() if key != "dataset"}, "features.x: missing key 'dataset'"),
        ({"kind": "text"}, "features.x: missing key 'dataset'"),
        (RAW | {"max_tokens": 10}, "features.x: unknown key 'max_tokens'"),
        (BAGS | {"ngrams": 0}, "features.x.ngrams must be a positive integer, got 0"),
        (WORDS | {"max_tokens": 2}, "features.x.max_tokens must be at least 3: the first 2 id\\(s\\) are reserved, got 2"),
        (BAGS | {"max_tokens": 1}, "features.x.max_tokens must be at least 2: the first 1 id\\(s\\) are reserved, got 1"),
    ],
)
def test_checked_features_errors_name_the_key(block, message):
    with pytest.raises(TextclfError, match=message):
        vectorizing.checked_features(block, "x")


# Stored splits ----------------------------------------------------------------


def test_splits_round_trip_and_widths(tmp_path):
    vectorizing.save_split(tmp_path, "train", [({"tokens": np.ones((2, 3), np.int32)}, np.array([0, 1]))])
    arrays, labels = vectorizing.load_split(tmp_path, "train")
    assert set(arrays) == {"tokens"} and list(labels) == [0, 1] and arrays["tokens"].tolist() == [[1, 1, 1]] * 2
    assert vectorizing.stored_kind(tmp_path) is SEQUENCE
    vectorizing.save_vocabulary(["a", "b"], tmp_path / "vocab.txt")
    assert vectorizing.input_width(tmp_path, "sequence") == 4
    with pytest.raises(TextclfError, match="holds token sequences, but the model reads n-gram bags"):
        vectorizing.input_width(tmp_path, "ngrams")
    with pytest.raises(TextclfError, match="run `dvc repro vectorize`"):
        vectorizing.load_split(tmp_path, "test")


def test_multi_label_labels_round_trip(tmp_path):
    csr = {"indptr": np.array([0, 1, 3]), "indices": np.array([2, 0, 1], np.int32)}
    hot = np.array([[1, 0, 1], [0, 1, 0]])
    vectorizing.save_split(tmp_path, "train", [(csr, hot)])
    arrays, labels = vectorizing.load_split(tmp_path, "train")
    assert labels.dtype == np.int32 and labels.tolist() == hot.tolist()
    assert list(arrays["indptr"]) == [0, 1, 3] and list(arrays["indices"]) == [2, 0, 1]
    # Multi-hot labels stream in their shape too, parsed a batch at a time.
    streamed, in_memory = (epochs_of(fitting.split_dataset(split, 2, 3, shuffle_seed=1, label_dtype=tf.float32), 1)
                           for split in (vectorizing.open_split(tmp_path, "train"), vectorizing.ArraySplit(csr, hot)))
    assert streamed == in_memory and streamed[0][0][1] in (hot.tolist(), hot[::-1].tolist())
    vectorizing.save_vocabulary(["a", "b"], tmp_path / "vocab.txt")
    assert vectorizing.input_width(tmp_path, "ngrams") == 3
    with pytest.raises(TextclfError, match="holds n-gram bags, but the model reads raw text"):
        vectorizing.input_width(tmp_path, "text")


def test_text_features_round_trip(tmp_path):
    texts = np.array(["a review", "", "ünïcode ok"], dtype=object)
    vectorizing.save_split(tmp_path, "train", [({"texts": texts}, np.array([1, 0, 1]))])
    arrays, labels = vectorizing.load_split(tmp_path, "train")
    assert list(arrays["texts"]) == list(texts) and list(labels) == [1, 0, 1]
    assert vectorizing.input_width(tmp_path, "text") == 0
    with pytest.raises(TextclfError, match="holds raw text, but the model reads token sequences"):
        vectorizing.input_width(tmp_path, "sequence")


@pytest.mark.parametrize("arrays", [
    {"tokens": np.array([[3, 4, 0], [5, 0, 0], [0, 0, 0], [6, 7, 8], [9, 0, 0]], np.int32)},
    {"indptr": np.array([0, 2, 3, 3, 6, 7]), "indices": np.array([1, 4, 0, 2, 3, 9, 5], np.int32)},
    {"texts": np.array(["a", "bb", "", "ccc", "d"], dtype=object)},
], ids=["sequence", "ngrams", "text"])
def test_a_split_in_shards_streams_and_loads_as_the_arrays_it_was_written_from(tmp_path, arrays):
    """Written a shard per chunk, a split reads back whole as the same arrays, and streams the same examples in order."""
    labels = np.array([1, 0, 1, 1, 0], np.int32)
    kind = vectorizing.kind_of(arrays)
    chunks = [(kind.take(arrays, np.arange(0, 2)), labels[:2]), (kind.take(arrays, np.arange(2, 5)), labels[2:])]
    assert vectorizing.save_split(tmp_path, "train", chunks) == 5
    assert sorted(path.name for path in tmp_path.iterdir()) == ["train-00000.tfrecord", "train-00001.tfrecord", "train.json"]
    loaded, loaded_labels = vectorizing.load_split(tmp_path, "train")
    assert loaded.keys() == arrays.keys() and loaded_labels.tolist() == labels.tolist()
    for name in arrays:
        assert loaded[name].tolist() == arrays[name].tolist()
    stored = vectorizing.open_split(tmp_path, "train")
    assert stored.count == 5 and stored.examples().cardinality().numpy() == 5
    # Records in the canonical (sorted-key) serialization: the default one orders a map per process.
    for record in tf.data.TFRecordDataset(list(stored.shards)).as_numpy_iterator():
        assert record == tf.train.Example.FromString(record).SerializeToString(deterministic=True)
    streamed = [(np.asarray(example).tolist(), int(label)) for example, label in stored.examples().as_numpy_iterator()]
    in_memory = [(np.asarray(example).tolist(), int(label))
                 for example, label in vectorizing.ArraySplit(arrays, labels).examples().as_numpy_iterator()]
    assert streamed == in_memory
    # Shuffled as records and parsed a batch at a time, the stream gives the batches the arrays give, epoch after epoch.
    for epoch_batches in zip(*(epochs_of(fitting.split_dataset(split, 2, 10, shuffle_seed=3, shuffle_buffer=3), 2)
                               for split in (stored, vectorizing.ArraySplit(arrays, labels)))):
        assert epoch_batches[0] == epoch_batches[1]


def epochs_of(dataset, epochs):
    """Each epoch's batches as plain lists (sparse bags made dense)."""
    def plain(value):
        return (tf.sparse.to_dense(value) if isinstance(value, tf.SparseTensor) else value).numpy().tolist()
    return [[(plain(inputs), plain(labels)) for inputs, labels in dataset] for _ in range(epochs)]


def test_an_empty_split_is_one_empty_shard_that_loads_empty(tmp_path):
    vectorizing.save_split(tmp_path, "test", [({"tokens": np.zeros((0, 4), np.int32)}, np.zeros((0, 3), np.int32))])
    arrays, labels = vectorizing.load_split(tmp_path, "test")
    assert arrays["tokens"].shape == (0, 4) and labels.shape == (0, 3)
    assert list(vectorizing.open_split(tmp_path, "test").examples()) == []
