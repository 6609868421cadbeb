"""Fit a model on integer-encoded splits with early stopping on the validation split's main metric.

Per-epoch metrics are logged with DVCLive as training goes, in its standard
layout (``<dir>/plots/metrics/{train,eval}/{loss,accuracy}.tsv``, ``eval/score.tsv``:
the main metric at the threshold chosen that epoch, ``eval/threshold.tsv``), so
``dvc plots show``, ``dvc exp show`` and the VS Code extension can follow a run.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from textclf.core.errors import TextclfError
from textclf.core.tf_runtime import keras, tf
from textclf.features import vectorizing
from textclf.tasks import Task

# Keras history keys and where DVCLive's Keras callback logs each of them; val_threshold only where the task decides
# at a threshold.
LOGGED_METRICS = {"loss": "train/loss", "accuracy": "train/accuracy", "val_loss": "eval/loss", "val_accuracy": "eval/accuracy",
                  "val_score": "eval/score", "val_threshold": "eval/threshold"}
OPTIONAL_METRICS = ("val_threshold",)


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
                  shuffle_buffer: int | None = None, label_dtype=None, class_weights: np.ndarray | None = None):
    """A batched tf.data pipeline over a split in memory or streamed from its shards.

    The shuffle buffer holds ``shuffle_buffer`` examples (all of them by default); one at least as large
    as the split is a true shuffle, and the seed fixes every epoch's order. A stored split is shuffled
    as serialized records and parsed a batch at a time, unless bucketing needs each text's length first;
    either way the batches are the ones its arrays in memory would give. With ``class_weights`` each
    batch also carries its examples' weights (``weighted``).
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
    return prefetched(weighted(dataset, class_weights))


def weighted(dataset, class_weights: np.ndarray | None):
    """Batches of (inputs, labels) as (inputs, labels, the weight of each example's class); as they are without weights."""
    if class_weights is None:
        return dataset
    table = tf.constant(class_weights, tf.float32)
    return dataset.map(lambda inputs, labels: (inputs, labels, tf.gather(table, tf.cast(labels, tf.int32))))


def class_weights(task: Task, train, mode: str) -> np.ndarray | None:
    """Per class index, the weight that makes every class weigh as much in the loss as the others
    (n / (K * count), scikit-learn's "balanced"); None for ``mode`` none and for multi-label tasks, whose
    labels are not exclusive classes."""
    if mode == "none" or task.name == "multi_label":
        return None
    counts = np.zeros(len(task.classes))
    for _, labels in train.chunks():
        counts += np.bincount(labels.astype(np.int64), minlength=len(task.classes))
    return (counts.sum() / (len(counts) * np.maximum(counts, 1))).astype(np.float32)


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
                    shuffle_buffer: int | None = None, class_weights: np.ndarray | None = None):
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
    return prefetched(weighted(dataset.batch(batch_size), class_weights))


def compile_model(model: keras.Model, learning_rate: float, task: Task) -> None:
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=task.loss(), metrics=[task.accuracy()])


class ValidationScore(keras.callbacks.Callback):
    """After each epoch, the validation split scored from one pass over it: the task's main metric at the
    threshold chosen on it then (``Task.validation_score``) as ``val_score`` (and ``val_threshold``), and
    Keras's ``val_loss`` and ``val_accuracy`` (deciding at 0.5; the loss without any weight penalty).

    Early stopping watches ``val_score``, and callbacks after this one (DVCLive) log them all. Keras's own
    validation pass is not run: it would predict the split a second time.
    """

    def __init__(self, validation_data, task: Task):
        super().__init__()
        self.validation_data, self.task = validation_data, task
        self.labels = None  # read in the first epoch's pass: the batches come in the same order every epoch
        self.forward = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.forward is None:
            self.forward = tf.function(lambda inputs: self.model(inputs, training=False), reduce_retracing=True)
        logits, labels = [], []
        # Batch by batch, as tensors: converting a sparse n-gram batch to NumPy (as_numpy_iterator) takes
        # minutes over IMDB's 2,000,000 n-grams, and Keras's predict() makes it dense.
        for batch in self.validation_data:
            logits.append(self.forward(batch[0]).numpy())
            if self.labels is None:
                labels.append(batch[1].numpy())
        if self.labels is None:
            found = np.concatenate(labels)
            found = found.reshape(len(found), -1) if self.task.name == "multi_label" else found.reshape(-1)
            self.labels = found.astype(np.int64)
        logits = np.concatenate(logits)
        at_half = self.task.with_threshold(0.5).report(self.labels, logits)
        logs["val_loss"] = at_half["loss"]
        # Keras's accuracy of a multi-label model is per label: 1 - the Hamming loss.
        logs["val_accuracy"] = at_half["accuracy"] if "accuracy" in at_half else 1.0 - at_half["hamming_loss"]
        score, threshold = self.task.validation_score(self.labels, logits)
        logs["val_score"] = score
        if self.task.uses_threshold:
            logs["val_threshold"] = threshold


def fit(model: keras.Model, train_data, validation_data, epochs: int, patience: int, task: Task,
        callbacks: tuple = ()) -> tuple[list[dict], int]:
    """Train; return per-epoch history rows and the 1-based epoch whose weights were kept."""
    stopper = keras.callbacks.EarlyStopping(monitor="val_score", mode="max", patience=patience, restore_best_weights=True)
    scorer = ValidationScore(validation_data, task)
    history = model.fit(train_data, epochs=epochs, callbacks=[scorer, stopper, *callbacks], verbose=2)
    rows = [
        {"epoch": epoch + 1, **{key: float(history.history[key][epoch]) for key in LOGGED_METRICS if key in history.history}}
        for epoch in range(len(history.history["loss"]))
    ]
    return rows, best_epoch_of(rows)


def best_epoch_of(rows: list[dict]) -> int:
    """The epoch EarlyStopping keeps: the best validation score, the first on a tie."""
    return 1 + int(np.argmax([row["val_score"] for row in rows]))


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
        if key in OPTIONAL_METRICS and not path.is_file():
            continue
        if not path.is_file():
            raise TextclfError(f"{path} not found (run `dvc repro` to train the model)")
        with path.open(encoding="utf-8", newline="") as handle:
            columns[key] = {int(row["step"]): float(row[name.split("/")[1]]) for row in csv.DictReader(handle, delimiter="\t")}
    epochs = sorted(columns["loss"])
    return [{"epoch": epoch, **{key: column[epoch] for key, column in columns.items()}} for epoch in epochs]


def kept_threshold(task: Task, rows: list[dict], best_epoch: int) -> Task:
    """``task`` deciding at the threshold chosen on validation in the epoch whose weights were kept."""
    return task.with_threshold(rows[best_epoch - 1]["val_threshold"]) if task.uses_threshold else task


def trained_threshold(directory: Path, task: Task) -> Task:
    """``task`` deciding at the threshold its model's train summary (``directory``/metrics.json) records."""
    path = directory / "metrics.json"
    if not task.uses_threshold:
        return task
    if not path.is_file():
        raise TextclfError(f"{path} not found (run `dvc repro` to train the model)")
    return task.with_threshold(json.loads(path.read_text(encoding="utf-8"))["threshold"])


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
    weights = class_weights(task, train, hparams["class_weight"])
    with (strategy or tf.distribute.get_strategy()).scope():
        model = spec.build(hparams, width, task.units)
        if spec.initialize:
            if vocabulary is None:
                raise TextclfError(f"{hparams.get('architecture', 'the model')} starts from pretrained word vectors and needs its feature set's vocabulary")
            spec.initialize(model, hparams, vocabulary)
        if spec.prime:
            spec.prime(model, ((arrays, task.head_targets(labels)) for arrays, labels in train.chunks()))
        start_at_prior(model, task, train, weights)
        compile_model(model, hparams["learning_rate"], task)
        frozen = spec.frozen_split(model, hparams) if spec.frozen_split else None
        if frozen:
            compile_model(frozen[1], hparams["learning_rate"], task)
    if frozen:
        # The head's layers are the model's: fitting the head on the encoded texts fits the model,
        # and no text is encoded twice.
        encoder, fitted = frozen
        train_data = encoded_dataset(encoder, train, hparams["batch_size"], label_dtype, hparams["seed"], shuffle_buffer,
                                     weights)
        validation_data = encoded_dataset(encoder, validation, validation.kind.predict_batch, label_dtype)
    else:
        fitted = model
        train_data = split_dataset(train, hparams["batch_size"], width, hparams["seed"], hparams.get("bucket_by_length", False),
                                   shuffle_buffer, label_dtype, weights)
        # Validation is batched as training is: bucketed, a batch of short reviews is not padded to 512 tokens.
        validation_data = split_dataset(validation, validation.kind.predict_batch, width,
                                        bucket_by_length=hparams.get("bucket_by_length", False), label_dtype=label_dtype)
    rows, best_epoch = fit(fitted, train_data, validation_data, hparams["epochs"], hparams["patience"], task, callbacks)
    return model, rows, best_epoch


def start_at_prior(model: keras.Model, task: Task, train, weights: np.ndarray | None = None) -> None:
    """Set the output layer's bias to the train split's class shares (``Task.prior_logits``), as the loss
    sees them: under balanced class weights every class has the same share."""
    positives, examples = np.zeros(task.units), 0.0
    for _, labels in train.chunks():
        example_weights = np.ones(len(labels)) if weights is None else weights[labels.astype(np.int64)]
        positives += (task.head_targets(labels) * example_weights[:, None]).sum(axis=0)
        examples += example_weights.sum()
    model.get_layer("logit").bias.assign(task.prior_logits(positives, examples))


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
