"""The discriminator D (clovaai/stargan-v2 `core/model.py`): the style encoder's trunk (encoder.py)
ending in a 1x1 conv with one real/fake logit per domain; it returns the target domain's logit."""

from torch import Tensor, nn

from gan_zoo.models.stargan_v2.encoder import select_domain, trunk


class Discriminator(nn.Module):
    def __init__(
        self,
        img_size: int = 256,  # image side (power of two >= 8)
        num_domains: int = 2,  # one real/fake logit per domain
        max_conv_dim: int = 512,  # channel cap
        channel_base: int = 2**14,  # channels of the first conv = channel_base // img_size
        channels: int = 3,  # image channels
    ) -> None:
        super().__init__()
        layers, dim_out = trunk(img_size, max_conv_dim, channel_base, channels)
        self.main = nn.Sequential(*layers, nn.Conv2d(dim_out, num_domains, 1, 1, 0))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """x [N, C, H, W], y [N] domains -> logits [N] of each image's domain."""
        return select_domain(self.main(x).flatten(1), y)
