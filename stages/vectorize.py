"""Stage vectorize@<features>: fit one feature set on its dataset's train split, encode the labelled splits."""

import argparse
from pathlib import Path

import pandas as pd

from textclf import tasks, vectorizing
from textclf import params as p
from textclf.errors import TextclfError, run_stage
from textclf.outputs import staged_outputs

FEATURES = Path("data/features")
SPLITS = ("train", "validation", "test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a feature set under `features:` in params.yaml")
    name = parser.parse_args().name
    params = p.read_params()
    kind, settings = vectorizing.checked_features(params, name)
    task = tasks.task_of(params, settings["dataset"])
    tables = {}
    for split in SPLITS:
        path = Path("data/prepared") / settings["dataset"] / f"{split}.parquet"
        if not path.is_file():
            raise TextclfError(f"{path} not found (run `dvc repro prepare@{settings['dataset']}`)")
        tables[split] = pd.read_parquet(path, columns=["text", "label"])

    with staged_outputs(FEATURES / name) as (features_tmp,):
        features_tmp.mkdir()
        vectorizer = None
        if kind.fits_vocabulary:
            vocabulary = kind.fit(settings, tables["train"]["text"].tolist())
            vectorizing.save_vocabulary(vocabulary, features_tmp / "vocab.txt")
            vectorizer = kind.vectorizer(settings, vocabulary)
        for split, table in tables.items():
            arrays = kind.encode(vectorizer, table["text"].tolist())
            vectorizing.save_split(features_tmp, split, arrays, task.label_array(table["label"]))
    print(f"vectorize@{name}: {kind.description} of {settings['dataset']} written to {FEATURES / name}")


if __name__ == "__main__":
    run_stage(main)
