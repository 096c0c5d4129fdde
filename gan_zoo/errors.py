"""User-facing errors: the CLI prints their message (one sentence saying what to do) without a traceback."""


class GanZooError(Exception):
    """A mistake in the user's input: a config value, a path, a checkpoint."""


class ConfigError(GanZooError):
    """A config value that cannot work (names the key, the value and the fix)."""


class CheckpointError(GanZooError):
    """A checkpoint that is missing, of another model, or would be overwritten."""


class MetricError(GanZooError):
    """A metric that cannot run as asked (unknown name, too few images, wrong model)."""


class WeightsError(MetricError):
    """A metric network's weight file that is missing, unreadable or not the expected file."""


class MetricNotApplicable(MetricError):
    """A metric that the model cannot provide (e.g. PPL of a model without a mapping network)."""
