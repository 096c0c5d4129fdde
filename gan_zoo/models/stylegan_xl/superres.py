"""Progressive growing by super-resolution stages (StyleGAN-XL §3.3, the official `SuperresGenerator`).

StyleGAN-XL trains a stem at 16² and then, resolution by resolution, a new stage built from the
previous stage's generator (its G_ema): the critically sampled layers at the end (the last
`num_critical` layers and ToRGB, which are tied to the old output grid) are cut off, and
`head_layers` new layers plus a new ToRGB are appended at `up_factor` times the resolution. The
head's filter schedule starts where the last kept layer ends (its cutoff, stopband, sampling rate
and width) and grows geometrically to the new Nyquist frequency, like a stem's. Only the head
trains: the mapping network and every kept layer are frozen.

Layer names continue the old numbering: a stem L0..L10 keeps L0..L7 and its first stage appends
L9..L16 (index = number of kept layers + 1 + head index, as in the official code, so L8 is skipped).
num_ws = kept layers + head_layers + 2 (one w for the input, one per layer).

`grow_generator` grows a generator module; `build_generator` builds any stage from the configuration
alone (stem, then growing with fresh weights: for shapes, parameter counts, or as the target of a
checkpoint's state dict); `grow_from_state_dict` grows the next stage from a saved G_ema state dict.
"""

import contextlib
import copy
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch

from gan_zoo.models.stylegan3.synthesis import LayerSpecs, finish_specs, make_layer
from gan_zoo.models.stylegan3.synthesis_layer import SynthesisLayer
from gan_zoo.models.stylegan_xl.generator import StyleGANXLGenerator

UP_FACTORS = (2, 4, 8, 16)  # what the official SuperresGenerator accepts


def head_layer_specs(
    last: SynthesisLayer,
    img_resolution: int,
    head_layers: int,
    num_critical: int,
    last_stopband_rel: float,
    margin_size: int,
    channel_base: int,
    channel_max: int,
    img_channels: int,
) -> LayerSpecs:
    """The head's schedule: entry 0 is the last kept layer's output, entries 1..head_layers the new layers."""
    first_cutoff = last.out_cutoff
    first_stopband = last.out_half_width + first_cutoff
    last_cutoff = img_resolution / 2
    last_stopband = last_cutoff * last_stopband_rel
    exponents = np.minimum(np.arange(head_layers + 1) / (head_layers - num_critical), 1)
    cutoffs = first_cutoff * (last_cutoff / first_cutoff) ** exponents
    stopbands = first_stopband * (last_stopband / first_stopband) ** exponents
    sampling_rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, img_resolution))))
    sampling_rates[0] = last.out_sampling_rate
    specs = finish_specs(cutoffs, stopbands, sampling_rates, img_resolution, margin_size, channel_base, channel_max, img_channels)
    specs.channels[0] = last.out_channels
    return specs


@contextlib.contextmanager
def _random_source(generator: torch.Generator | None) -> Iterator[None]:
    """New weights drawn from `generator` (leaving the global RNG alone), or from the global RNG when None."""
    if generator is None:
        yield
        return
    seed = int(torch.randint(0, 2**62, (), generator=generator, device=generator.device))
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(seed)  # CPU only: CUDA streams stay untouched
        yield


def train_head_only(generator: StyleGANXLGenerator, train_input: bool = False) -> None:
    """Freeze everything except the head layers of the last super-resolution step.

    train_input=True also trains synthesis.input, which the official loop effectively does: its
    freeze walks `layer_names` only, and the Fourier input is not among them.
    """
    names = generator.synthesis.head_layer_names
    if not names:
        raise ValueError("train_head_only needs a super-resolution stage; this generator is a stem (no head layers)")
    generator.requires_grad_(False)
    for name in names:
        getattr(generator.synthesis, name).requires_grad_(True)
    if train_input:
        generator.synthesis.input.requires_grad_(True)


