"""Stage export@<model>: save a trained model end to end (raw strings in, probability out).

The exported SavedModel is checked against the trained model on validation
reviews before it is written, so a vectorizer that drifted from the one the
model was trained with cannot slip through.
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from textclf import metrics, models, serving, training, vectorizing
from textclf import params as p
from textclf.errors import TextclfError, run_stage
from textclf.outputs import staged_outputs

FEATURES = Path("data/features")
CHECKED_REVIEWS = 512
TOLERANCE = 1e-4  # float32 summation order differs between the two graphs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a model under `models:` or `hub_models:` in params.yaml")
    name = parser.parse_args().name
    params = p.read_params()
    spec, hparams = models.checked_model_params(params, name)
    feature_dir = FEATURES / hparams["features"]
    width = vectorizing.input_width(feature_dir, spec.features)
    settings = vocabulary = None
    if spec.features != "text":
        raw = params.get("features", {}).get(hparams["features"])
        settings = p.checked_block(params, f"features.{hparams['features']}", vectorizing.feature_schema(raw, hparams["features"]))
        vocabulary = vectorizing.load_vocabulary(feature_dir / "vocab.txt")
    model = training.load_model(Path(f"models/{name}/model.keras"))
    wrapped = serving.end_to_end(model, spec.features, settings, vocabulary)

    arrays, labels = vectorizing.load_split(feature_dir, "validation")
    rows = np.arange(min(CHECKED_REVIEWS, len(labels)))
    texts = pd.read_parquet("data/prepared/validation.parquet", columns=["text"])["text"].iloc[rows].tolist()
    expected = metrics.sigmoid(training.predict_logits(model, vectorizing.take(arrays, rows), labels[rows], width))
    got = wrapped.probabilities(texts)["probability"].numpy()
    difference = float(np.max(np.abs(got - expected))) if len(rows) else 0.0
    if difference > TOLERANCE:
        raise TextclfError(f"export of '{name}' disagrees with the trained model by {difference:.2g} on validation reviews")

    with staged_outputs(Path(f"models/{name}/serving")) as (serving_tmp,):
        serving.export(wrapped, serving_tmp)
    print(f"export@{name}: models/{name}/serving matches the trained model on {len(rows)} reviews (max difference {difference:.1e})")


if __name__ == "__main__":
    run_stage(main)
