"""Stage leaderboard: rank every model in params.yaml by test accuracy."""

from pathlib import Path

import pandas as pd

from textclf import leaderboard, models, plots
from textclf import params as p
from textclf.errors import TextclfError, run_stage
from textclf.outputs import staged_outputs, write_json

OUTPUTS = [Path("metrics/leaderboard.json"), Path("metrics/leaderboard.md"), Path("plots/leaderboard.csv"), Path("plots/leaderboard.png")]


def main() -> None:
    names = models.model_names(p.read_params())
    if not names:
        raise TextclfError("params.yaml: the 'models' block names no model")
    rows = leaderboard.build(names, Path("metrics/models"), Path("metrics/timings"))
    with staged_outputs(*OUTPUTS) as (json_tmp, markdown_tmp, csv_tmp, png_tmp):
        write_json(json_tmp, leaderboard.metrics(rows))
        markdown_tmp.write_text(leaderboard.markdown(rows), encoding="utf-8")
        pd.DataFrame(rows)[["model", "accuracy"]].to_csv(csv_tmp, index=False)
        plots.leaderboard_png(rows, png_tmp)
    print(leaderboard.markdown(rows), end="")


if __name__ == "__main__":
    run_stage(main)
