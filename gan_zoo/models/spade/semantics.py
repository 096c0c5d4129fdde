"""The semantic input of SPADE's G and D (SPECS.md §4.1): one-hot label map (label_nc channels, one
more for the dontcare label) and, unless instances are off, the instance edge map (1 channel)."""

import torch
import torch.nn.functional as F
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
    semantics = F.one_hot(segmap.long(), num_labels).permute(0, 3, 1, 2).float()
    if instance is not None:
        semantics = torch.cat([semantics, instance_edges(instance)], dim=1)
    return semantics
