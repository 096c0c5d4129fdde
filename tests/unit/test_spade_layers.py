"""SPADE normalisation, its parameter-free sync batch norm, the semantic input (one-hot + instance edges)."""

import pytest
import torch
from torch import nn

from gan_zoo.layers.spade_norm import SPADE, ParamFreeSyncBatchNorm
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
    assert {"param_free_norm.running_mean", "param_free_norm.running_var", "param_free_norm.num_batches_tracked",
            "mlp_shared.0.weight", "mlp_gamma.weight", "mlp_beta.bias"} <= keys
    assert spade(torch.randn(2, 4, 4, 8), torch.rand(2, 2, 16, 32)).shape == (2, 4, 4, 8)


def test_param_free_sync_batch_norm_is_batch_norm_on_one_process() -> None:
    norm, reference = ParamFreeSyncBatchNorm(5), nn.BatchNorm2d(5, affine=False)
    x = torch.randn(3, 5, 4, 4) * 2 + 0.5
    assert torch.allclose(norm(x), reference(x), atol=1e-6)
    assert torch.allclose(norm.running_var, reference.running_var) and list(norm.parameters()) == []
    norm.eval(), reference.eval()
    assert torch.allclose(norm(x), reference(x), atol=1e-6)


def test_instance_edges_mark_both_sides_of_every_boundary() -> None:
    instance = torch.tensor([[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 3, 3]]])
    expected = torch.tensor([[[0, 1, 1, 0], [1, 1, 1, 1], [1, 1, 1, 1]]]).float()
    assert torch.equal(instance_edges(instance)[:, 0], expected)


def test_semantic_input_one_hot_plus_edges_and_out_of_range_labels() -> None:
    segmap = torch.tensor([[[0, 2], [1, 2]]])
    semantics = semantic_input(segmap, 3, instance=segmap)
    assert semantics.shape == (1, 4, 2, 2)
    assert torch.equal(semantics[0, :3].argmax(0), segmap[0]) and torch.equal(semantics[0, :3].sum(0), torch.ones(2, 2))
    with pytest.raises(ValueError, match="value 3, outside the model's 3 labels"):
        semantic_input(segmap + 1, 3)
