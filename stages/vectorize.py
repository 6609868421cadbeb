"""Stage vectorize: fit the vocabulary on train, integer-encode the labelled splits."""

from pathlib import Path

import numpy as np
import pandas as pd

from textclf import params as p
from textclf import vectorizing
from textclf.cli import run_stage
from textclf.errors import TextclfError
from textclf.outputs import staged_outputs

TABLES = Path("data/prepared")
ENCODED = Path("data/vectorized")
VOCABULARY = Path("data/vocab.txt")
SPLITS = ("train", "validation", "test")
SCHEMA = {
    "max_tokens": p.positive_int,
    "sequence_length": p.positive_int,
    "standardize": p.one_of(*vectorizing.STANDARDIZE),
}


def main() -> None:
    settings = p.checked_block(p.read_params(), "vectorize", SCHEMA)
    tables = {}
    for split in SPLITS:
        path = TABLES / f"{split}.parquet"
        if not path.is_file():
            raise TextclfError(f"{path} not found (run `dvc repro prepare`)")
        tables[split] = pd.read_parquet(path, columns=["text", "label"])
    vocabulary = vectorizing.fit_vocabulary(tables["train"]["text"].tolist(), settings["max_tokens"], settings["standardize"])
    vectorizer = vectorizing.make_vectorizer(settings["sequence_length"], settings["standardize"], vocabulary)
    with staged_outputs(ENCODED, VOCABULARY) as (encoded_tmp, vocabulary_tmp):
        encoded_tmp.mkdir()
        for split, table in tables.items():
            np.save(encoded_tmp / f"{split}_tokens.npy", vectorizing.encode(vectorizer, table["text"].tolist()))
            np.save(encoded_tmp / f"{split}_labels.npy", table["label"].to_numpy(np.int32))
        vectorizing.save_vocabulary(vocabulary, vocabulary_tmp)
    print(f"vectorize: {vectorizing.vocabulary_size(vocabulary):,} token ids, sequences of {settings['sequence_length']}")


if __name__ == "__main__":
    run_stage(main)
