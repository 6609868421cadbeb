"""Read one line of a JSON Lines file, with errors a user can act on."""

from __future__ import annotations

import json

from textclf.core.errors import TextclfError


class _RepeatedKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """An object whose keys are all different: with one key twice, json would keep the last one silently."""
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise _RepeatedKey(key)
        seen.add(key)
    return dict(pairs)


def parse_line(line: str, number: int, source: str) -> object:
    """The JSON value on line ``number`` of ``source``; anything unreadable is one error naming the line."""
    try:
        return json.loads(line, object_pairs_hook=_unique_keys)
    except _RepeatedKey as repeated:
        raise TextclfError(f"{source}: line {number}: key {repeated.args[0]!r} appears twice in one object "
                           "(JSON keeps only the last; remove one)") from None
    except json.JSONDecodeError as error:
        raise TextclfError(f"{source}: line {number} is not JSON ({error.msg})") from None
    except ValueError as error:  # an integer beyond Python's digit limit; its advice is for programmers
        raise TextclfError(f"{source}: line {number} is not usable JSON ({str(error).split(';')[0]})") from None
    except RecursionError:
        raise TextclfError(f"{source}: line {number} is JSON nested too deeply to read") from None
