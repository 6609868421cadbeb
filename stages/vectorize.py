"""Stage vectorize@<features>: fit one feature set on its dataset's train split, encode the labelled splits.

Texts are read, fitted on and written a shard at a time (params.yaml `streaming.shard_size`),
so memory stays flat however large the splits are.
"""

import argparse
from pathlib import Path

import pyarrow.parquet as pq

from textclf import tasks, vectorizing
from textclf import params as p
from textclf.errors import TextclfError, run_stage
from textclf.outputs import staged_outputs
from textclf.tf_runtime import tf

FEATURES = Path("data/features")
SPLITS = ("train", "validation", "test")


def table_chunks(path: Path, rows: int):
    """The (text, label) table in chunks of at most ``rows`` rows; an empty table is one empty chunk."""
    batches = pq.ParquetFile(path).iter_batches(batch_size=rows, columns=["text", "label"])
    first = next(batches, None)
    if first is None:
        yield pq.read_table(path, columns=["text", "label"]).to_pandas()
        return
    yield first.to_pandas()
    for batch in batches:
        yield batch.to_pandas()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a feature set under `features:` in params.yaml")
    name = parser.parse_args().name
    params = p.read_params()
    kind, settings = vectorizing.checked_features(params, name)
    shard_size = vectorizing.checked_streaming(params)["shard_size"]
    task = tasks.task_of(params, settings["dataset"])
    paths = {split: Path("data/prepared") / settings["dataset"] / f"{split}.parquet" for split in SPLITS}
    for path in paths.values():
        if not path.is_file():
            raise TextclfError(f"{path} not found (run `dvc repro prepare@{settings['dataset']}`)")

    with staged_outputs(FEATURES / name) as (features_tmp,):
        features_tmp.mkdir()
        vectorizer = None
        if kind.fits_vocabulary:
            train_texts = tf.data.Dataset.from_generator(
                lambda: (chunk["text"].tolist() for chunk in table_chunks(paths["train"], shard_size)),
                output_signature=tf.TensorSpec([None], tf.string))
            vocabulary = kind.fit(settings, train_texts)
            vectorizing.save_vocabulary(vocabulary, features_tmp / "vocab.txt")
            vectorizer = kind.vectorizer(settings, vocabulary)
        for split, path in paths.items():
            vectorizing.save_split(features_tmp, split, (
                (kind.encode(vectorizer, chunk["text"].tolist()), task.label_array(chunk["label"]))
                for chunk in table_chunks(path, shard_size)))
    print(f"vectorize@{name}: {kind.description} of {settings['dataset']} written to {FEATURES / name}")


if __name__ == "__main__":
    run_stage(main)
