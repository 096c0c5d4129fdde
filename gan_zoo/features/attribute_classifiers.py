"""Attribute classifier sets for linear separability: a folder of exported binary classifiers.

The StyleGAN paper used 40 CelebA-HQ attribute classifiers (NVIDIA's `celebahq-classifier-NN-<name>.pkl`,
TensorFlow pickles that PyTorch cannot read). gan-zoo reads one TorchScript file per attribute, so any
architecture works (a conversion of NVIDIA's networks, or your own classifiers for another data set):

    <folder>/celebahq-classifier-00-male.pt ... celebahq-classifier-39-wearing-necktie.pt   (the paper's set)
    <folder>/attributes.json = {"attributes": {"<name>": "<file>.pt", ...}}                  (any other set, in order)

Each module maps images [N, C, 256, 256] (or the generator's size when smaller) in [-1, 1] to one
logit per image ([N] or [N, 1]); a positive logit is the attribute's class 0, as in NVIDIA's code
(softmax over [logit, -logit]). The folder comes from the config (`weights.ls_classifiers`), else
$GAN_ZOO_LS_CLASSIFIERS, else <cache>/weights/celebahq-classifiers; it is never downloaded.
"""

import json
import os
from pathlib import Path

import torch
from torch import Tensor, nn

from gan_zoo.errors import WeightsError
from gan_zoo.features.torchscript_files import jit_load
from gan_zoo.features.weights import cache_dirs, sha256_of

CELEBAHQ_ATTRIBUTES = (
    "male",
    "smiling",
    "attractive",
    "wavy-hair",
    "young",
    "5-o-clock-shadow",
    "arched-eyebrows",
    "bags-under-eyes",
    "bald",
    "bangs",
    "big-lips",
    "big-nose",
    "black-hair",
    "blond-hair",
    "blurry",
    "brown-hair",
    "bushy-eyebrows",
    "chubby",
    "double-chin",
    "eyeglasses",
    "goatee",
    "gray-hair",
    "heavy-makeup",
    "high-cheekbones",
    "mouth-slightly-open",
    "mustache",
    "narrow-eyes",
    "no-beard",
    "oval-face",
    "pale-skin",
    "pointy-nose",
    "receding-hairline",
    "rosy-cheeks",
    "sideburns",
    "straight-hair",
    "wearing-earrings",
    "wearing-hat",
    "wearing-lipstick",
    "wearing-necklace",
    "wearing-necktie",
)
ENV = "GAN_ZOO_LS_CLASSIFIERS"
MANIFEST = "attributes.json"


def celebahq_filename(index: int, suffix: str = ".pt2") -> str:
    return f"celebahq-classifier-{index:02d}-{CELEBAHQ_ATTRIBUTES[index]}{suffix}"


def default_folders() -> list[Path]:
    return [d / "celebahq-classifiers" for d in cache_dirs()]


class AttributeClassifiers(nn.Module):
    """The loaded set: `names`, and `forward(images) -> logits [N, num_attributes]`."""

    def __init__(
        self,
        classifiers: dict[str, nn.Module],  # attribute name -> module (images -> one logit per image), in order
        files: dict[str, str] | None = None,  # attribute name -> SHA-256 of its file, for the protocol card
    ) -> None:
        super().__init__()
        self.names = list(classifiers)
        self.classifiers = nn.ModuleList(classifiers.values())
        self.files = dict(files or {})

    def forward(self, images: Tensor) -> Tensor:
        logits = []
        for name, classifier in zip(self.names, self.classifiers, strict=True):
            out = classifier(images)
            if out.ndim == 2 and out.shape[1] == 1:
                out = out[:, 0]
            if out.shape != (images.shape[0],):
                raise WeightsError(
                    f"attribute classifier {name!r} returned shape {tuple(out.shape)} for {images.shape[0]} images; "
                    "linear separability needs one logit per image ([N] or [N, 1])"
                )
            logits.append(out.float())
        return torch.stack(logits, dim=1)

    def describe(self) -> dict[str, object]:
        return {"attributes": len(self.names), "classifier_sha256": {n: h[:16] for n, h in self.files.items()}}


def _entries(folder: Path) -> dict[str, Path]:
    manifest = folder / MANIFEST
    if manifest.is_file():
        try:
            listed = json.loads(manifest.read_text())["attributes"]
        except (ValueError, KeyError, TypeError) as error:
            raise WeightsError(f'{manifest} is not a valid manifest ({error}); write {{"attributes": {{"<name>": "<file>.pt", ...}}}}') from error
        return {str(name): folder / str(file) for name, file in listed.items()}
    # The paper's set: each attribute as .pt2, else as a TorchScript .pt.
    entries = {}
    for i, name in enumerate(CELEBAHQ_ATTRIBUTES):
        legacy = folder / celebahq_filename(i, ".pt")
        entries[name] = legacy if legacy.is_file() and not (folder / celebahq_filename(i)).is_file() else folder / celebahq_filename(i)
    return entries


def _load_one(path: Path, device: torch.device | str) -> nn.Module:
    try:
        if path.suffix == ".pt2":
            return torch.export.load(str(path)).module().to(device)
        return jit_load(path, device).eval()
    except Exception as error:  # each loader raises its own types for a foreign file
        raise WeightsError(
            f"linear separability: {path} is not a {'torch.export program' if path.suffix == '.pt2' else 'TorchScript module'} "
            f"({type(error).__name__}: {error}); save classifiers with torch.export.save (.pt2) or torch.jit.save (.pt)"
        ) from error


def load_attribute_classifiers(folder: str | os.PathLike | None = None, device: torch.device | str = "cpu") -> AttributeClassifiers:
    """The classifier set in `folder` (else $GAN_ZOO_LS_CLASSIFIERS, else the cache), every file checked present."""
    chosen = folder or os.environ.get(ENV)
    candidates = [Path(chosen).expanduser()] if chosen else default_folders()
    found = next((c for c in candidates if c.is_dir()), None)
    how = (
        "put one exported classifier per attribute there (torch.export .pt2 or TorchScript .pt): the paper's 40 CelebA-HQ classifiers as "
        f"{celebahq_filename(0)} ... {celebahq_filename(39)} (converted from NVIDIA's celebahq-classifier-NN-*.pkl), "
        f"or any set listed in {MANIFEST}; then pass weights.ls_classifiers=DIR (or {ENV}=DIR)"
    )
    if found is None:
        raise WeightsError(f"linear separability: no attribute classifier folder at {' or '.join(map(str, candidates))}; {how}")
    entries = _entries(found)
    missing = [str(path) for path in entries.values() if not path.is_file()]
    if missing:
        raise WeightsError(f"linear separability: {len(missing)} classifier files missing, e.g. {missing[0]}; {how}")
    modules, hashes = {}, {}
    for name, path in entries.items():
        modules[name] = _load_one(path, device)
        hashes[name] = sha256_of(path)
    return AttributeClassifiers(modules, hashes).to(device).requires_grad_(False)
