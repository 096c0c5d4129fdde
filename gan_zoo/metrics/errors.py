"""Errors of the metrics: each names the value or file at fault and says what to do."""

from gan_zoo.errors import GanZooError


class MetricError(GanZooError):
    """A metric that cannot run as asked (unknown name, too few images, wrong model)."""


class WeightsError(MetricError):
    """A metric network's weight file that is missing, unreadable or not the expected file."""


class MetricNotApplicable(MetricError):
    """A metric that the model cannot provide (e.g. PPL of a model without a mapping network)."""
