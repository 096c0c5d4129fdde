"""SPADE normalisation, its parameter-free sync batch norm, the semantic input (one-hot + instance edges)."""

import pytest
import torch
from torch import nn

from gan_zoo.layers.spade_norm import SPADE, ParamFreeSyncBatchNorm
from gan_zoo.models.spade.blocks import SPADEResnetBlock, maybe_spectral
from gan_zoo.models.spade.semantics import instance_edges, semantic_input


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_spade_with_a_constant_label_map_is_batch_norm_with_a_learned_affine() -> None:
    spade = SPADE(norm_nc=6, label_nc=3, hidden=8, norm="batch").train()
    x = torch.randn(4, 6, 8, 8) * 3 + 1
    segmap = torch.zeros(4, 3, 8, 8)
    segmap[:, 1] = 1  # every pixel has label 1
    out = spade(x, segmap)
    # A constant label map gives per-channel constants gamma, beta away from the zero-padded border;
    # use the interior, where the 3x3 convs see only the constant.
    with torch.no_grad():
        actv = spade.mlp_shared(segmap)
        gamma, beta = spade.mlp_gamma(actv)[0, :, 4, 4], spade.mlp_beta(actv)[0, :, 4, 4]
    bn = nn.BatchNorm2d(6, affine=True).train()
    with torch.no_grad():
        bn.weight.copy_(1 + gamma)
        bn.bias.copy_(beta)
    expected = bn(x)
    assert torch.allclose(out[..., 2:-2, 2:-2], expected[..., 2:-2, 2:-2], atol=1e-5)
    assert not torch.allclose(out, x)


def test_gradients_reach_the_label_map_convolutions() -> None:
    spade = SPADE(norm_nc=4, label_nc=3, hidden=8, norm="batch")
    segmap = torch.nn.functional.one_hot(torch.randint(0, 3, (2, 16, 16)), 3).permute(0, 3, 1, 2).float()
    spade(torch.randn(2, 4, 8, 8), segmap).square().mean().backward()
    for name, p in spade.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_spade_resizes_the_label_map_nearest_and_keeps_the_official_state_dict_names() -> None:
    spade = SPADE(norm_nc=4, label_nc=2, hidden=8)
    keys = set(spade.state_dict())
    assert {
        "param_free_norm.running_mean",
        "param_free_norm.running_var",
        "param_free_norm.num_batches_tracked",
        "mlp_shared.0.weight",
        "mlp_gamma.weight",
        "mlp_beta.bias",
    } <= keys
    assert spade(torch.randn(2, 4, 4, 8), torch.rand(2, 2, 16, 32)).shape == (2, 4, 4, 8)


