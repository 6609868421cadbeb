"""Stage fetch: the IMDB archive (or TFDS) -> one verified parquet of records."""

from pathlib import Path

from textclf import fetch
from textclf import params as p
from textclf.errors import run_stage
from textclf.outputs import staged_outputs

RECORDS = Path("data/raw/imdb.parquet")
SCHEMA = {"source": p.text, "fingerprint": p.optional(p.text)}


def main() -> None:
    settings = p.checked_block(p.read_params(), "fetch", SCHEMA)
    source = fetch.resolve_source(settings["source"])
    print(f"fetch: reading {fetch.describe_source(source)}")
    records = fetch.load_records(source)
    digest = fetch.verify(records, settings["fingerprint"], source)
    with staged_outputs(RECORDS) as (records_tmp,):
        fetch.write_records(records, records_tmp)
    print(f"fetch: {len(records):,} records, fingerprint {digest[:12]}..., written to {RECORDS}")


if __name__ == "__main__":
    run_stage(main)
