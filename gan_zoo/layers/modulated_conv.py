"""Weight modulation and demodulation (StyleGAN2 §2.2), replacing AdaIN.

Each sample's style s scales the convolution's input channels: w'_oikl = s_i · w_oikl. With
demodulation the result is divided per output channel by sqrt(Σ_ikl w'² + 1e-8), so that a unit-
variance input gives a unit-variance output without normalising the activations themselves (which
caused StyleGAN's droplet artefacts). Two equal ways to compute it:

* fused: one grouped convolution with a separate kernel per sample (cheap for small batches and
  at inference);
* unfused: scale the input by s, convolve with the shared kernel, scale the output by the
  demodulation coefficients (one ordinary convolution: faster for training batches, and cheaper
  to differentiate twice for R1 and path length).

The demodulation coefficients come from s² and the kernel's per-(out, in) squared sums, never from
the per-sample modulated kernel (see `modulated_conv2d`).
"""

import torch

from gan_zoo.layers.conv_resample import conv2d_resample


def modulated_conv2d(
    x: torch.Tensor,  # [N, C_in, H, W]
    weight: torch.Tensor,  # [C_out, C_in, k, k], the runtime (already gain-scaled) kernel
    styles: torch.Tensor,  # [N, C_in] per-sample input-channel scales
    demodulate: bool = True,  # divide by the per-sample, per-output-channel kernel norm
    up: int = 1,  # 2: transposed convolution with FIR upsampling
    resample_filter: torch.Tensor | None = None,  # FIR filter for up=2
    fused: bool = False,  # grouped per-sample kernels instead of scaling activations
) -> torch.Tensor:
    n, c_in = x.shape[:2]
    c_out = weight.shape[0]
    if weight.ndim != 4 or weight.shape[1] != c_in or styles.shape != (n, c_in):
        raise ValueError(
            f"modulated_conv2d: x {list(x.shape)}, weight {list(weight.shape)} and styles "
            f"{list(styles.shape)} disagree (need weight [C_out, {c_in}, k, k], styles [{n}, {c_in}])"
        )
    styles = styles.to(torch.promote_types(x.dtype, torch.float32))  # demodulation in at least fp32
    dcoefs = None
    if demodulate:
        # sum_ikl (s_i w_oikl)^2 = sum_i s_i^2 sum_kl w_oikl^2: one [N, C_in] x [C_in, C_out] product instead of
        # the [N, C_out, C_in, k, k] modulated kernel (the official code's form), which at training sizes is
        # larger than the activations and dominates the step's element-wise time, twice over in the
        # path-length double backward. Equal up to float rounding (~1e-7 relative).
        dcoefs = (styles.square() @ weight.to(styles.dtype).square().sum(dim=(2, 3)).t() + 1e-8).rsqrt()  # [N, C_out]
    if fused:
        w = weight[None] * styles[:, None, :, None, None]
        if dcoefs is not None:
            w = w * dcoefs[:, :, None, None, None]
        w = w.reshape(n * c_out, c_in, *weight.shape[2:])
        out = conv2d_resample(x.reshape(1, n * c_in, *x.shape[2:]), w, resample_filter, up=up, groups=n)
        return out.reshape(n, c_out, *out.shape[2:])
    x = x * styles.to(x.dtype)[:, :, None, None]
    x = conv2d_resample(x, weight, resample_filter, up=up)
    if dcoefs is not None:
        x = x * dcoefs.to(x.dtype)[:, :, None, None]
    return x
