"""Fit a model on integer-encoded splits with early stopping on validation loss.

Per-epoch metrics are logged with DVCLive as training goes, in its standard
layout (``<dir>/plots/metrics/{train,eval}/{loss,accuracy}.tsv``), so
``dvc plots show``, ``dvc exp show`` and the VS Code extension can follow a run.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import keras, tf
from textclf.features import vectorizing
from textclf.tasks import Task

# Keras history keys and where DVCLive's Keras callback logs each of them.
LOGGED_METRICS = {"loss": "train/loss", "accuracy": "train/accuracy", "val_loss": "eval/loss", "val_accuracy": "eval/accuracy"}


def make_dataset(
    arrays: dict[str, np.ndarray],
    labels: np.ndarray,
    batch_size: int,
    width: int,
    shuffle_seed: int | None = None,
    bucket_by_length: bool = False,
):
    """A batched tf.data pipeline over one split's arrays in memory (labels as given), batched as their kind needs."""
    return split_dataset(vectorizing.ArraySplit(arrays, labels), batch_size, width, shuffle_seed, bucket_by_length)


def split_dataset(split, batch_size: int, width: int, shuffle_seed: int | None = None, bucket_by_length: bool = False,
                  shuffle_buffer: int | None = None, label_dtype=None):
    """A batched tf.data pipeline over a split in memory or streamed from its shards.

    The shuffle buffer holds ``shuffle_buffer`` examples (all of them by default); one at least as large
    as the split is a true shuffle, and the seed fixes every epoch's order. A stored split is shuffled
    as serialized records and parsed a batch at a time, unless bucketing needs each text's length first;
    either way the batches are the ones its arrays in memory would give.
    """
    parse_batches = isinstance(split, vectorizing.StoredSplit) and not bucket_by_length
    dataset = split.records() if parse_batches else split.examples()
    dataset = shuffled(dataset, split.count, shuffle_seed, shuffle_buffer)
    if parse_batches:
        dataset = split.parsed_batches(dataset, batch_size, width)
    else:
        dataset = split.kind.batch(dataset, batch_size, bucket_by_length, split.max_length, width)
    if label_dtype is not None:
        dataset = dataset.map(lambda inputs, labels: (inputs, tf.cast(labels, label_dtype)))
    return prefetched(dataset)


def shuffled(dataset, count: int, seed: int | None, buffer: int | None):
    """``dataset`` of ``count`` examples reshuffled each epoch through a buffer of ``buffer`` (all by default),
    or as it is when ``seed`` is None (evaluation and prediction keep the split's order)."""
    if seed is None:
        return dataset
    size = count if buffer is None else min(buffer, count)
    return dataset.shuffle(max(size, 1), seed=seed, reshuffle_each_iteration=True)


def prefetched(dataset):
    options = tf.data.Options()
    # The splits are arrays or one stream, not files a worker could own: under a multi-worker strategy each
    # worker takes its share of every batch.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.prefetch(tf.data.AUTOTUNE).with_options(options)


def encoded_dataset(encoder, split, batch_size: int, label_dtype, shuffle_seed: int | None = None,
                    shuffle_buffer: int | None = None):
    """A split's examples run through ``encoder`` once, then shuffled and batched as ``split_dataset`` does.

    The encodings are held in memory (examples x width floats: 10 MB for 20,000 texts in 128 dimensions).
    """
    vectors, labels = [], []
    for arrays, chunk_labels in split.chunks():
        examples = split.kind.examples(arrays)
        step = split.kind.predict_batch
        vectors += [encoder(examples[start:start + step]).numpy() for start in range(0, len(chunk_labels), step)]
        labels.append(chunk_labels)
    if not labels:
        raise TextclfError("cannot encode an empty split")
    labels = np.concatenate(labels)
    dataset = tf.data.Dataset.from_tensor_slices((np.concatenate(vectors), labels.astype(label_dtype)))
    dataset = shuffled(dataset, len(labels), shuffle_seed, shuffle_buffer)
    return prefetched(dataset.batch(batch_size))


def compile_model(model: keras.Model, learning_rate: float, task: Task) -> None:
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=task.loss(), metrics=[task.accuracy()])


def fit(model: keras.Model, train_data, validation_data, epochs: int, patience: int,
        callbacks: tuple = ()) -> tuple[list[dict], int]:
    """Train; return per-epoch history rows and the 1-based epoch whose weights were kept."""
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = model.fit(train_data, validation_data=validation_data, epochs=epochs, callbacks=[stopper, *callbacks], verbose=2)
    rows = [
        {"epoch": epoch + 1, **{key: float(history.history[key][epoch]) for key in LOGGED_METRICS}}
        for epoch in range(len(history.history["loss"]))
    ]
    return rows, best_epoch_of(rows)


def best_epoch_of(rows: list[dict]) -> int:
    """The epoch EarlyStopping keeps: the lowest validation loss, the first on a tie."""
    return 1 + int(np.argmin([row["val_loss"] for row in rows]))


