"""The semantic input of SPADE's G and D (NVlabs/SPADE `models/pix2pix_model.py` preprocess_input):
one-hot label map (label_nc channels, one more for the dontcare label) and, unless instances are off,
the instance edge map (1 channel)."""

import torch
from torch import Tensor


def instance_edges(instance: Tensor) -> Tensor:
    """[N, H, W] instance ids -> [N, 1, H, W] float, 1 where a 4-neighbour has another id (both sides)."""
    t = instance.unsqueeze(1)
    edge = torch.zeros_like(t, dtype=torch.bool)
    horizontal = t[..., :, 1:] != t[..., :, :-1]
    vertical = t[..., 1:, :] != t[..., :-1, :]
    edge[..., :, 1:] |= horizontal
    edge[..., :, :-1] |= horizontal
    edge[..., 1:, :] |= vertical
    edge[..., :-1, :] |= vertical
    return edge.float()


def semantic_input(segmap: Tensor, num_labels: int, instance: Tensor | None = None) -> Tensor:
    """[N, H, W] labels in [0, num_labels) (+ [N, H, W] instances) -> [N, num_labels (+1), H, W] float."""
    if segmap.numel() and (int(segmap.min()) < 0 or int(segmap.max()) >= num_labels):
        bad = int(segmap.max()) if int(segmap.max()) >= num_labels else int(segmap.min())
        raise ValueError(
            f"the label maps hold the value {bad}, outside the model's {num_labels} labels (data.label_nc plus the "
            "dontcare label); set data.label_nc to the data set's label count"
        )
    # scatter_ into a contiguous NCHW tensor, as the official code does: F.one_hot(...).permute(...) is
    # channels-last strided, and convolutions (and their gradients) then take other kernels.
    n, height, width = segmap.shape
    semantics = torch.zeros(n, num_labels, height, width, device=segmap.device)
    semantics.scatter_(1, segmap.long().unsqueeze(1), 1.0)
    if instance is not None:
        semantics = torch.cat([semantics, instance_edges(instance)], dim=1)
    return semantics
