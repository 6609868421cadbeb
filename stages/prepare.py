"""Stage prepare@<dataset>: a dataset's file -> train / validation / test (/ unsup) tables and a data report."""

import argparse
from pathlib import Path

from textclf import data
from textclf import params as p
from textclf.errors import run_stage
from textclf.outputs import staged_outputs, write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a dataset under `datasets:` in params.yaml")
    name = parser.parse_args().name
    task, settings = data.checked_dataset(p.read_params(), name)
    tables, dropped = data.prepare(settings, task)
    with staged_outputs(Path("data/prepared") / name, Path("metrics/data") / f"{name}.json") as (tables_tmp, report_tmp):
        tables_tmp.mkdir()
        for split, table in tables.items():
            table.to_parquet(tables_tmp / f"{split}.parquet", index=False)
        write_json(report_tmp, data.data_report(tables, task, dropped))
    dropped_note = f"; dropped {sum(dropped.values()):,} ({', '.join(f'{k} {v:,}' for k, v in dropped.items())})" if dropped else ""
    print(f"prepare@{name}: " + ", ".join(f"{split} {len(table):,}" for split, table in tables.items()) + dropped_note)


if __name__ == "__main__":
    run_stage(main)
