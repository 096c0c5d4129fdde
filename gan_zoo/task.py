"""What every subcommand does with a user's mistake: one line on stderr, exit status 2, no traceback."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from gan_zoo.errors import GanZooError


@contextmanager
def report_user_errors(command: str) -> Iterator[None]:
    """Around a subcommand's work: a GanZooError, or a `${...}` of an override that does not resolve."""
    from omegaconf.errors import InterpolationKeyError, InterpolationResolutionError

    try:
        yield
    except GanZooError as error:
        print(f"gan-zoo {command}: error: {error}", file=sys.stderr)
        sys.exit(2)
    except (InterpolationKeyError, InterpolationResolutionError) as error:
        from gan_zoo.config_errors import describe_config_error

        print(f"gan-zoo {command}: error: {describe_config_error(error)}", file=sys.stderr)
        sys.exit(2)


@contextmanager
def report_config_errors(command: str) -> Iterator[None]:
    """Around a Hydra app: a bad override (unknown option or key, unreadable value) as one line, exit 2.

    Hydra prints its own errors with a search path and exits 1, unless HYDRA_FULL_ERROR is set; then
    they reach this handler, which words them (gan_zoo.config_errors). Any other exception is raised on.
    """
    from gan_zoo.config_errors import describe_config_error

    saved = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        yield
    except Exception as error:
        sentence = describe_config_error(error)
        if sentence is None:
            raise
        print(f"gan-zoo {command}: error: {sentence}", file=sys.stderr)
        sys.exit(2)
    finally:
        if saved is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved
