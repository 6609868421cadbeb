"""Stage leaderboard@<dataset>: rank a dataset's models by its task's main metric."""

import argparse

import pandas as pd

from textclf import tasks
from textclf.core.errors import TextclfError, run_stage
from textclf.core.outputs import staged_outputs, write_json
from textclf.pipeline import layout
from textclf.reporting import leaderboard, plots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", help="a dataset under `datasets:` in params.yaml")
    dataset = parser.parse_args().dataset
    pipeline = layout.stage_layout()
    if dataset not in pipeline.datasets:
        raise TextclfError(f"params.yaml: missing block 'datasets.{dataset}'")
    task = tasks.read_task(layout.task_file(dataset))
    rows = leaderboard.build(pipeline.models_of(dataset), dataset, task)
    files = layout.leaderboard_files(dataset)
    metric, heading = task.main_metric, task.columns[task.main_metric]
    with staged_outputs(files["json"], files["markdown"], files["csv"], files["png"]) as (json_tmp, markdown_tmp, csv_tmp, png_tmp):
        write_json(json_tmp, leaderboard.metrics(rows))
        markdown_tmp.write_text(leaderboard.markdown(rows, task), encoding="utf-8")
        # One chart draws every dataset's board (dvc.yaml): the score column is the task's main metric, named beside it.
        pd.DataFrame({"model": [row["model"] for row in rows], "score": [row[metric] for row in rows],
                      "metric": metric}).to_csv(csv_tmp, index=False)
        plots.leaderboard_png(rows, metric, heading, f"Leaderboard ({dataset} test)", png_tmp)
    print(leaderboard.markdown(rows, task), end="")


if __name__ == "__main__":
    run_stage(main)
