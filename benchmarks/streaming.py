"""Memory and time of vectorize and train as the corpus grows: the real IMDB splits, and the same repeated tenfold.

For each scale it builds a throwaway project whose prepared IMDB tables are the
workspace's (`data/prepared/imdb`, from `dvc repro prepare@imdb`) repeated that many
times, then runs vectorize@words_20k, train@bow_mean, vectorize@ngrams_1to3 and
train@ngram there, one process each, measured as `make bench` measures a stage
(wall time, peak RSS of the process tree). Training runs a fixed number of epochs
(no early stop) so the scales do the same work per example. Writes
benchmarks/results/streaming.{json,md} and the README's table.

    python benchmarks/streaming.py [--scales 1 10] [--epochs 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from bench import machine, measured, update_readme  # benchmarks/, first on sys.path when run as a script

RESULTS = Path("benchmarks/results")
MARKERS = ("<!-- streaming:start -->", "<!-- streaming:end -->")
PREPARED = Path("data/prepared/imdb")
SPLITS = ("train", "validation", "test")
STEPS = (("vectorize", "words_20k"), ("train", "bow_mean"), ("vectorize", "ngrams_1to3"), ("train", "ngram"))


def scaled_project(root: Path, scale: int, epochs: int) -> Path:
    """A project holding the prepared IMDB splits repeated ``scale`` times, and params that train ``epochs`` epochs."""
    project = root / f"x{scale}"
    (project / PREPARED).mkdir(parents=True)
    for split in SPLITS:
        table = pd.read_parquet(PREPARED / f"{split}.parquet")
        pd.concat([table] * scale, ignore_index=True).to_parquet(project / PREPARED / f"{split}.parquet", index=False)
    if (PREPARED / "task.json").is_file():
        shutil.copy(PREPARED / "task.json", project / PREPARED / "task.json")
    params = yaml.safe_load(Path("params.yaml").read_text())
    for name in ("bow_mean", "ngram"):
        params["models"][name].update(epochs=epochs, patience=epochs)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    # Every stage checks that dvc.yaml is the rendering of params.yaml: render it there, from this checkout's code.
    for name in ("stages", "src"):
        (project / name).symlink_to(Path.cwd() / name)
    subprocess.run([sys.executable, "-m", "textclf", "pipeline"], cwd=project, check=True, capture_output=True)
    # DVCLive, which train@ logs through, wants a git repository with a commit.
    for command in (["init", "-q"], ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q",
                                     "--allow-empty", "-m", "bench"]):
        subprocess.run(["git", *command], cwd=project, check=True)
    return project


def run_scale(root: Path, scale: int, epochs: int) -> dict:
    project = scaled_project(root, scale, epochs)
    texts = sum(len(pd.read_parquet(project / PREPARED / f"{split}.parquet", columns=["label"])) for split in SPLITS)
    rows = {}
    for stage, name in STEPS:
        print(f"streaming: x{scale} {stage}@{name}", flush=True)
        script = Path.cwd() / "stages" / f"{stage}.py"
        rows[f"{stage}@{name}"] = measured(["sh", "-c", f'cd "{project}" && exec "{sys.executable}" "{script}" {name}'])
    shutil.rmtree(project)
    return {"labelled_texts": texts, "stages": rows}


def markdown(results: dict) -> str:
    scales = sorted(results["scales"], key=int)
    lines = [f"Measured on {results['machine']['cpu']}, {results['machine']['cores']} cores, "
             f"{results['machine']['memory_gib']} GiB; {results['epochs']} epochs per model at every scale.", "",
             "| stage | " + " | ".join(f"x{s} ({results['scales'][s]['labelled_texts']:,} texts)" for s in scales)
             + " | peak RSS ratio |",
             "|---|" + "---|" * len(scales) + "---|"]
    for stage in results["scales"][scales[0]]["stages"]:
        cells = [results["scales"][s]["stages"][stage] for s in scales]
        ratio = cells[-1]["peak_rss_mb"] / cells[0]["peak_rss_mb"]
        lines.append(f"| `{stage}` | " + " | ".join(f"{c['seconds']:.0f} s, {c['peak_rss_mb']:,} MB" for c in cells)
                     + f" | {ratio:.2f}x |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    if not (PREPARED / "train.parquet").is_file():
        sys.exit(f"error: {PREPARED} not found (run `dvc repro prepare@imdb` first)")
    results = {"machine": machine(), "epochs": args.epochs, "scales": {}}
    with tempfile.TemporaryDirectory(prefix="textclf-streaming-") as root:
        for scale in args.scales:
            results["scales"][str(scale)] = run_scale(Path(root), scale, args.epochs)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "streaming.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "streaming.md").write_text(markdown(results))
    update_readme(markdown(results), MARKERS)
    print(markdown(results))


if __name__ == "__main__":
    main()
