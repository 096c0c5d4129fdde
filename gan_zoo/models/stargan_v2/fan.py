"""The face alignment network (FAN) whose landmark heatmaps give the face models their masks.

StarGAN v2 uses a single-stack FAN trained with the adaptive wing loss on the 98-landmark WFLW layout
(official weights `wing.ckpt`, 6,333,603 parameters): a CoordConv stem at 256 px, three bottleneck
blocks that end at 64 px with 256 channels, one depth-4 hourglass, and a 1x1 head with one heatmap
per landmark plus a boundary channel. Module and attribute names follow the released state dict
(`conv1.conv.weight`, `m0.b2_plus_1.conv3.weight`, `l0.bias`, ...) so that it loads key for key.
The network is only ever run frozen, in eval mode (its batch norms use the stored statistics).
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.layers.resample import interpolate_nearest2x

NUM_LANDMARKS = 98  # the WFLW layout the released weights were trained on


def coordinate_ramp(size: int) -> Tensor:
    """[size] float32: i / (size - 1) * 2 - 1, computed in this order as clovaai/stargan-v2 `core/wing.py`
    (AddCoordsTh) does. torch.linspace(-1, 1, size) rounds differently (173 of 256 entries, 41 of 64, by
    up to 1.2e-7), which moved the heatmaps by ~2e-7 and the FAN's input gradients by ~1e-3 of their
    largest entry."""
    return torch.arange(size).float() / (size - 1) * 2 - 1


def coordinate_channels(size: int) -> Tensor:
    """[1, 3, size, size]: row and column coordinates in [-1, 1] and the radius, scaled to max 1."""
    ramp = coordinate_ramp(size)
    rows = ramp[:, None].expand(size, size)
    cols = ramp[None, :].expand(size, size)
    radius = torch.sqrt(rows**2 + cols**2)
    return torch.stack([rows, cols, radius / radius.max()])[None]


class CoordConv(nn.Module):
    """A conv that also sees where it is: three coordinate channels are appended to its input.

    The official layer can also append the previous stack's boundary heatmap; with one stack there
    is no previous heatmap, so that input never exists and is left out.
    """

    def __init__(
        self,
        size: int,  # input height = width (the coordinate channels are built for it)
        in_channels: int,  # channels of the input, before the 3 coordinate channels
        out_channels: int,  # output channels
        kernel_size: int,  # square kernel
        stride: int = 1,  # conv stride
        padding: int = 0,  # zero padding
    ) -> None:
        super().__init__()
        # Not persistent: the released state dict does not hold the coordinates, it recomputes them.
        self.register_buffer("coords", coordinate_channels(size), persistent=False)
        self.conv = nn.Conv2d(in_channels + 3, out_channels, kernel_size, stride, padding)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(torch.cat([x, self.coords.expand(x.shape[0], -1, -1, -1)], dim=1))


class ConvBlock(nn.Module):
    """Hierarchical bottleneck: three pre-activation 3x3 convs (out/2, out/4, out/4 channels) whose
    outputs are concatenated to `out` channels and added to the (projected) input."""

    def __init__(
        self,
        in_planes: int,  # input channels
        out_planes: int,  # output channels (divisible by 4); a BN-ReLU-1x1 shortcut when it differs from in_planes
    ) -> None:
        super().__init__()
        half, quarter = out_planes // 2, out_planes // 4
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, half, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(half)
        self.conv2 = nn.Conv2d(half, quarter, 3, 1, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(quarter)
        self.conv3 = nn.Conv2d(quarter, quarter, 3, 1, 1, bias=False)
        self.downsample = None
        if in_planes != out_planes:
            # Indices 0 and 2 of this Sequential are the released keys (`downsample.0.*`, `downsample.2.weight`).
            self.downsample = nn.Sequential(nn.BatchNorm2d(in_planes), nn.ReLU(), nn.Conv2d(in_planes, out_planes, 1, 1, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        out1 = self.conv1(F.relu(self.bn1(x)))
        out2 = self.conv2(F.relu(self.bn2(out1)))
        out3 = self.conv3(F.relu(self.bn3(out2)))
        shortcut = x if self.downsample is None else self.downsample(x)
        return torch.cat([out1, out2, out3], dim=1) + shortcut


class HourGlass(nn.Module):
    """CoordConv 1x1, then a recursive hourglass: at each level a full-resolution branch (b1) plus a
    branch that average-pools, recurses (or, at the bottom, runs b2_plus), refines (b3) and
    upsamples back (nearest). Blocks are named b1_<level>, b2_<level>, b3_<level>, b2_plus_1."""

    def __init__(
        self,
        depth: int = 4,  # pooling levels (4: 64 px down to 4 px)
        features: int = 256,  # channels throughout
        size: int = 64,  # input side (for the coordinate channels)
    ) -> None:
        super().__init__()
        self.depth = depth
        self.coordconv = CoordConv(size, features, features, kernel_size=1)
        self._add_level(depth, features)

    def _add_level(self, level: int, features: int) -> None:
        # Registration order follows the released state dict: b1, b2, the deeper levels, then b3.
        self.add_module(f"b1_{level}", ConvBlock(features, features))
        self.add_module(f"b2_{level}", ConvBlock(features, features))
        if level > 1:
            self._add_level(level - 1, features)
        else:
            self.add_module(f"b2_plus_{level}", ConvBlock(features, features))
        self.add_module(f"b3_{level}", ConvBlock(features, features))

    def _level(self, level: int, x: Tensor) -> Tensor:
        upper = self.get_submodule(f"b1_{level}")(x)
        lower = self.get_submodule(f"b2_{level}")(F.avg_pool2d(x, 2, stride=2))
        lower = self._level(level - 1, lower) if level > 1 else self.get_submodule(f"b2_plus_{level}")(lower)
        lower = self.get_submodule(f"b3_{level}")(lower)
        return upper + interpolate_nearest2x(lower)

    def forward(self, x: Tensor) -> Tensor:
        return self._level(self.depth, self.coordconv(x))


class FAN(nn.Module):
    def __init__(
        self,
        num_landmarks: int = NUM_LANDMARKS,  # heatmaps; the head outputs one more (the boundary channel)
        end_relu: bool = False,  # ReLU on the head's output (the StarGAN v2 face model builds it without)
        img_size: int = 256,  # input side; heatmaps come out at img_size / 4
    ) -> None:
        super().__init__()
        self.end_relu = end_relu
        self.conv1 = CoordConv(img_size, 3, 64, kernel_size=7, stride=2, padding=3)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = ConvBlock(64, 128)
        self.conv3 = ConvBlock(128, 128)
        self.conv4 = ConvBlock(128, 256)
        # The one stack of the released model: hourglass, a block, 1x1 conv-BN-ReLU, then the head.
        self.m0 = HourGlass(depth=4, features=256, size=img_size // 4)
        self.top_m_0 = ConvBlock(256, 256)
        self.conv_last0 = nn.Conv2d(256, 256, 1, 1, 0)
        self.bn_end0 = nn.BatchNorm2d(256)
        self.l0 = nn.Conv2d(256, num_landmarks + 1, 1, 1, 0)

    def forward(self, x: Tensor) -> Tensor:
        """x: [N, 3, S, S] images in [0, 1] (not [-1, 1]) -> [N, landmarks + 1, S/4, S/4] heatmaps."""
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.avg_pool2d(self.conv2(x), 2, stride=2)
        x = self.conv4(self.conv3(x))
        x = self.top_m_0(self.m0(x))
        x = F.relu(self.bn_end0(self.conv_last0(x)))
        heatmaps = self.l0(x)
        return F.relu(heatmaps) if self.end_relu else heatmaps

    def train(self, mode: bool = True) -> "FAN":
        # Frozen: always eval, so the batch norms keep the released statistics whatever the caller does.
        return super().train(False)
