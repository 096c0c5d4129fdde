"""The official initialisation (NVlabs/SPADE `models/networks/base_network.py`): xavier_normal with
gain 0.02 on every conv and linear weight (the spectral-norm `weight_orig`), zero biases, affine
batch-norm weights N(1, 0.02)."""

from torch import nn


def init_weights(network: nn.Module, gain: float = 0.02) -> None:
    for module in network.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            nn.init.xavier_normal_(getattr(module, "weight_orig", module.weight).data, gain=gain)
            if module.bias is not None:
                nn.init.zeros_(module.bias.data)
        elif isinstance(module, nn.BatchNorm2d) and module.weight is not None:
            nn.init.normal_(module.weight.data, 1.0, gain)
            nn.init.zeros_(module.bias.data)
