"""The one exception type for user errors, and the wrapper that turns any failure into one line a problem.

Every stage script and the ``textclf`` command run inside :func:`run_stage`: a
user error names its file, line or key; anything unforeseen says what it was
and how to see the traceback (``TEXTCLF_DEBUG=1``).
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from typing import Callable

from textclf.core import outputs
from textclf.core.terminal import visible


class TextclfError(Exception):
    """A problem with the user's input (data, params, paths), not a bug."""


DEBUG_ENV = "TEXTCLF_DEBUG"


def _fail(message: str, code: int) -> None:
    """One ``error:`` line per problem: a message of several lines lists several (every bad key of params.yaml)."""
    for line in message.splitlines() or [""]:
        print(f"error: {visible(line)}", file=sys.stderr)
    sys.exit(code)


def run_stage(main: Callable[[], None]) -> None:
    """Run ``main``; whatever goes wrong ends as one ``error:`` line and a non-zero exit."""
    outputs.watch_interrupts()
    try:
        main()
        if outputs.received_signal() is not None:  # the KeyboardInterrupt was swallowed on the way
            raise KeyboardInterrupt
    except TextclfError as error:
        _fail(str(error), 1)
    except KeyboardInterrupt:
        _fail("interrupted; no output was written", 128 + (outputs.received_signal() or signal.SIGINT))
    except OSError as error:
        if error.errno != errno.ENOSPC or os.environ.get(DEBUG_ENV):
            _unexpected(error)
        where = f" writing {error.filename}" if error.filename else ""
        _fail(f"no space left on the device{where}: free some and run it again; no output was written", 1)
    except Exception as error:
        _unexpected(error)


def _unexpected(error: Exception) -> None:
    """A bug: one line saying what it was and how to see the traceback (raised as it is under TEXTCLF_DEBUG)."""
    if os.environ.get(DEBUG_ENV):
        raise error
    _fail(f"unexpected {type(error).__name__}: {str(error) or 'no message'} "
          f"(set {DEBUG_ENV}=1 to see the traceback, and please report it)", 1)
