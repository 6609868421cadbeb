"""Write stage outputs so that a failed or interrupted stage leaves none behind.

Every output is first written to a hidden temporary sibling; only when the whole
stage has succeeded are they renamed into place. A crash, an error or Ctrl-C
removes the temporaries, so DVC never sees a half-written output.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import Iterator


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextlib.contextmanager
def staged_outputs(*targets: str | os.PathLike) -> Iterator[list[Path]]:
    """Yield temporary paths for ``targets``; move them into place on success."""
    finals = [Path(t) for t in targets]
    # The suffix stays last: some writers (Keras) choose the format from it.
    temps = [f.with_name(f".{f.stem}.tmp-{os.getpid()}{f.suffix}") for f in finals]
    for final, temp in zip(finals, temps):
        final.parent.mkdir(parents=True, exist_ok=True)
        _remove(temp)
    try:
        yield temps
        missing = [str(f) for f, t in zip(finals, temps) if not t.exists()]
        if missing:
            raise RuntimeError(f"stage did not write its outputs: {', '.join(missing)}")
    except BaseException:
        for temp in temps:
            _remove(temp)
        raise
    for final, temp in zip(finals, temps):
        _remove(final)
        os.replace(temp, final)


def write_json(path: str | os.PathLike, data: object) -> None:
    """Stable JSON: sorted keys and a trailing newline keep git diffs clean."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
