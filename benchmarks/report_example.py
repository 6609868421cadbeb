"""The pull-request report of a realistic change, built on the committed run: what a reviewer gets.

In a throwaway clone of this repository that shares its DVC cache, it runs `dvc exp run -S <param>` (one
changed param of one model: only that model and its leaderboard rerun), then `textclf report` against HEAD:
the terminal summary, its JSON and `report.md` with its images. It writes them to
benchmarks/results/report_example/ with report_example.json (the change, the report's size and time, the
host). Needs the committed run's outputs in the DVC cache (`dvc pull`, or a `make bench` here):

    python benchmarks/report_example.py [--set models.genres_ngram.weighting=tfidf]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from small_data import host  # noqa: E402  (benchmarks/ is no package)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "report_example"


def run(cwd: Path, *command: str) -> str:
    # In the clone, its stages import the clone's copy of the package, the code its dvc.lock records.
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                        "PYTHONPATH": str(cwd / "src")}
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, check=False)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="models.genres_ngram.weighting=tfidf", help="the one param changed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="report_example_") as scratch:
        clone = Path(scratch) / "clone"
        run(ROOT, "git", "clone", "--quiet", str(ROOT), str(clone))
        # The committed run's outputs, linked from this repository's cache rather than copied.
        run(clone, "dvc", "cache", "dir", "--local", str(ROOT / ".dvc" / "cache"))
        run(clone, "dvc", "config", "--local", "cache.type", "hardlink,symlink")
        run(clone, "dvc", "checkout", "--quiet")
        started = time.perf_counter()
        run(clone, "dvc", "exp", "run", "--quiet", "-S", args.set)
        rerun = time.perf_counter() - started
        started = time.perf_counter()
        summary = run(clone, "textclf", "report", "--ref", "HEAD")
        report_seconds = time.perf_counter() - started
        data = json.loads(run(clone, "textclf", "report", "--ref", "HEAD", "--json"))
        run(clone, "textclf", "report", "--ref", "HEAD", "--out", "report.md")
        shutil.rmtree(OUT, ignore_errors=True)
        shutil.copytree(clone / "report", OUT / "report", ignore=shutil.ignore_patterns(".textclf-report"))
        shutil.copyfile(clone / "report.md", OUT / "report.md")
    (OUT / "summary.txt").write_text(f"$ textclf report --ref HEAD   # after dvc exp run -S {args.set}\n{summary}",
                                     encoding="utf-8")
    (OUT / "summary.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    facts = {"change": args.set, "host": host(), "rerun_seconds": round(rerun, 1),
             "summary_seconds": round(report_seconds, 1),
             "report_characters": len((OUT / "report.md").read_text(encoding="utf-8")),
             "full_report_characters": len((OUT / "report" / "full.md").read_text(encoding="utf-8"))}
    (OUT / "report_example.json").write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    print(summary + json.dumps(facts, indent=2))


if __name__ == "__main__":
    main()
