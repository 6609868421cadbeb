"""The peers `make bench` holds our IMDB models against: two scikit-learn linear models.

- TF-IDF (1,2)-gram logistic regression, the usual strong baseline;
- a naive-Bayes-weighted (1,3)-gram logistic regression (NBSVM-style, Wang & Manning 2012).

Both read the prepared splits our models read (data/prepared/imdb): fitted on
train, their regularization picked from a small grid on validation (as our
models early-stop on it), scored on test. The timed part is what our train time
also covers, vectorizing and fitting on train with the picked setting, plus
predicting the test split, repeated N times. Prints JSON (needs the `bench`
extra: pip install -e ".[bench]"):

    python benchmarks/peers.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

TABLES = "data/prepared/imdb/{}.parquet"
TOKENS = r"(?u)\b\w[\w']*\b"


def cleaned(texts: pd.Series) -> list[str]:
    return [re.sub(r"<br\s*/?>", " ", text) for text in texts]


class TfidfLogistic:
    description = "scikit-learn TF-IDF (1,2)-gram logistic regression"
    grid = (1.0, 4.0, 16.0)

    def features(self, train, others):
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=TOKENS, dtype=np.float32)
        return vectorizer.fit_transform(train[0]), [vectorizer.transform(texts) for texts in others]

    def fit(self, features, labels, c):
        return LogisticRegression(C=c, solver="liblinear").fit(features, labels)


class NaiveBayesLogistic:
    description = "naive-Bayes-weighted (1,3)-gram logistic regression"
    grid = (0.1, 0.3, 1.0)

    def features(self, train, others):
        vectorizer = CountVectorizer(ngram_range=(1, 3), binary=True, token_pattern=TOKENS, max_features=1_000_000,
                                     dtype=np.float32)
        bags = vectorizer.fit_transform(train[0])
        labels = train[1]
        positive = 1.0 + np.asarray(bags[labels == 1].sum(axis=0)).ravel()
        negative = 1.0 + np.asarray(bags[labels == 0].sum(axis=0)).ravel()
        ratios = sp.diags(np.log((positive / positive.sum()) / (negative / negative.sum())).astype(np.float32))
        return bags @ ratios, [vectorizer.transform(texts) @ ratios for texts in others]

    def fit(self, features, labels, c):
        return LogisticRegression(C=c, solver="liblinear").fit(features, labels)


PEERS = {"tfidf_logistic": TfidfLogistic(), "nb_logistic": NaiveBayesLogistic()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    splits = {name: pd.read_parquet(TABLES.format(name), columns=["text", "label"]) for name in ("train", "validation", "test")}
    data = {name: (cleaned(table["text"]), table["label"].to_numpy()) for name, table in splits.items()}
    results = {}
    for name, peer in PEERS.items():
        train, (validation, _) = peer.features(data["train"], [data["validation"][0], data["test"][0]])
        scores = {c: float(np.mean(peer.fit(train, data["train"][1], c).predict(validation) == data["validation"][1]))
                  for c in peer.grid}
        c = max(peer.grid, key=lambda value: (scores[value], -value))
        seconds, accuracy = [], None
        for _ in range(args.repeats):
            started = time.perf_counter()
            train, (test,) = peer.features(data["train"], [data["test"][0]])
            predicted = peer.fit(train, data["train"][1], c).predict(test)
            seconds.append(time.perf_counter() - started)
            accuracy = float(np.mean(predicted == data["test"][1]))
        results[name] = {"description": peer.description, "C": c, "validation_accuracy": round(scores[c], 5),
                         "accuracy": round(accuracy, 5),
                         "seconds": {"median": round(statistics.median(seconds), 2), "min": round(min(seconds), 2),
                                     "max": round(max(seconds), 2), "n": len(seconds)}}
    reference = max(results, key=lambda name: results[name]["accuracy"])
    print(json.dumps({"train_examples": len(data["train"][1]), "test_examples": len(data["test"][1]),
                      "reference": reference, "peers": results}, indent=2))


if __name__ == "__main__":
    main()
