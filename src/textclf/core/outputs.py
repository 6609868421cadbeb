"""Write stage outputs so that a failed, interrupted or killed stage leaves none behind.

Every output is first written to a hidden temporary sibling; only when the whole
stage has succeeded are they renamed into place. A crash, an error or Ctrl-C
removes the temporaries, so DVC never sees a half-written output. A process
killed outright (SIGKILL, out of memory) cannot clean up after itself, so the
next run of the stage removes the temporaries of processes that no longer exist.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
from pathlib import Path
from typing import Iterator

_received_signal: int | None = None


def _interrupt(signum: int, frame) -> None:
    # Remembered as well as raised: a KeyboardInterrupt that lands inside a
    # __del__ or a callback is swallowed by Python, and the stage would then
    # finish and hand DVC outputs the user asked it not to write.
    global _received_signal
    _received_signal = signum
    raise KeyboardInterrupt


def watch_interrupts() -> None:
    """Turn SIGINT and SIGTERM into a KeyboardInterrupt that cannot be lost."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)


def received_signal() -> int | None:
    return _received_signal


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def temporary_path(final: Path, pid: int | None = None) -> Path:
    # The suffix stays last: some writers (Keras) choose the format from it.
    return final.with_name(f".{final.stem}.tmp-{os.getpid() if pid is None else pid}{final.suffix}")


def remove_stale_temporaries(final: Path) -> list[Path]:
    """Remove the temporaries of ``final`` left by processes that no longer exist."""
    pattern = re.compile(rf"\.{re.escape(final.stem)}\.tmp-(\d+){re.escape(final.suffix)}")
    stale = [path for path in final.parent.glob(f".{final.stem}.tmp-*")
             if (match := pattern.fullmatch(path.name)) and not _process_exists(int(match.group(1)))]
    for path in stale:
        _remove(path)
    return stale


@contextlib.contextmanager
def staged_outputs(*targets: str | os.PathLike) -> Iterator[list[Path]]:
    """Yield temporary paths for ``targets``; move them into place on success."""
    finals = [Path(t) for t in targets]
    temps = [temporary_path(f) for f in finals]
    for final, temp in zip(finals, temps):
        final.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(final)
        _remove(temp)
    try:
        yield temps
        missing = [str(f) for f, t in zip(finals, temps) if not t.exists()]
        if missing:
            raise RuntimeError(f"stage did not write its outputs: {', '.join(missing)}")
        if _received_signal is not None:  # interrupted, and something swallowed the KeyboardInterrupt
            raise KeyboardInterrupt
    except BaseException:
        for temp in temps:
            _remove(temp)
        raise
    for final, temp in zip(finals, temps):
        _remove(final)
        os.replace(temp, final)


@contextlib.contextmanager
def live_directory(path: str | os.PathLike) -> Iterator[Path]:
    """A fresh output directory written in place while the stage runs, and removed if it fails.

    For a log people watch during a run (DVCLive's training metrics): it cannot
    wait in a temporary, but a failed or interrupted stage still leaves none of
    it behind. A killed stage leaves it for DVC to see as changed, and the next
    run starts it afresh.
    """
    directory = Path(path)
    _remove(directory)
    directory.mkdir(parents=True)
    try:
        yield directory
        if _received_signal is not None:
            raise KeyboardInterrupt
    except BaseException:
        _remove(directory)
        raise


def write_json(path: str | os.PathLike, data: object) -> None:
    """Stable JSON: sorted keys and a trailing newline keep git diffs clean."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
