"""Benchmark `textclf predict`'s engine: reviews per second for every exported IMDB sentiment model.

Classifies the 25,000 test reviews with each model's end-to-end export (the
same code path as the console script), and checks the accuracy against the
labels so a fast but broken export cannot pass unnoticed. Run from the project
root after `dvc repro`:

    python benchmarks/predict_throughput.py [--batch-size 256] [--out benchmarks/results/predict_throughput.json]
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from textclf.core.outputs import write_json
from textclf.core.tf_runtime import device_summary
from textclf.pipeline import layout
from textclf.serving.exports import Predictor
from textclf.serving.predict import classify


def measure(path: Path, texts: list[str], labels: np.ndarray, batch_size: int) -> dict:
    started = time.perf_counter()
    predictor = Predictor(path)
    predictor(texts[:batch_size])  # the first call traces the graph: count it as loading
    loaded = time.perf_counter()
    probabilities = classify(predictor, texts, batch_size)
    seconds = time.perf_counter() - loaded
    return {
        "reviews": len(texts),
        "load_seconds": round(loaded - started, 2),
        "predict_seconds": round(seconds, 2),
        "reviews_per_second": round(len(texts) / seconds),
        "accuracy": round(float(np.mean(predictor.task.predicted(probabilities) == labels)), 5),
        "export_bytes": sum(f.stat().st_size for f in path.rglob("*") if f.is_file()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/predict_throughput.json"))
    args = parser.parse_args()
    test = pd.read_parquet("data/prepared/imdb/test.parquet", columns=["text", "label"])
    texts, labels = test["text"].tolist(), test["label"].to_numpy()
    pipeline = layout.load()
    names = [name for name in pipeline.models_of("imdb") if pipeline.models[name].family != "ensemble"]
    results = {}
    for name in names:
        path = layout.export_dir(name)
        if not path.is_dir():
            print(f"{name}: no export (run `dvc repro`), skipped")
            continue
        results[name] = measure(path, texts, labels, args.batch_size)
        print(f"{name}: {results[name]}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"device": device_summary(), "batch_size": args.batch_size, "models": results})
    rows = ["| model | reviews/s | 25k reviews | load | accuracy | export size |", "|---|---|---|---|---|---|"]
    for name, r in sorted(results.items(), key=lambda item: -item[1]["reviews_per_second"]):
        rows.append(f"| {name} | {r['reviews_per_second']:,} | {r['predict_seconds']} s | {r['load_seconds']} s | "
                    f"{r['accuracy']:.4f} | {r['export_bytes'] / 1e6:.1f} MB |")
    args.out.with_suffix(".md").write_text("\n".join(rows) + "\n", encoding="utf-8")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
