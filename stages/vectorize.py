"""Stage vectorize@<features>: fit one feature set on its dataset's train split (and, with `fit_unlabelled`,
its unlabelled texts), encode the labelled splits.

Texts are read, fitted on and written a shard at a time (params.yaml `streaming.shard_size`),
so memory stays flat however large the splits are.
"""

import argparse

from textclf import tasks
from textclf.core.errors import TextclfError, run_stage
from textclf.core.outputs import staged_outputs
from textclf.core.tf_runtime import tf
from textclf.data.tables import table_chunks, unlabelled_table
from textclf.features import vectorizing
from textclf.pipeline import layout

SPLITS = ("train", "validation", "test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a feature set under `features:` in params.yaml")
    name = parser.parse_args().name
    pipeline = layout.stage_layout()
    kind, settings = vectorizing.checked_features(pipeline.feature_set(name), name)
    shard_size = vectorizing.checked_streaming(pipeline.params)["shard_size"]
    task = tasks.read_task(layout.task_file(settings["dataset"]))
    paths = {split: layout.prepared_split(settings["dataset"], split) for split in SPLITS}
    for path in paths.values():
        if not path.is_file():
            raise TextclfError(f"{path} not found (run `dvc repro prepare@{settings['dataset']}`)")

    with staged_outputs(layout.features_dir(name)) as (features_tmp,):
        features_tmp.mkdir()
        vectorizer = None
        if kind.fits_vocabulary:
            # The unlabelled texts (IMDB's unsup reviews) widen the vocabulary of the self-trained models that learn from them.
            fitted_on = [paths["train"], *([unlabelled_table(settings["dataset"])] if settings["fit_unlabelled"] else [])]
            train_texts = tf.data.Dataset.from_generator(
                lambda: (chunk["text"].tolist() for path in fitted_on for chunk in table_chunks(path, shard_size)),
                output_signature=tf.TensorSpec([None], tf.string))
            vocabulary = kind.fit(settings, train_texts)
            vectorizing.save_vocabulary(vocabulary, features_tmp / "vocab.txt")
            vectorizer = kind.vectorizer(settings, vocabulary)
        for split, path in paths.items():
            vectorizing.save_split(features_tmp, split, (
                (kind.encode(vectorizer, chunk["text"].tolist()), task.label_array(chunk["label"]))
                for chunk in table_chunks(path, shard_size)))
    print(f"vectorize@{name}: {kind.description} of {settings['dataset']} written to {layout.features_dir(name)}")


if __name__ == "__main__":
    run_stage(main)
