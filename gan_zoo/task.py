"""What every subcommand does with a user's mistake: one line on stderr, exit status 2, no traceback."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from gan_zoo.errors import GanZooError


@contextmanager
def report_user_errors(command: str) -> Iterator[None]:
    try:
        yield
    except GanZooError as error:
        print(f"gan-zoo {command}: error: {error}", file=sys.stderr)
        sys.exit(2)
