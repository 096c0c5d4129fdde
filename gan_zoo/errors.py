"""User-facing errors: the CLI prints their message (one sentence saying what to do) without a traceback."""


class GanZooError(Exception):
    """A mistake in the user's input: a config value, a path, a checkpoint."""


class ConfigError(GanZooError):
    """A config value that cannot work (names the key, the value and the fix)."""


class CheckpointError(GanZooError):
    """A checkpoint that is missing, of another model, or would be overwritten."""
