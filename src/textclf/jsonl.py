"""Read one line of a JSON Lines file, with errors a user can act on."""

from __future__ import annotations

import json

from textclf.errors import TextclfError


def parse_line(line: str, number: int, source: str) -> object:
    """The JSON value on line ``number`` of ``source``; anything unreadable is one error naming the line."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise TextclfError(f"{source}: line {number} is not JSON ({error.msg})") from None
    except ValueError as error:  # an integer beyond Python's digit limit; its advice is for programmers
        raise TextclfError(f"{source}: line {number} is not usable JSON ({str(error).split(';')[0]})") from None
    except RecursionError:
        raise TextclfError(f"{source}: line {number} is JSON nested too deeply to read") from None
