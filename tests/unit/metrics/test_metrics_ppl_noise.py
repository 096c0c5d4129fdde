"""PPL re-draws the constant noise maps per sample block, as NVIDIA re-draws them per batch."""

import torch
from torch import Tensor, nn

from gan_zoo.metrics import MetricEvaluator, MetricOptions
from gan_zoo.metrics.ppl_interface import redrawn_noise
from tests.unit.metrics_support import LinearStyleG, LinearStyleModule, pixel_distance, shapes


class NoisySynthesis(nn.Module):
    """Linear images plus the stored noise map; records the noise each call saw."""

    def __init__(self, linear: LinearStyleG) -> None:
        super().__init__()
        self.linear = linear
        self.layer = nn.Module()
        self.layer.register_buffer("noise_const", torch.randn(16, 16))
        self.seen: list[Tensor] = []

    def forward(self, ws: Tensor, noise_mode: str = "random") -> Tensor:
        self.seen.append(self.layer.noise_const.clone())
        return self.linear.synthesis(ws, noise_mode) + self.layer.noise_const


class NoisyG(LinearStyleG):
    def __init__(self) -> None:
        super().__init__()
        self.noisy = NoisySynthesis(LinearStyleG())

    def synthesis(self, ws: Tensor, noise_mode: str = "random") -> Tensor:
        return self.noisy(ws, noise_mode)


def test_redrawn_noise_fills_from_the_generator_and_restores():
    network = NoisySynthesis(LinearStyleG())
    stored = network.layer.noise_const.clone()
    with redrawn_noise(network, torch.Generator().manual_seed(5)):
        assert torch.equal(network.layer.noise_const, torch.randn(16, 16, generator=torch.Generator().manual_seed(5)))
    assert torch.equal(network.layer.noise_const, stored)


def test_each_block_gets_its_own_noise_shared_by_both_ends_and_the_model_is_left_as_it_was():
    module = LinearStyleModule()
    module.G_ema = NoisyG()
    synthesis = module.G_ema.noisy
    stored = synthesis.layer.noise_const.clone()
    options = MetricOptions(batch_size=10, sample_block=10, use_cache=False)
    (first,) = MetricEvaluator(["ppl2_wend30"], options, distance=pixel_distance).evaluate(module, shapes(8))
    assert len(synthesis.seen) == 3  # one call per block, both ends of every pair in it
    assert not torch.equal(synthesis.seen[0], synthesis.seen[1]) and not torch.equal(synthesis.seen[0], stored)
    assert torch.equal(synthesis.layer.noise_const, stored)
    seen = list(synthesis.seen)
    synthesis.seen.clear()
    (again,) = MetricEvaluator(["ppl2_wend30"], options, distance=pixel_distance).evaluate(module, shapes(8))
    assert again.value == first.value and all(torch.equal(a, b) for a, b in zip(seen, synthesis.seen, strict=True))
    # The noise adds the same map to both ends, so the path length is that of the noise-free generator.
    module.G_ema = LinearStyleG()
    (plain,) = MetricEvaluator(["ppl2_wend30"], options, distance=pixel_distance).evaluate(module, shapes(8))
    assert abs(plain.value - first.value) <= 1e-2 * plain.value
