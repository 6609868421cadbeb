"""Read params.yaml, and the rules its values are checked by (textclf.core.schema applies them to every key).

A typo or a bad value should fail in a second with the key's full name, not
after an hour of training with a traceback.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import yaml

from textclf.core.errors import TextclfError

Check = Callable[[Any], str | None]  # returns a complaint, or None when the value is fine


def positive_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return "must be a positive integer"
    return None


def non_negative_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return "must be an integer >= 0"
    return None


def positive_float(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return "must be a number > 0"
    if not math.isfinite(value):
        return "must be finite"
    return None


def non_negative_float(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 or not math.isfinite(value):
        return "must be a number >= 0"
    return None


def probability(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        return "must be a number in [0, 1)"
    return None


def mapping(value: Any) -> str | None:
    return None if isinstance(value, dict) and value else "must be a non-empty mapping"


def list_of(check: Check) -> Check:
    def check_list(value: Any) -> str | None:
        if not isinstance(value, list) or not value:
            return "must be a non-empty list"
        complaints = [check(item) for item in value]
        return next((f"items {c}" for c in complaints if c), None)

    return check_list


def fraction(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        return "must be a number strictly between 0 and 1"
    return None


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def optional(check: Check) -> Check:
    def check_optional(value: Any) -> str | None:
        return None if value is None else check(value)

    return check_optional


def one_of(*choices: str) -> Check:
    def check_choice(value: Any) -> str | None:
        if value in choices:
            return None
        return "must be one of " + ", ".join(repr(c) for c in choices)

    return check_choice


def read_params(path: str | Path = "params.yaml") -> dict:
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as handle:
            params = yaml.safe_load(handle)
    except FileNotFoundError:
        raise TextclfError(f"{path}: file not found (run from the project root)") from None
    except yaml.YAMLError as error:
        raise TextclfError(f"{path}: not valid YAML ({' '.join(str(error).split())})") from None
    if not isinstance(params, dict):
        raise TextclfError(f"{path}: expected a mapping of stage blocks at the top level")
    return params
