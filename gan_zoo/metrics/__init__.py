"""Metrics: FID, sFID, rFID, KID, precision/recall, IS and PPL (see README, Metrics).

`MetricEvaluator(names, MetricOptions(...)).evaluate(module, dataset)` is the one code path of the
training callback (`gan_zoo.callbacks.MetricsCallback`) and of `gan-zoo eval`. Importing this
package imports every module that registers metrics (`@register_metric`, `kinds`): the reference
metrics (`reference`) and the families' own (`linear_separability`, `segmentation`, `translation`).
Any name a registered kind parses (e.g. fid2k_full, kid500) works, not only the listed examples.

Reference code: NVlabs/stylegan3 `metrics/` (FID, KID, IS, precision/recall, PPL), NVlabs/stylegan
`metrics/perceptual_path_length.py` and `metrics/linear_separability.py` (v1 PPL, linear separability),
autonomousvision/stylegan-xl `metrics/metric_main.py` and `metrics/metric_utils.py` (sFID, rFID).
"""

from gan_zoo.errors import MetricError, MetricNotApplicable, WeightsError
from gan_zoo.metrics import linear_separability, reference, segmentation, translation  # noqa: F401  (their @register_metric)
from gan_zoo.metrics.kinds import MetricKind, MetricSpec, parse_metric, register_metric
from gan_zoo.metrics.ppl_interface import check_supports_ppl
from gan_zoo.metrics.runner import MetricEvaluator, MetricOptions, MetricResult

__all__ = [
    "MetricError",
    "MetricEvaluator",
    "MetricNotApplicable",
    "MetricOptions",
    "MetricResult",
    "MetricKind",
    "MetricSpec",
    "WeightsError",
    "register_metric",
    "check_supports_ppl",
    "parse_metric",
]
