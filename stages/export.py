"""Stage export@<model>: save a trained model end to end (raw strings in, class probabilities out).

The exported SavedModel is checked against the trained model on validation
texts before it is written, so a vectorizer that drifted from the one the
model was trained with cannot slip through.
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from textclf import models, serving, tasks, training, vectorizing
from textclf import params as p
from textclf.errors import TextclfError, run_stage
from textclf.outputs import staged_outputs

FEATURES = Path("data/features")
CHECKED_TEXTS = 512
TOLERANCE = 1e-4  # float32 summation order differs between the two graphs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a model under `models:` or `hub_models:` in params.yaml")
    name = parser.parse_args().name
    params = p.read_params()
    spec, hparams = models.checked_model_params(params, name)
    task = tasks.task_of(params, hparams["dataset"])
    kind, settings = vectorizing.checked_features(params, hparams["features"])
    feature_dir = FEATURES / hparams["features"]
    width = vectorizing.input_width(feature_dir, spec.features)
    model = training.load_model(Path(f"models/{name}/model.keras"))
    wrapped = serving.EndToEndModel(model, kind, vectorizing.load_vectorizer(feature_dir, kind, settings), task)

    arrays, labels = vectorizing.load_split(feature_dir, "validation")
    rows = np.arange(min(CHECKED_TEXTS, len(labels)))
    texts = pd.read_parquet(Path("data/prepared") / hparams["dataset"] / "validation.parquet", columns=["text"])["text"]
    expected = task.probabilities(training.predict_logits(model, vectorizing.take(arrays, rows), labels[rows], width))
    # In batches of texts of similar length, as predict_logits batches them: one batch of all 512 would
    # step a recurrent model through the longest text's length for every text.
    got = serving.in_length_order(lambda batch: wrapped.probabilities(batch)["probabilities"].numpy(),
                                  texts.iloc[rows].tolist(), kind.predict_batch)
    difference = float(np.max(np.abs(got - expected))) if len(rows) else 0.0
    if difference > TOLERANCE:
        raise TextclfError(f"export of '{name}' disagrees with the trained model by {difference:.2g} on validation texts")

    with staged_outputs(Path(f"models/{name}/serving")) as (serving_tmp,):
        serving.export(wrapped, serving_tmp)
    print(f"export@{name}: models/{name}/serving matches the trained model on {len(rows)} texts (max difference {difference:.1e})")


if __name__ == "__main__":
    run_stage(main)