def grow_generator(
    previous: StyleGANXLGenerator,  # the trained previous stage (its G_ema); not modified
    head_layers: int = 7,  # new layers before the new ToRGB
    up_factor: int = 2,  # resolution multiplier of this stage
    magnitude_ema_beta: float = 0.999,  # of the new layers (the official head uses SynthesisLayer's default)
    generator: torch.Generator | None = None,  # draws the new weights; None: the global RNG
) -> StyleGANXLGenerator:
    """The next stage: a copy of `previous` minus its critically sampled layers, plus a new head; only the head trains."""
    if up_factor not in UP_FACTORS:
        raise ValueError(f"up_factor must be one of {UP_FACTORS}, got {up_factor}")
    grown = copy.deepcopy(previous)
    synthesis = grown.synthesis
    if head_layers <= synthesis.num_critical:
        raise ValueError(f"head_layers ({head_layers}) must exceed num_critical ({synthesis.num_critical})")
    while synthesis.layer_names and synthesis.layers()[-1].is_critically_sampled:
        delattr(synthesis, synthesis.layer_names.pop())
    if not synthesis.layer_names or any(layer.is_critically_sampled for layer in synthesis.layers()):
        raise ValueError("the previous stage must end in its critically sampled layers and keep at least one other layer")
    kept = len(synthesis.layer_names)
    img_resolution = previous.img_resolution * up_factor
    last = synthesis.layers()[-1]
    specs = head_layer_specs(
        last,
        img_resolution,
        head_layers,
        synthesis.num_critical,
        synthesis.last_stopband_rel,
        synthesis.margin_size,
        synthesis.channel_base,
        synthesis.channel_max,
        synthesis.img_channels,
    )

    device = last.weight.device
    # New layers are drawn on the CPU whatever `previous` lives on, so a seed gives the same weights everywhere.
    with _random_source(generator), torch.device("meta" if device.type == "meta" else "cpu"):
        head = [
            make_layer(
                specs,
                index,
                synthesis.w_dim,
                is_torgb=index == head_layers,
                is_critically_sampled=index >= head_layers - synthesis.num_critical,
                use_fp16=bool(specs.sampling_rates[index] * 2**synthesis.num_fp16_res > img_resolution),
                conv_kernel=synthesis.conv_kernel,
                conv_clamp=synthesis.conv_clamp,
                magnitude_ema_beta=magnitude_ema_beta,
            )
            for index in range(head_layers + 1)
        ]
    synthesis.head_layer_names = []
    for index, layer in enumerate(head):
        name = f"L{kept + 1 + index}_{layer.out_size}_{layer.out_channels}"
        if hasattr(synthesis, name):
            raise RuntimeError(f"layer {name} already exists in the previous stage")
        synthesis.add_layer(name, layer.to(device))
        synthesis.head_layer_names.append(name)

    synthesis.img_resolution = grown.img_resolution = img_resolution
    synthesis.num_layers = kept + 1 + head_layers
    synthesis.num_ws = grown.num_ws = grown.mapping.num_ws = kept + head_layers + 2
    train_head_only(grown)
    return grown


def build_generator(
    img_resolution: int,  # output side of the stage to build
    stem_resolution: int = 16,  # output side of the stem it grew from
    head_layers: int = 7,  # new layers per super-resolution step
    up_factor: int = 2,  # resolution multiplier per step
    head_magnitude_ema_beta: float = 0.999,  # magnitude_ema_beta of the grown layers
    generator: torch.Generator | None = None,  # draws the grown layers' weights; None: the global RNG
    **stem_kwargs: Any,  # StyleGANXLGenerator options of the stem (img_resolution excluded)
) -> StyleGANXLGenerator:
    """The stage at `img_resolution` from the configuration alone: the stem, grown step by step with fresh weights.

    Build it under `with torch.device("meta"):` for shapes and parameter counts only.
    """
    if "img_resolution" in stem_kwargs:
        raise ValueError("pass the stem's resolution as stem_resolution, the stage's as img_resolution")
    steps = 0
    while stem_resolution * up_factor**steps < img_resolution:
        steps += 1
    if stem_resolution * up_factor**steps != img_resolution:
        raise ValueError(f"img_resolution {img_resolution} is not stem_resolution {stem_resolution} times a power of {up_factor}")
    grown = StyleGANXLGenerator(img_resolution=stem_resolution, **stem_kwargs)
    for _ in range(steps):
        grown = grow_generator(grown, head_layers, up_factor, head_magnitude_ema_beta, generator)
    return grown


def grow_from_state_dict(
    state_dict: Mapping[str, torch.Tensor],  # the previous stage's G_ema state dict (keys without a "G_ema." prefix)
    img_resolution: int,  # output side of the new stage
    stem_resolution: int = 16,
    head_layers: int = 7,
    up_factor: int = 2,
    head_magnitude_ema_beta: float = 0.999,
    generator: torch.Generator | None = None,  # draws the new head's weights; None: the global RNG
    **stem_kwargs: Any,  # the stem's StyleGANXLGenerator options, as the previous stage was built
) -> StyleGANXLGenerator:
    """The next stage from a saved previous stage: its architecture from the configuration, its weights from the state dict."""
    if img_resolution % up_factor:
        raise ValueError(f"img_resolution {img_resolution} is not a multiple of up_factor {up_factor}")
    # The previous stage is only a container for the loaded tensors: building it on the meta device
    # allocates nothing, and `assign` adopts the state dict's tensors (every key must be present).
    with torch.device("meta"):
        previous = build_generator(img_resolution // up_factor, stem_resolution, head_layers, up_factor, head_magnitude_ema_beta, **stem_kwargs)
    previous.load_state_dict(state_dict, assign=True)
    return grow_generator(previous, head_layers, up_factor, head_magnitude_ema_beta, generator)
