"""Metrics: FID, sFID, rFID, KID, precision/recall, IS and PPL (see README, Metrics).

`MetricEvaluator(names, MetricOptions(...)).evaluate(module, dataset)` is the one code path of the
training callback (`gan_zoo.callbacks.MetricsCallback`) and of `gan-zoo eval`. Importing this
package registers the reference metric names (`gan-zoo list`); any name `parse_metric` accepts
(e.g. fid2k_full, kid500) works too.

Reference code: NVlabs/stylegan3 `metrics/` (FID, KID, IS, precision/recall, PPL), NVlabs/stylegan
`metrics/perceptual_path_length.py` and `metrics/linear_separability.py` (v1 PPL, linear separability),
autonomousvision/stylegan-xl `metrics/metric_main.py` and `metrics/metric_utils.py` (sFID, rFID).
"""

import importlib

from gan_zoo.metrics.errors import MetricError, MetricNotApplicable, WeightsError
from gan_zoo.metrics.kinds import MetricKind, MetricSpec, family_examples, register_kind
from gan_zoo.metrics.names import parse_metric
from gan_zoo.metrics.ppl_interface import check_supports_ppl
from gan_zoo.metrics.runner import MetricEvaluator, MetricOptions, MetricResult
from gan_zoo.registry import register_metric

# The names the reference implementations register (StyleGAN v1/v2/ADA/3 and StyleGAN-XL).
REFERENCE_METRICS = (
    "fid50k_full", "fid50k", "fid10k", "kid50k_full", "kid50k", "pr50k3_full", "pr50k3", "is50k",
    "sfid50k_full", "rfid50k_full", "ppl_zfull", "ppl_wfull", "ppl_zend", "ppl_wend", "ppl2_wend",
)

# Modules defining family metric kinds (gan_zoo.metrics.kinds); importing one registers its kind.
FAMILY_METRIC_MODULES: tuple[str, ...] = (
    "gan_zoo.metrics.linear_separability",
    "gan_zoo.metrics.segmentation",
    "gan_zoo.metrics.translation",
)

for _module in FAMILY_METRIC_MODULES:
    importlib.import_module(_module)

for _name in (*REFERENCE_METRICS, *family_examples()):
    register_metric(_name, parse_metric(_name))

__all__ = [
    "REFERENCE_METRICS", "MetricError", "MetricEvaluator", "MetricNotApplicable", "MetricOptions", "MetricResult",
    "MetricKind", "MetricSpec", "WeightsError", "register_kind", "check_supports_ppl", "parse_metric",
]
