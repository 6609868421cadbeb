"""Text that is safe to show on a terminal, whatever a review or a file name holds.

Reviews and paths come from users: an ESC sequence in one could set the
terminal's title or move the cursor, and a right-to-left override could make a
line read differently from what it is. Such characters are shown as escapes.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, Unicode line and paragraph separators, the
# bidirectional overrides and isolates, and lone surrogates (undecodable bytes
# of a command-line argument or file name, which no stream could encode).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def visible(text: str) -> str:
    """``text`` on one line, with every control character written as an escape (``\\x1b``)."""
    return _UNSAFE.sub(_escape, text)


def _json_escape(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_safe(line: str) -> str:
    """A JSON text with the characters ``json.dumps`` leaves raw written as ``\\uXXXX``.

    The same value for any JSON reader, but no raw C1 control reaches a terminal
    and no U+2028 splits a JSON line for readers that split at it.
    """
    return _UNSAFE.sub(_json_escape, line)
