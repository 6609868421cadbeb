"""Stage prepare@<dataset>: a dataset's file -> train / validation / test (/ unsup) tables, its task and a data report."""

import argparse

from textclf.core.errors import TextclfError, run_stage
from textclf.core.outputs import staged_outputs, write_json
from textclf.data import preparation
from textclf.pipeline import layout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a dataset under `datasets:` in params.yaml")
    name = parser.parse_args().name
    pipeline = layout.stage_layout()
    if name not in pipeline.datasets:
        raise TextclfError(f"params.yaml: missing block 'datasets.{name}'")
    tables, dropped, task = preparation.prepare(preparation.checked_dataset(pipeline.datasets[name], name))
    with staged_outputs(layout.prepared(name), layout.data_report(name)) as (tables_tmp, report_tmp):
        tables_tmp.mkdir()
        for split, table in tables.items():
            table.to_parquet(tables_tmp / f"{split}.parquet", index=False)
        write_json(tables_tmp / layout.task_file(name).name, task.describe())
        write_json(report_tmp, preparation.data_report(tables, task, dropped))
    dropped_note = f"; dropped {sum(dropped.values()):,} ({', '.join(f'{k} {v:,}' for k, v in dropped.items())})" if dropped else ""
    print(f"prepare@{name}: {task.name}, {len(task.classes)} classes; "
          + ", ".join(f"{split} {len(table):,}" for split, table in tables.items()) + dropped_note)


if __name__ == "__main__":
    run_stage(main)
