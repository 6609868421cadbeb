"""Put each committed leaderboard (metrics/leaderboards/<dataset>.md) into README.md, between its markers.

The README's tables are copies of the files the leaderboard stages write, made
by this script after a run, never typed: tests/test_bench.py fails when a table
and its file differ. Run from the project root after `dvc repro` (make bench runs it):

    python benchmarks/readme_leaderboards.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench import update_readme  # noqa: E402  (benchmarks/ is no package)

from textclf.pipeline import layout  # noqa: E402


def markers(dataset: str) -> tuple[str, str]:
    return f"<!-- leaderboard:{dataset}:start -->", f"<!-- leaderboard:{dataset}:end -->"


def main() -> None:
    for dataset in layout.load().datasets:
        board = layout.leaderboard_files(dataset)["markdown"]
        if board.is_file():
            update_readme(board.read_text(encoding="utf-8"), markers(dataset))


if __name__ == "__main__":
    main()
