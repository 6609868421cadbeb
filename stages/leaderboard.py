"""Stage leaderboard@<dataset>: rank a dataset's models by its task's main metric."""

import argparse
from pathlib import Path

import pandas as pd

from textclf import catalog, leaderboard, plots, tasks
from textclf import params as p
from textclf.errors import TextclfError, run_stage
from textclf.outputs import staged_outputs, write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", help="a dataset under `datasets:` in params.yaml")
    dataset = parser.parse_args().dataset
    params = p.read_params()
    task = tasks.task_of(params, dataset)
    names = catalog.ranked_model_names(params, dataset)
    if not names:
        raise TextclfError(f"params.yaml: no model under 'models', 'hub_models' or 'ensembles' has dataset: {dataset}")
    rows = leaderboard.build(names, Path("metrics/models"), Path("metrics/timings"), task)
    outputs = [Path(f"metrics/leaderboards/{dataset}.json"), Path(f"metrics/leaderboards/{dataset}.md"),
               Path(f"plots/leaderboards/{dataset}.csv"), Path(f"plots/leaderboards/{dataset}.png")]
    metric, heading = task.main_metric, task.columns[task.main_metric]
    with staged_outputs(*outputs) as (json_tmp, markdown_tmp, csv_tmp, png_tmp):
        write_json(json_tmp, leaderboard.metrics(rows))
        markdown_tmp.write_text(leaderboard.markdown(rows, task), encoding="utf-8")
        pd.DataFrame(rows)[["model", metric]].to_csv(csv_tmp, index=False)
        plots.leaderboard_png(rows, metric, heading, f"Leaderboard ({dataset} test)", png_tmp)
    print(leaderboard.markdown(rows, task), end="")


if __name__ == "__main__":
    run_stage(main)
