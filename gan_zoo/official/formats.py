"""Every official file format gan-zoo reads, recognised by content (never by file name).

Each converter module exposes `matches(data, source) -> bool` and
`convert(data, source, overrides) -> ImportedNetworks`; `data` is what the file holds, read without
running anything (a restricted unpickle or `torch.load(weights_only=True)`). A new format adds one
line here and one module beside this file.
"""

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class OfficialFormat:
    name: str  # shown in errors and in `gan-zoo import`'s report
    module: str  # converter module with matches() and convert()
    container: str  # "pickle" (NVlabs pickles), "torch" (torch.save archives) or "folder"
    description: str  # the released files it covers


FORMATS: tuple[OfficialFormat, ...] = (
    OfficialFormat(
        "projected-gan-pickle",
        "gan_zoo.official.projected_gan_pickle",
        "pickle",  # before nvlabs: same StyleGAN2 G source
        "Projected GAN snapshots, FastGAN(-lite) or StyleGAN2 G (pokemon.pkl, art_painting.pkl, best_model.pkl)",
    ),
    OfficialFormat(
        "stylegan-xl-pickle",
        "gan_zoo.official.stylegan_xl_pickle",
        "pickle",
        "StyleGAN-XL snapshots of the stem or a super-resolution stage (imagenet256.pkl, ffhq256.pkl, pokemon256.pkl)",
    ),
    OfficialFormat(
        "nvlabs-pytorch-stylegan2",
        "gan_zoo.official.stylegan2_nvlabs",
        "pickle",
        "stylegan2-ada-pytorch and stylegan3 snapshots of StyleGAN2 (stylegan2-ffhq-1024x1024.pkl, network-snapshot-*.pkl)",
    ),
    OfficialFormat(
        "nvlabs-pytorch-stylegan3",
        "gan_zoo.official.stylegan3_nvlabs",
        "pickle",
        "stylegan3 snapshots of StyleGAN3-T and -R (stylegan3-t-ffhqu-1024x1024.pkl, stylegan3-r-afhqv2-512x512.pkl)",
    ),
    OfficialFormat(
        "nvlabs-tf-stylegan2",
        "gan_zoo.official.tf_stylegan2",
        "pickle",
        "NVlabs/stylegan2 TensorFlow pickles of config F (stylegan2-ffhq-config-f.pkl), converted as legacy.py does",
    ),
    OfficialFormat(
        "nvlabs-tf-stylegan", "gan_zoo.official.tf_stylegan", "pickle", "NVlabs/stylegan TensorFlow pickles (karras2019stylegan-ffhq-1024x1024.pkl)"
    ),
    OfficialFormat(
        "tkarras-tf-pggan", "gan_zoo.official.tf_pggan", "pickle", "progressive_growing_of_gans TensorFlow pickles (karras2018iclr-celebahq-1024x1024.pkl)"
    ),
    OfficialFormat(
        "nvlabs-spade",
        "gan_zoo.official.spade_folder",
        "folder",
        "NVlabs/SPADE checkpoint folders (checkpoints/<name>/ with {epoch}_net_G.pth, _D, _E and opt.txt)",
    ),
    OfficialFormat(
        "nvlabs-spade-g", "gan_zoo.official.spade_folder", "torch", "an NVlabs/SPADE {epoch}_net_G.pth (its folder's opt.txt and D/E files are read beside it)"
    ),
    OfficialFormat(
        "clovaai-stargan-v2",
        "gan_zoo.official.stargan_v2_ckpt",
        "torch",
        "clovaai/stargan-v2 checkpoints ({step}_nets_ema.ckpt as released for CelebA-HQ and AFHQ, {step}_nets.ckpt)",
    ),
)


def converter(fmt: OfficialFormat):  # noqa: ANN201 - a module
    return importlib.import_module(fmt.module)
