"""PPL against values computed by hand (numpy, float64) on a generator that is linear in w."""

import numpy as np
import pytest
import torch

from gan_zoo.metrics import MetricEvaluator, MetricNotApplicable, MetricOptions
from gan_zoo.metrics.ppl import block_generator, crop_and_downsample, draw_pairs, slerp_unit
from tests.unit.metrics_support import LinearStyleModule, TinyModule, pixel_distance, shapes

BLOCK = 50


def _latents(count: int, sampling: str, z_dim: int = 4) -> tuple[np.ndarray, ...]:
    ts, z0s, z1s = [], [], []
    for block in range(-(-count // BLOCK)):
        t, z0, z1 = draw_pairs(block_generator(0, block), min(BLOCK, count - block * BLOCK), z_dim, sampling)
        ts.append(t), z0s.append(z0), z1s.append(z1)
    return tuple(torch.cat(x).double().numpy() for x in (ts, z0s, z1s))


def _np_slerp(a, b, t):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    d = (a * b).sum(1, keepdims=True)
    p = t[:, None] * np.arccos(d)
    c = b - d * a
    c = c / np.linalg.norm(c, axis=1, keepdims=True)
    return a * np.cos(p) + c * np.sin(p)


def _filtered_mean(d: np.ndarray) -> float:
    d = np.sort(d)
    n = len(d)
    low, high = d[int(np.floor(0.01 * (n - 1)))], d[int(np.ceil(0.99 * (n - 1)))]  # 'lower' / 'higher' percentiles
    return float(d[(d >= low) & (d <= high)].mean())


def _evaluate(name: str, module, count: int) -> float:
    options = MetricOptions(batch_size=BLOCK, sample_block=BLOCK, use_cache=False)
    (result,) = MetricEvaluator([name], options, distance=pixel_distance).evaluate(module, shapes(8))
    assert result.card["space"] == name.split("_")[1][0] and result.card["epsilon"] == 1e-4
    return result.value


def test_ppl2_wend_equals_the_hand_value():
    module, count = LinearStyleModule(), 200
    g = module.G_ema
    M, A = g.M.double().numpy(), g.A.double().numpy()
    _, z0, z1 = _latents(count, "end")
    # W space, t = 0: the image moves by eps (w1 - w0) A, so d/eps² = |(z1 - z0) M A|² exactly.
    hand = _filtered_mean((((z1 - z0) @ M @ A) ** 2).sum(1))
    # float32 images differ by ~1e-4 of their size: PPL itself carries ~1e-3 relative round-off.
    assert _evaluate(f"ppl2_wend{count}", module, count) == pytest.approx(hand, rel=1e-2)


def test_ppl_zfull_with_crop_equals_the_hand_value():
    module, count = LinearStyleModule(), 200
    g = module.G_ema
    M, A = g.M.double().numpy(), g.A.double().numpy()
    t, z0, z1 = _latents(count, "full")
    eps = 1e-4
    step = (_np_slerp(z0, z1, t + eps) - _np_slerp(z0, z1, t)) @ M @ A
    images = step.reshape(-1, 3, 16, 16)[:, :, 6:14, 4:12]  # v1 crop, c = 16 // 8 = 2: rows 3c:7c, columns 2c:6c
    hand = _filtered_mean((images**2).sum((1, 2, 3)) / eps**2)
    assert _evaluate(f"ppl_zfull{count}", module, count) == pytest.approx(hand, rel=1e-2)


def test_slerp_stays_on_the_sphere_between_its_ends():
    a, b = torch.randn(5, 8, dtype=torch.float64), torch.randn(5, 8, dtype=torch.float64)
    assert torch.allclose(slerp_unit(a, b, torch.zeros(5, dtype=torch.float64)), a / a.norm(dim=1, keepdim=True))
    assert torch.allclose(slerp_unit(a, b, torch.ones(5, dtype=torch.float64)), b / b.norm(dim=1, keepdim=True))
    assert torch.allclose(slerp_unit(a, b, torch.full((5,), 0.3, dtype=torch.float64)).norm(dim=1), torch.ones(5, dtype=torch.float64))


def test_large_images_are_box_downsampled_to_256_and_grey_becomes_rgb():
    images = torch.arange(2 * 512 * 512, dtype=torch.float32).view(2, 1, 512, 512)
    small = crop_and_downsample(images, crop=False)
    assert small.shape == (2, 3, 256, 256)
    assert small[0, 0, 0, 0] == images[0, 0, :2, :2].mean()


def test_ppl_is_refused_by_name_for_a_model_without_mapping_and_synthesis():
    with pytest.raises(MetricNotApplicable, match="ppl2_wend needs a generator with a mapping/synthesis split.*'tiny'"):
        MetricEvaluator(["ppl2_wend"], distance=pixel_distance).check(TinyModule(), shapes(8))
