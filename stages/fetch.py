"""Stage fetch@<source>: download (or read a mirror of) one source and verify its fingerprint.

`imdb_archive` sources become one parquet of records (data/raw/<source>/records.parquet);
`file` sources are kept as they are, under the file name of their canonical URL.
"""

import argparse
import shutil
import urllib.parse
from pathlib import Path

from textclf.core import schema
from textclf.core.errors import TextclfError, run_stage
from textclf.core.outputs import staged_outputs
from textclf.data import fetch
from textclf.pipeline import layout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="a source under `sources:` in params.yaml")
    name = parser.parse_args().name
    params = layout.stage_layout().params
    if name not in (params.get("sources") or {}):
        raise TextclfError(f"params.yaml: missing block 'sources.{name}'")
    settings = schema.block_of(params, f"sources.{name}", schema.Source)
    source = fetch.resolve_source(name, settings["url"])
    print(f"fetch@{name}: reading {fetch.describe_source(source)}")
    with staged_outputs(layout.raw(name)) as (out_tmp,):
        out_tmp.mkdir()
        if settings["format"] == "imdb_archive":
            records = fetch.load_records(source)
            digest = fetch.verify(fetch.fingerprint(records), settings["fingerprint"], source, name)
            fetch.write_records(records, out_tmp / "records.parquet")
            summary = f"{len(records):,} records"
        else:
            path = fetch.local_file(source)
            digest = fetch.verify(fetch.file_digest(path), settings["fingerprint"], source, name)
            target = out_tmp / Path(urllib.parse.urlparse(settings["url"]).path).name
            shutil.copyfile(path, target)
            summary = f"{target.stat().st_size:,} bytes"
    print(f"fetch@{name}: {summary}, fingerprint {digest[:12]}..., written to {layout.raw(name)}")


if __name__ == "__main__":
    run_stage(main)
