"""Stage prepare: records -> train / validation / test / unsup tables and a data report."""

from pathlib import Path

import pandas as pd

from textclf import data
from textclf import params as p
from textclf.errors import TextclfError, run_stage
from textclf.outputs import staged_outputs, write_json

RECORDS = Path("data/raw/imdb.parquet")
TABLES = Path("data/prepared")
REPORT = Path("metrics/data_report.json")
SCHEMA = {"validation_fraction": p.fraction, "seed": p.non_negative_int, "limit_per_label": p.optional(p.positive_int)}


def main() -> None:
    settings = p.checked_block(p.read_params(), "prepare", SCHEMA)
    if not RECORDS.is_file():
        raise TextclfError(f"{RECORDS} not found (run `dvc repro fetch`)")
    records = data.tidy(pd.read_parquet(RECORDS))
    records = data.limit_per_label(records, settings["limit_per_label"], settings["seed"])
    tables = data.split_tables(records, settings["validation_fraction"], settings["seed"])
    with staged_outputs(TABLES, REPORT) as (tables_tmp, report_tmp):
        tables_tmp.mkdir()
        for name, table in tables.items():
            table.to_parquet(tables_tmp / f"{name}.parquet", index=False)
        write_json(report_tmp, data.data_report(tables))
    print("prepare: " + ", ".join(f"{name} {len(table):,}" for name, table in tables.items()))


if __name__ == "__main__":
    run_stage(main)
