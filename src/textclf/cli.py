"""Shared entry point for stage scripts: user errors become one line and exit 1."""

from __future__ import annotations

import sys
from typing import Callable

from textclf.errors import TextclfError


def run_stage(main: Callable[[], None]) -> None:
    try:
        main()
    except TextclfError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("error: interrupted; no output was written", file=sys.stderr)
        sys.exit(130)