def live_logger(directory: Path):
    """A DVCLive callback that writes each epoch's metrics into ``directory`` as soon as the epoch ends.

    Steps are numbered from 1, like the epochs Keras prints. No timestamps are
    logged, so a rerun writes the same bytes; no dvc.yaml or report is written
    (dvc.yaml declares the plots), and no experiment is saved (``dvc exp run``
    does that).
    """
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback
    from scmrepo.exceptions import SCMError

    try:
        live = Live(str(directory), dvcyaml=False, save_dvc_exp=False, report=None)
    except SCMError as error:  # DVCLive 3.49 reads HEAD before checking that there is one
        raise TextclfError(f"DVCLive cannot start ({error}): commit once (`git commit`), then run the stage again") from None
    live.step = 1
    return DVCLiveCallback(live=live)


def read_live_history(directory: Path) -> list[dict]:
    """The per-epoch rows a :func:`live_logger` wrote, as :func:`fit` returns them."""
    columns = {}
    for key, name in LOGGED_METRICS.items():
        path = directory / "plots" / "metrics" / f"{name}.tsv"
        if not path.is_file():
            raise TextclfError(f"{path} not found (run `dvc repro` to train the model)")
        with path.open(encoding="utf-8", newline="") as handle:
            columns[key] = {int(row["step"]): float(row[name.split("/")[1]]) for row in csv.DictReader(handle, delimiter="\t")}
    epochs = sorted(columns["loss"])
    return [{"epoch": epoch, **{key: columns[key][epoch] for key in LOGGED_METRICS}} for epoch in epochs]


def train_model(spec, hparams: dict, width: int, train, validation, task: Task,
                callbacks: tuple = (), vocabulary: list[str] | None = None,
                strategy: tf.distribute.Strategy | None = None,
                shuffle_buffer: int | None = None) -> tuple[keras.Model, list[dict], int]:
    """Build, initialize, prime, compile and fit one model; the same recipe for the zoo and the transfer cells.

    ``train`` and ``validation`` are (arrays, labels) in memory or splits streamed from their shards
    (``vectorizing.open_split``), shuffled through a buffer of ``shuffle_buffer`` examples.
    ``vocabulary`` is the feature set's, for models that start from pretrained word vectors. The model's
    variables are made in ``strategy``'s scope (textclf.training.distribute), and ``batch_size`` is the global batch,
    split over its replicas.
    """
    train, validation = vectorizing.as_split(train), vectorizing.as_split(validation)
    label_dtype = task.training_labels(np.zeros(0, np.int32)).dtype
    with (strategy or tf.distribute.get_strategy()).scope():
        model = spec.build(hparams, width, task.units)
        if spec.initialize:
            if vocabulary is None:
                raise TextclfError(f"{hparams.get('architecture', 'the model')} starts from pretrained word vectors and needs its feature set's vocabulary")
            spec.initialize(model, hparams, vocabulary)
        if spec.prime:
            spec.prime(model, ((arrays, task.head_targets(labels)) for arrays, labels in train.chunks()))
        compile_model(model, hparams["learning_rate"], task)
        frozen = spec.frozen_split(model, hparams) if spec.frozen_split else None
        if frozen:
            compile_model(frozen[1], hparams["learning_rate"], task)
    if frozen:
        # The head's layers are the model's: fitting the head on the encoded texts fits the model,
        # and no text is encoded twice.
        encoder, fitted = frozen
        train_data = encoded_dataset(encoder, train, hparams["batch_size"], label_dtype, hparams["seed"], shuffle_buffer)
        validation_data = encoded_dataset(encoder, validation, validation.kind.predict_batch, label_dtype)
    else:
        fitted = model
        train_data = split_dataset(train, hparams["batch_size"], width, hparams["seed"], hparams.get("bucket_by_length", False),
                                   shuffle_buffer, label_dtype)
        # Validation is batched as training is: bucketed, a batch of short reviews is not padded to 512 tokens.
        validation_data = split_dataset(validation, validation.kind.predict_batch, width,
                                        bucket_by_length=hparams.get("bucket_by_length", False), label_dtype=label_dtype)
    rows, best_epoch = fit(fitted, train_data, validation_data, hparams["epochs"], hparams["patience"], callbacks)
    return model, rows, best_epoch


def predict_logits(model: keras.Model, arrays: dict, labels: np.ndarray, width: int) -> np.ndarray:
    """[n, units] logits, in the order of ``arrays`` (computed in ``vectorizing.prediction_order``)."""
    order = vectorizing.prediction_order(arrays, len(labels))
    batch_size = vectorizing.kind_of(arrays).predict_batch
    logits = model.predict(make_dataset(vectorizing.take(arrays, order), labels[order], batch_size, width), verbose=0)
    return logits[np.argsort(order)]


def evaluate(model: keras.Model, arrays: dict, labels: np.ndarray, width: int, task: Task) -> dict:
    return task.report(labels, predict_logits(model, arrays, labels, width))


def load_model(path: Path) -> keras.Model:
    if not path.exists():
        raise TextclfError(f"model not found: {path} (run `dvc repro` to train it)")
    import tensorflow_hub as hub  # hub_dnn models hold a KerasLayer

    return keras.models.load_model(path, custom_objects={"KerasLayer": hub.KerasLayer})
