"""The exception for unusable training data.

Every message is one sentence that names the offending path or value and says what to do; it
subclasses GanZooError so the CLI prints it without a traceback.
"""

from gan_zoo.errors import GanZooError


class DataError(GanZooError):
    """The configured data cannot be used as given (missing, empty, corrupt, mismatched)."""
