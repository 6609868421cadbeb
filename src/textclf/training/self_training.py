"""Self-training: a model that learns from the train split and from unlabelled texts a teacher has labelled.

The teacher is an exported model of the same dataset, usually its ensemble. Its decisions on the
dataset's unlabelled split (IMDB's 50,000 unsup reviews) become pseudo-labels. The student is a
model of the zoo, trained from scratch on the train split and those texts together. Early stopping
still watches the validation split and its real labels. The test split is only predicted, so the
student never learns from the texts it is scored on.

The pseudo-labelled texts are encoded with the student's feature set into a scratch directory, as
vectorize encodes a split. The student streams them with the train split as one split, and the
shards of the two are interleaved so that every shuffle window holds texts of both.
"""

from __future__ import annotations

from pathlib import Path

from textclf.core.errors import TextclfError
from textclf.data.tables import table_chunks
from textclf.features import vectorizing
from textclf.serving import exports
from textclf.tasks import Task


def pseudo_labelled_split(teacher: Path, table: Path, kind: vectorizing.FeatureKind, vectorizer, task: Task,
                          directory: Path, shard_size: int) -> vectorizing.StoredSplit:
    """Every text of ``table`` labelled by the exported ``teacher``, encoded as ``kind`` and stored in
    ``directory``, ``shard_size`` texts a shard."""
    predictor = exports.Predictor(teacher)
    if (predictor.task.name, predictor.task.classes) != (task.name, task.classes):
        raise TextclfError(f"teacher {teacher} predicts {predictor.task.name} {predictor.task.classes}, "
                           f"not the student's {task.name} {task.classes}")

    def chunks():
        for chunk in table_chunks(table, shard_size, columns=["text"]):
            texts = chunk["text"].tolist()
            if not texts:
                raise TextclfError(f"{table} holds no texts to label")
            probabilities = exports.in_length_order(predictor, texts, exports.SPLIT_BATCH)
            yield kind.encode(vectorizer, texts), task.pseudo_labels(probabilities)

    directory.mkdir(parents=True, exist_ok=True)
    vectorizing.save_split(directory, "pseudo_labelled", chunks())
    return vectorizing.open_split(directory, "pseudo_labelled")


def interleaved(first: vectorizing.StoredSplit, second: vectorizing.StoredSplit) -> vectorizing.StoredSplit:
    """Both splits as one stream, their shards spread in proportion (each split's i-th of n shards at
    (i + 1/2) / n of the way), so a shuffle buffer a few shards long mixes texts of both."""
    if (first.kind, first.label_shape, first.max_length) != (second.kind, second.label_shape, second.max_length):
        raise TextclfError("the pseudo-labelled texts are not encoded as the train split is")
    spread = [((index + 0.5) / len(split.shards), order, shard)
              for order, split in enumerate((first, second)) for index, shard in enumerate(split.shards)]
    return vectorizing.StoredSplit(first.kind, tuple(shard for *_, shard in sorted(spread)), first.count + second.count,
                                   first.label_shape, first.max_length)
