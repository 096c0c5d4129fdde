"""The TF layer ops of the PGGAN/StyleGAN/StyleGAN2 code, in numpy (float64), for reference forwards.

Written from the TF ops' definitions, on TF's own layouts (NCHW activations, conv filters
[kh, kw, in, out], dense [in, out]), so that a reference forward from a file's arrays shares no
transpose or flip with the converter under test. `conv2d` is tf.nn.conv2d with padding 'SAME'
(a correlation); `conv2d_transpose` is its adjoint, as tf.nn.conv2d_transpose defines it.
"""

import numpy as np


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv2d(x: np.ndarray, w: np.ndarray, stride: int = 1) -> np.ndarray:
    """tf.nn.conv2d(x, w [kh, kw, in, out], strides, 'SAME', NCHW)."""
    kh, kw = w.shape[:2]
    (top, bottom), (left, right) = _same_padding(x.shape[2], kh, stride), _same_padding(x.shape[3], kw, stride)
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    oh, ow = -(-x.shape[2] // stride), -(-x.shape[3] // stride)
    out = np.zeros((x.shape[0], w.shape[3], oh, ow))
    for a in range(kh):
        for c in range(kw):
            patch = xp[:, :, a : a + (oh - 1) * stride + 1 : stride, c : c + (ow - 1) * stride + 1 : stride]
            out += np.einsum("nihw,io->nohw", patch, w[a, c])
    return out


def conv2d_transpose(x: np.ndarray, w: np.ndarray, out_size: int, stride: int = 2) -> np.ndarray:
    """tf.nn.conv2d_transpose(x, w [kh, kw, out, in], [N, out, out_size, out_size], strides, 'SAME'):
    each input pixel scatters w into the output, where conv2d(., w) of the output would read it."""
    kh, kw = w.shape[:2]
    (top, _), (left, _) = _same_padding(out_size, kh, stride), _same_padding(out_size, kw, stride)
    big = out_size + kh + stride
    out = np.zeros((x.shape[0], w.shape[2], big, big))
    for y in range(x.shape[2]):
        for z in range(x.shape[3]):
            out[:, :, y * stride : y * stride + kh, z * stride : z * stride + kw] += np.einsum("ni,aboi->noab", x[:, :, y, z], w)
    return out[:, :, top : top + out_size, left : left + out_size]


def summed_shifts(w: np.ndarray) -> np.ndarray:
    """The fused-resampling filter: the [3, 3, ...] filter padded to 4x4 and added at its 4 offsets."""
    w = np.pad(w, ((1, 1), (1, 1), (0, 0), (0, 0)))
    return w[1:, 1:] + w[:-1, 1:] + w[1:, :-1] + w[:-1, :-1]


def he_scale(shape: tuple[int, ...], gain: float, lrmul: float = 1.0) -> float:
    """get_weight(use_wscale=True)'s runtime factor: gain / sqrt(fan_in) * lrmul, fan_in = prod(shape[:-1])."""
    return gain / np.sqrt(np.prod(shape[:-1])) * lrmul


def dense(x: np.ndarray, w: np.ndarray, b: np.ndarray, gain: float, lrmul: float = 1.0) -> np.ndarray:
    x = x.reshape(len(x), -1)
    return x @ (w * he_scale(w.shape, gain, lrmul)) + b * lrmul


def bias(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    return x + b.reshape(1, -1, 1, 1)


def lrelu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, x * 0.2)


def pixel_norm(x: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    return x / np.sqrt(np.mean(x**2, axis=1, keepdims=True) + eps)


def instance_norm(x: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    x = x - x.mean(axis=(2, 3), keepdims=True)
    return x / np.sqrt(np.mean(x**2, axis=(2, 3), keepdims=True) + eps)


def upscale2d(x: np.ndarray, factor: int = 2) -> np.ndarray:
    return x.repeat(factor, axis=2).repeat(factor, axis=3)


def downscale2d(x: np.ndarray) -> np.ndarray:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def blur2d(x: np.ndarray, taps: tuple[float, ...] = (1, 2, 1)) -> np.ndarray:
    """StyleGAN's depthwise blur: the normalised outer product of `taps`, 'SAME'."""
    f = np.outer(taps, taps)
    f = f / f.sum()
    k = np.zeros(f.shape + (x.shape[1], x.shape[1]))
    for i in range(x.shape[1]):
        k[:, :, i, i] = f
    return conv2d(x, k)


def minibatch_stddev(x: np.ndarray, group_size: int, num_features: int = 1) -> np.ndarray:
    """PGGAN/StyleGAN minibatch_stddev_layer: groups of samples i, i + N/G, ... (reshape [G, -1, ...])."""
    n, c, h, w = x.shape
    g = min(group_size, n)
    y = x.reshape(g, -1, num_features, c // num_features, h, w)
    y = np.sqrt(np.mean((y - y.mean(axis=0, keepdims=True)) ** 2, axis=0) + 1e-8)
    y = y.mean(axis=(2, 3, 4))  # [M, F]
    y = np.tile(y[:, :, None, None], (g, 1, h, w))
    return np.concatenate([x, y], axis=1)


def upsample_conv_2d(x: np.ndarray, w: np.ndarray, taps: tuple[float, ...] = (1, 3, 3, 1)) -> np.ndarray:
    """StyleGAN2's upsample_conv_2d (dnnlib/tflib/ops/upfirdn_2d.py) for a 3x3 filter w [kh, kw, in, out]:
    the filter flipped and given to a VALID stride-2 conv2d_transpose, then the FIR filter
    outer(taps)/sum * 4, padded as the op pads it."""
    n, _, h, _ = x.shape
    kh = w.shape[0]
    size = (h - 1) * 2 + kh
    out = np.zeros((n, w.shape[3], size, size))
    wt = w[::-1, ::-1]
    for y in range(h):
        for z in range(x.shape[3]):
            out[:, :, 2 * y : 2 * y + kh, 2 * z : 2 * z + kh] += np.einsum("ni,abio->noab", x[:, :, y, z], wt)
    k = np.outer(taps, taps)
    k = k / k.sum() * 4
    p = (len(taps) - 2) - (kh - 1)
    pad0, pad1 = (p + 1) // 2 + 1, p // 2 + 1
    out = np.pad(out, ((0, 0), (0, 0), (pad0, pad1), (pad0, pad1)))
    kf = k[::-1, ::-1]  # upfirdn convolves with its filter
    res = np.zeros((n, w.shape[3], 2 * h, 2 * h))
    for a in range(k.shape[0]):
        for b in range(k.shape[1]):
            res += out[:, :, a : a + 2 * h, b : b + 2 * h] * kf[a, b]
    return res
