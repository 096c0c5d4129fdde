"""Integer lists as users write them: `0-63`, `1,5,9`, `0-3,10`, a single number, or a YAML list."""

import re
from collections.abc import Iterable
from typing import Any

from gan_zoo.errors import ConfigError

_PART = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_int_list(value: Any, key: str) -> list[int]:
    """Non-negative integers from '0-63' / '1,5,9-11' / 7 / [1, 2] (ranges inclusive, as the NVlabs scripts read them)."""
    if isinstance(value, bool) or value is None:
        raise ConfigError(f"{key}={value!r}: write integers as '0-63', '1,5,9' or '0-3,10'")
    if isinstance(value, int):
        parts: list[Any] = [str(value)]
    elif isinstance(value, Iterable) and not isinstance(value, str):
        parts = [str(item) for item in value]
    else:
        parts = str(value).split(",")
    numbers: list[int] = []
    for part in parts:
        match = _PART.match(part)
        if match is None or (match.group(2) is not None and int(match.group(2)) < int(match.group(1))):
            raise ConfigError(f"{key}={value!r}: write non-negative integers as '0-63', '1,5,9' or '0-3,10' (ranges low-high)")
        low = int(match.group(1))
        numbers.extend(range(low, int(match.group(2) or low) + 1))
    if not numbers:
        raise ConfigError(f"{key} is empty; give at least one integer, e.g. {key}=0-7")
    return numbers
