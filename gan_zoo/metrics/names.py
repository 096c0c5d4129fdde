"""Metric names as the references spell them, parsed into what they mean.

    fid50k_full   50,000 fakes vs every real image      fid50k / fid10k   N fakes vs the first N reals
    fid<N>k[_full], fid<N>[_full]  any count (plain counts for small runs, e.g. fid500_full)
    sfid.. rfid.. kid..  the same counts (kid50k_full: 100 subsets of 1000)
    pr50k3_full   precision/recall, 50k fakes, k=3, reals capped at 200k (pr<N>_k<K>[_full] for plain counts)
    is50k         Inception Score of 50k fakes, 10 splits
    ppl_zfull ppl_wfull ppl_zend ppl_wend (StyleGAN v1: centre crop, 100k samples)
    ppl2_wend     (StyleGAN2: full image, 50k samples); a count suffix (ppl2_wend2k) sets fewer samples
"""

import re

from gan_zoo.metrics.errors import MetricError
from gan_zoo.metrics.kinds import MetricSpec, family_examples, parse_family_metric

FEATURE_KINDS = ("fid", "sfid", "rfid", "kid", "pr", "is")
PR_MAX_REAL = 200_000  # StyleGAN2/3 pr50k3_full: max_real=200000


def _count(number: str, unit: str) -> int:
    return int(number) * (1000 if unit == "k" else 1)


_COUNTED = re.compile(r"^(fid|sfid|rfid|kid)(\d+)(k?)(_full)?$")
_PR = re.compile(r"^pr(\d+)(k|_k)(\d+)(_full)?$")
_IS = re.compile(r"^is(\d+)(k?)$")
_PPL = re.compile(r"^(ppl|ppl2)_(z|w)(full|end)(?:(\d+)(k?))?$")


def parse_metric(name: str) -> MetricSpec:
    name = str(name).strip()
    if m := _COUNTED.match(name):
        kind, n = m[1], _count(m[2], m[3])
        return MetricSpec(name, kind, n, None if m[4] else n)
    if m := _PR.match(name):
        n = _count(m[1], "k" if m[2] == "k" else "")
        return MetricSpec(name, "pr", n, PR_MAX_REAL if m[4] else n, k=int(m[3]))
    if m := _IS.match(name):
        return MetricSpec(name, "is", _count(m[1], m[2]), 0)
    if m := _PPL.match(name):
        v2 = m[1] == "ppl2"
        n = _count(m[4], m[5]) if m[4] else (50_000 if v2 else 100_000)
        return MetricSpec(name, "ppl", n, 0, space=m[2], sampling=m[3], crop=not v2)
    if (spec := parse_family_metric(name)) is not None:
        return spec
    family = f", family metrics: {', '.join(family_examples())}" if family_examples() else ""
    raise MetricError(
        f"unknown metric name {name!r}; use e.g. fid50k_full, fid10k, fid2k_full, kid50k_full, sfid50k_full, rfid50k_full, "
        f"pr50k3_full, is50k, ppl_zfull, ppl_wend, ppl2_wend{family} (gan-zoo list shows the registered names)"
    )
