"""Stage export@<model>: save a trained model end to end (raw strings in, class probabilities out).

The exported SavedModel is checked against the trained model on validation
texts before it is written, so a vectorizer that drifted from the one the
model was trained with cannot slip through.
"""

import argparse

import numpy as np
import pandas as pd

from textclf import tasks
from textclf.core.errors import TextclfError, run_stage
from textclf.core.outputs import staged_outputs
from textclf.features import vectorizing
from textclf.models import zoo
from textclf.pipeline import layout
from textclf.serving import exports
from textclf.training import fitting

CHECKED_TEXTS = 512
TOLERANCE = 1e-4  # float32 summation order differs between the two graphs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a model under `models:` in params.yaml")
    name = parser.parse_args().name
    pipeline = layout.stage_layout()
    model_block = pipeline.model(name)
    spec, dataset = zoo.model_spec(model_block.architecture), model_block.dataset
    task = fitting.trained_threshold(layout.train_log(dataset, name), tasks.read_task(layout.task_file(dataset)))
    kind, settings = vectorizing.checked_features(pipeline.feature_set(model_block.features), model_block.features)
    feature_dir = layout.features_dir(model_block.features)
    width = vectorizing.input_width(feature_dir, spec.features)
    model = fitting.load_model(layout.model_file(name))
    wrapped = exports.EndToEndModel(model, kind, vectorizing.load_vectorizer(feature_dir, kind, settings), task)

    arrays, labels = vectorizing.load_split(feature_dir, "validation")
    rows = np.arange(min(CHECKED_TEXTS, len(labels)))
    texts = pd.read_parquet(layout.prepared_split(dataset, "validation"), columns=["text"])["text"]
    expected = task.probabilities(fitting.predict_logits(model, vectorizing.take(arrays, rows), labels[rows], width))
    # In batches of texts of similar length, as predict_logits batches them: one batch of all 512 would
    # step a recurrent model through the longest text's length for every text.
    got = exports.in_length_order(lambda batch: wrapped.probabilities(batch)["probabilities"].numpy(),
                                  texts.iloc[rows].tolist(), kind.predict_batch)
    difference = float(np.max(np.abs(got - expected))) if len(rows) else 0.0
    if difference > TOLERANCE:
        raise TextclfError(f"export of '{name}' disagrees with the trained model by {difference:.2g} on validation texts")

    with staged_outputs(layout.export_dir(name)) as (serving_tmp,):
        exports.export(wrapped, serving_tmp)
    print(f"{model_block.stage('export')}: {layout.export_dir(name)} matches the trained model on {len(rows)} texts (max difference {difference:.1e})")


if __name__ == "__main__":
    run_stage(main)
