"""Stage vectorize@<features>: fit one feature set's vocabulary on train, encode the labelled splits."""

import argparse
from pathlib import Path

import pandas as pd

from textclf import params as p
from textclf import vectorizing
from textclf.errors import TextclfError, run_stage
from textclf.outputs import staged_outputs

TABLES = Path("data/prepared")
FEATURES = Path("data/features")
SPLITS = ("train", "validation", "test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a feature set under `features:` in params.yaml")
    name = parser.parse_args().name
    params = p.read_params()
    raw = params.get("features", {}).get(name) if isinstance(params.get("features"), dict) else None
    if raw is None:
        raise TextclfError(f"params.yaml: missing block 'features.{name}'")
    settings = p.checked_block(params, f"features.{name}", vectorizing.feature_schema(raw, name))
    tables = {}
    for split in SPLITS:
        path = TABLES / f"{split}.parquet"
        if not path.is_file():
            raise TextclfError(f"{path} not found (run `dvc repro prepare`)")
        tables[split] = pd.read_parquet(path, columns=["text", "label"])

    with staged_outputs(FEATURES / name) as (features_tmp,):
        features_tmp.mkdir()
        if settings["kind"] == "text":  # the model tokenizes: keep the cleaned texts as they are
            for split, table in tables.items():
                vectorizing.save_split(features_tmp, split, {"texts": table["text"].to_numpy(dtype=object)}, table["label"].to_numpy())
        else:
            vocabulary = vectorizing.fit_vocabulary(tables["train"]["text"].tolist(), settings)
            vectorizer = vectorizing.make_vectorizer(settings, vocabulary)
            vectorizing.save_vocabulary(vocabulary, features_tmp / "vocab.txt")
            for split, table in tables.items():
                arrays = vectorizing.encode(vectorizer, table["text"].tolist(), settings["kind"])
                vectorizing.save_split(features_tmp, split, arrays, table["label"].to_numpy())
    print(f"vectorize@{name}: {settings['kind']} features written to {FEATURES / name}")


if __name__ == "__main__":
    run_stage(main)
