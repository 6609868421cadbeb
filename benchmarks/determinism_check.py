"""Check on the real data that a forced rerun reproduces every byte.

Reruns stages with `dvc repro --force` (by default the data stages and every
model of params.yaml: its train, evaluate and export stages, then the
leaderboard; about 30 minutes on 2 cores), then compares every output hash in
dvc.lock and every metric and plot file with what git has. Wall-clock timings
are excluded: they differ by nature and live in metrics/timings/ (and the
leaderboard's markdown table) for that reason. Run from the project root on a clean, reproduced workspace:

    python benchmarks/determinism_check.py [STAGE ...] [--out benchmarks/results/determinism.json]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

# Files that hold wall-clock times: the timings, and the leaderboards' markdown tables.
TIMINGS = ("metrics/timings/", *(f"metrics/leaderboards/{name}.md" for name in
                                 yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))["datasets"]))


def every_model_stage() -> list[str]:
    """Every fetch, prepare and vectorize, train / evaluate / export of every model, and every leaderboard."""
    from textclf.pipeline import layout

    pipeline = layout.load()
    stages = [*(f"fetch@{name}" for name in pipeline.sources), *(f"prepare@{name}" for name in pipeline.datasets),
              *(f"vectorize@{name}" for name in pipeline.features)]
    for model in pipeline.models.values():
        if model.family != "ensemble":
            stages += [model.stage(step) for step in ("train", "evaluate", "export")]
    return stages + [f"leaderboard@{name}" for name in pipeline.datasets]


def output_hashes(lock_text: str) -> dict[str, str]:
    lock = yaml.safe_load(lock_text)
    return {out["path"]: out.get("md5", "") for stage in lock["stages"].values() for out in stage.get("outs", [])
            if not out["path"].startswith(TIMINGS)}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stages", nargs="*", help="stages to force (default: every model's, see above)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/determinism.json"))
    args = parser.parse_args()
    args.stages = args.stages or every_model_stage()
    if git("status", "--porcelain", "--", "dvc.lock", "metrics", "plots"):
        sys.exit("error: dvc.lock, metrics/ or plots/ differ from git already; commit or restore them first")

    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dvc", "repro", "--force", "--single-item", *args.stages], check=True,
                   env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"})
    seconds = time.perf_counter() - started

    before, after = output_hashes(git("show", "HEAD:dvc.lock")), output_hashes(Path("dvc.lock").read_text())
    moved_outputs = sorted(path for path in before if before[path] != after.get(path))
    moved_files = [line[3:] for line in git("status", "--porcelain", "--", "metrics", "plots").splitlines()
                   if not line[3:].startswith(TIMINGS)]
    result = {"stages": args.stages, "seconds": round(seconds), "outputs_compared": len(before),
              "outputs_changed": moved_outputs, "metric_and_plot_files_changed": moved_files,
              "identical": not moved_outputs and not moved_files}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    if result["identical"]:  # only the timings moved: put the committed ones back
        git("checkout", "--", "dvc.lock", *TIMINGS)
    sys.exit(0 if result["identical"] else 1)


if __name__ == "__main__":
    main()
