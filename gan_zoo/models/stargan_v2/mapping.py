"""The mapping network F: z -> one style code per domain, the target domain's selected (clovaai/stargan-v2 `core/model.py`).

A shared trunk of four Linear+ReLU layers, then per domain three Linear+ReLU layers and a linear
output. Every head is computed and one is picked per sample, so a head receives gradients only
from the samples whose target is its domain.
"""

import torch
from torch import Tensor, nn


def _linear_relu_stack(dim_in: int, hidden: int, layers: int) -> list[nn.Module]:
    modules: list[nn.Module] = []
    for i in range(layers):
        modules += [nn.Linear(dim_in if i == 0 else hidden, hidden), nn.ReLU()]
    return modules


class MappingNetwork(nn.Module):
    def __init__(
        self,
        latent_dim: int = 16,  # size of z
        style_dim: int = 64,  # size of the style codes
        num_domains: int = 2,  # one output head per domain
        hidden_dim: int = 512,  # width of every hidden layer
    ) -> None:
        super().__init__()
        self.latent_dim, self.style_dim, self.num_domains = latent_dim, style_dim, num_domains
        self.shared = nn.Sequential(*_linear_relu_stack(latent_dim, hidden_dim, 4))
        self.unshared = nn.ModuleList(
            nn.Sequential(*_linear_relu_stack(hidden_dim, hidden_dim, 3), nn.Linear(hidden_dim, style_dim)) for _ in range(num_domains)
        )

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        """z [N, latent_dim], y [N] target domains -> s [N, style_dim]."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim or y.shape != (z.shape[0],):
            raise ValueError(f"F expects z [N, {self.latent_dim}] and domains [N], got {list(z.shape)} and {list(y.shape)}")
        h = self.shared(z)
        out = torch.stack([head(h) for head in self.unshared], dim=1)  # [N, K, style_dim]
        return out[torch.arange(z.shape[0], device=z.device), y]
