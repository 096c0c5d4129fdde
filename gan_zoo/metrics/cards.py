"""Protocol cards: what exactly a metric value means, logged and stored with every value."""

from typing import Any

from gan_zoo.metrics.kinds import MetricSpec, metric_kind

FAKE_TO_UINT8 = "(x*127.5+128).clamp(0,255).to(uint8) from [-1,1] (rounds, as NVIDIA)"


def protocol_card(spec: MetricSpec, extractor: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    kind = metric_kind(spec.kind)
    card: dict[str, Any] = {
        "metric": spec.name,
        "reference": kind.reference,
        "num_gen": spec.num_gen,
        "num_real": "all" if spec.num_real is None else spec.num_real,
        **extractor,
    }
    if kind.features is not None:  # the reference extractors' input
        card.update(fake_input=FAKE_TO_UINT8, real_input="dataset uint8, no x-flip, first images in order")
    if spec.kind in ("fid", "sfid", "rfid"):
        card.update(statistics="float64 mean and population covariance (/N, as NVIDIA)", sqrt="sum sqrt(eigvals(S1 S2)).real")
    if spec.kind == "kid":
        card.update(
            kernel="(x.y/d+1)^3", subsets="100 x min(n_fake, n_real, 1000), numpy RandomState(2020): fake then real indices", estimator="unbiased MMD^2"
        )
    if spec.kind == "pr":
        card.update(k=spec.k, features_dtype="float16 (StyleGAN3)", distance="euclidean, radius = kthvalue(k+1)")
    if spec.kind == "is":
        card.update(splits=10, probabilities="softmax of logits without the fc bias", split_order="consecutive, no shuffle")
    if spec.kind == "ppl":
        card.update(
            space=spec.space,
            sampling=spec.sampling,
            crop=spec.crop,
            epsilon=spec.epsilon,
            interpolation="slerp in Z" if spec.space == "z" else "lerp in W",
            distance="LPIPS VGG16 v0.1 / epsilon^2, box-downsampled to 256 when larger",
            filter="keep [1st lower, 99th higher] percentile, mean",
            noise="noise_mode='const' with every noise_const map re-drawn N(0,1) per sample block from the block's seeded generator "
            "(after t, z0, z1) and restored afterwards: shared by all images of a block, so by both ends of a pair "
            "(NVIDIA: re-drawn per batch of the same kind)",
        )
    card.update(extra or {})
    return card