def sync_batch_norm_reference(x: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(output, batch mean, unbiased batch variance) of the synchronised batch norm's formula:
    inverse std clamp(biased variance, min=eps) ** -0.5 (not (variance + eps) ** -0.5)."""
    mean = x.mean((0, 2, 3))
    biased = (x - mean[None, :, None, None]).square().mean((0, 2, 3))
    n = x.numel() // x.shape[1]
    inv_std = biased.clamp(min=eps) ** -0.5
    return (x - mean[None, :, None, None]) * inv_std[None, :, None, None], mean, biased * n / (n - 1)


def test_param_free_sync_batch_norm_clamps_the_variance_and_never_counts_batches() -> None:
    x = torch.randn(3, 4, 5, 5, dtype=torch.float64) * 2 + 0.5
    x[:, 1] = 0.25 + 1e-3 * torch.randn(3, 5, 5, dtype=torch.float64)  # variance 1e-6 < eps: clamped to eps
    x[:, 2] = -1.5  # zero variance
    norm = ParamFreeSyncBatchNorm(4).double()
    mine = x.clone().requires_grad_(True)
    weights = torch.randn_like(x)  # makes every output matter differently
    y = norm(mine)
    (y * weights).sum().backward()
    ref_x = x.clone().requires_grad_(True)
    ref_y, mean, var = sync_batch_norm_reference(ref_x)
    (ref_y * weights).sum().backward()
    assert torch.allclose(y, ref_y, rtol=0, atol=1e-12) and torch.allclose(mine.grad, ref_x.grad, rtol=0, atol=1e-10)
    # `+ eps` (nn.BatchNorm2d) gives another output where the variance is below eps: 1/sqrt(eps) vs 1/sqrt(1.1 eps).
    plus_eps = nn.BatchNorm2d(4, affine=False).double()(x)
    assert (y[:, 1] - plus_eps[:, 1]).abs().max() > 1e-2 * y[:, 1].abs().max()
    assert torch.equal(y[:, 2], torch.zeros_like(y[:, 2]))
    running_mean, running_var = 0.1 * mean.detach(), 0.9 + 0.1 * var.detach()  # after the forward above, from (0, 1)
    for step in (1, 2, 3):
        batch = x * (1 + step) - step
        with torch.no_grad():
            norm(batch)
        _, mean, var = sync_batch_norm_reference(batch)
        running_mean, running_var = 0.9 * running_mean + 0.1 * mean, 0.9 * running_var + 0.1 * var
    assert torch.allclose(norm.running_mean, running_mean, rtol=0, atol=1e-12)
    assert torch.allclose(norm.running_var, running_var, rtol=0, atol=1e-12)
    assert int(norm.num_batches_tracked) == 0 and list(norm.parameters()) == []
    norm.eval()
    expected = (x - running_mean[None, :, None, None]) / (running_var[None, :, None, None] + 1e-5).sqrt()
    assert torch.allclose(norm(x), expected, rtol=0, atol=1e-12)  # eval: running statistics, + eps
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        norm.train()(torch.randn(1, 4, 1, 1, dtype=torch.float64))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_param_free_sync_batch_norm_of_16_bit_activations_has_fp32_statistics(dtype) -> None:
    # Mixed precision hands the norm 16-bit conv outputs. Activations with a mean far from zero next to
    # their spread (3 +- 0.05) leave nothing of the variance in 16-bit sums of squares minus sum x mean.
    g = torch.Generator().manual_seed(0)
    x = (3 + 0.05 * torch.randn(4, 6, 8, 8, generator=g)).to(dtype)
    weights = torch.randn(4, 6, 8, 8, generator=g)
    low, full = ParamFreeSyncBatchNorm(6), ParamFreeSyncBatchNorm(6)
    x_low, x_full = x.clone().requires_grad_(True), x.float().requires_grad_(True)  # the same values, in fp32
    y_low, y_full = low(x_low), full(x_full)
    assert y_low.dtype == dtype  # cast back, as torch's batch norm returns the input's dtype
    assert torch.allclose(y_low.float(), y_full, rtol=0, atol=2e-2)  # 16-bit rounding of values within +-4
    assert torch.allclose(y_low.float().std((0, 2, 3)), torch.ones(6), atol=1e-2)
    (y_low.float() * weights).sum().backward()
    (y_full * weights).sum().backward()
    assert x_low.grad.dtype == dtype
    assert torch.allclose(x_low.grad.float(), x_full.grad, rtol=2e-2, atol=2e-2 * x_full.grad.abs().max().item())
    assert torch.allclose(low.running_mean, full.running_mean) and torch.allclose(low.running_var, full.running_var)


def test_instance_edges_mark_both_sides_of_every_boundary() -> None:
    instance = torch.tensor([[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 3, 3]]])
    expected = torch.tensor([[[0, 1, 1, 0], [1, 1, 1, 1], [1, 1, 1, 1]]]).float()
    assert torch.equal(instance_edges(instance)[:, 0], expected)


def test_semantic_input_is_a_contiguous_one_hot_with_the_gradients_of_a_scattered_one() -> None:
    # 151 labels without instances (ADE20K): the one-hot is the whole input, so its memory layout
    # decides which convolution kernel runs.
    segmap = torch.randint(0, 151, (2, 8, 8)).repeat_interleave(4, 1).repeat_interleave(4, 2)
    semantics = semantic_input(segmap, 151)
    reference = torch.zeros(2, 151, 32, 32).scatter_(1, segmap.unsqueeze(1), 1.0)
    assert semantics.is_contiguous() and semantics.stride() == reference.stride() and torch.equal(semantics, reference)
    assert semantic_input(segmap, 151, instance=segmap).is_contiguous()
    grads = []
    for seg in (semantics, reference):
        conv = nn.Conv2d(151, 16, 3, padding=1)
        torch.manual_seed(1)
        nn.init.normal_(conv.weight)
        conv.bias.data.zero_()
        conv(seg).square().sum().backward()
        grads.append(conv.weight.grad)
    assert torch.equal(grads[0], grads[1])


def test_semantic_input_one_hot_plus_edges_and_out_of_range_labels() -> None:
    segmap = torch.tensor([[[0, 2], [1, 2]]])
    semantics = semantic_input(segmap, 3, instance=segmap)
    assert semantics.shape == (1, 4, 2, 2)
    assert torch.equal(semantics[0, :3].argmax(0), segmap[0]) and torch.equal(semantics[0, :3].sum(0), torch.ones(2, 2))
    with pytest.raises(ValueError, match="value 3, outside the model's 3 labels"):
        semantic_input(segmap + 1, 3)


def _block_one_spade_at_a_time(block: SPADEResnetBlock, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
    """The official ResBlk's forward: each SPADE runs its own shared conv on the resized label map."""
    x_s = block.conv_s(block.norm_s(x, seg)) if block.learned_shortcut else x
    dx = block.conv_0(nn.functional.leaky_relu(block.norm_0(x, seg), 0.2))
    return x_s + block.conv_1(nn.functional.leaky_relu(block.norm_1(dx, seg), 0.2))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("fin, fout", [(8, 8), (8, 4)])
def test_resblock_with_its_shared_convs_as_one_equals_the_official_forward_bit_for_bit(fin, fout, threads) -> None:
    saved_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        blocks = [SPADEResnetBlock(fin, fout, semantic_nc=5, spade_hidden=6) for _ in range(2)]
        blocks[1].load_state_dict(blocks[0].state_dict())
        seg = semantic_input(torch.randint(0, 5, (2, 16, 16)), 5)
        x = torch.randn(2, fin, 8, 8)
        outs = [blocks[0](x, seg), _block_one_spade_at_a_time(blocks[1], x, seg)]
        assert torch.equal(outs[0], outs[1])
        for out in outs:
            out.square().mean().backward()
    finally:
        torch.set_num_threads(saved_threads)
    for (name, a), b in zip(blocks[0].named_parameters(), blocks[1].parameters(), strict=True):
        if threads == 1 or "mlp_shared" not in name:
            assert torch.equal(a.grad, b.grad), name
        else:
            # On several threads oneDNN splits the weight gradient's sum by output channel blocks, which
            # differ for the stacked conv: the shared convs' weight gradients agree to float rounding.
            assert torch.allclose(a.grad, b.grad, rtol=1e-5, atol=1e-7 * b.grad.abs().max().item()), name
    for (name, a), b in zip(blocks[0].state_dict().items(), blocks[1].state_dict().values(), strict=True):
        assert torch.equal(a, b), name  # running statistics and power-iteration vectors


def test_spectral_norm_with_the_fused_backward_is_torchs_forward_and_gradient() -> None:
    convs = [maybe_spectral(nn.Conv2d(6, 5, 3), True), maybe_spectral(nn.Conv2d(6, 5, 3), True, fused_backward=True)]
    convs[1].load_state_dict(convs[0].state_dict())
    assert list(convs[1].state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    x = torch.randn(2, 6, 7, 7)
    for _ in range(2):  # a power iteration per training forward, as torch's
        outs = [conv(x) for conv in convs]
        assert torch.equal(outs[0], outs[1]) and torch.equal(convs[0].weight_u, convs[1].weight_u)
        for conv, out in zip(convs, outs, strict=True):
            conv.zero_grad()
            (out * torch.arange(out.numel()).reshape(out.shape).sin()).sum().backward()
        assert torch.allclose(convs[0].weight_orig.grad, convs[1].weight_orig.grad, rtol=1e-5, atol=1e-7)
    with torch.no_grad():
        assert torch.equal(convs[0].eval()(x), convs[1].eval()(x))
