"""`init_ckpt=FILE`: start a new run from another run's or the authors' networks (transfer learning).

As the official `--resume=network.pkl` of stylegan2-ada-pytorch (`training/training_loop.py`,
`misc.copy_params_and_buffers`): the networks' parameters and buffers (G, D, G_ema; and the
family's others: SPADE's E, StarGAN v2's F, E and their EMA copies) are copied;
progress, optimizer states and ADA's p start fresh. The file may be a gan-zoo checkpoint or any
official file `gan-zoo import` reads. Every network the file holds must match the run's key for key
and shape for shape, else the run is refused with a sentence naming the first difference.
"""

import logging
from pathlib import Path
from typing import Any

import torch

from gan_zoo.errors import ConfigError
from gan_zoo.models.base import GANModule

log = logging.getLogger(__name__)


def copied_networks(module: GANModule) -> list[str]:
    """The family's networks and their EMA copies, in the order they are reported."""
    names = list(module.networks())
    return names + [f"{name}_ema" for name in names if isinstance(getattr(module, f"{name}_ema", None), torch.nn.Module)]


def _networks_in_file(path: Path, module: GANModule) -> tuple[dict[str, torch.Tensor], str, dict[str, Any]]:
    """(tensors under gan-zoo keys, family, what the file says of its architecture)."""
    from gan_zoo.official.load import is_gan_zoo_checkpoint, read_network_file, read_official
    from gan_zoo.training.checkpoint_version import upgrade_checkpoint

    _, data = read_network_file(path)
    if is_gan_zoo_checkpoint(data):
        record = data["gan_zoo"]
        if record.get("family") == module.family:
            upgrade_checkpoint(data, module)
        return data["state_dict"], str(record.get("family")), dict(data.get("hyper_parameters") or {})
    imported = read_official(path, data=data)
    return imported.state_dict, imported.family, imported.hyper_parameters


def initialize_from(module: GANModule, path: str | Path) -> list[str]:
    """Copy the networks (G, D, G_ema, ...) from `path` into `module`; returns the networks copied."""
    path = Path(path).expanduser().resolve()
    tensors, family, settings = _networks_in_file(path, module)
    if family != module.family:
        raise ConfigError(f"init_ckpt={path} holds a {family} model, but this run trains {module.family}; choose a {module.family} file or model={family}")
    own = module.state_dict()
    copied = []
    for network in copied_networks(module):
        prefix = f"{network}."
        theirs = {k: v for k, v in tensors.items() if k.startswith(prefix)}
        if not theirs:
            log.warning("init_ckpt=%s has no %s; it starts from this run's initialisation", path, network)
            continue
        ours = {k for k in own if k.startswith(prefix)}
        missing, unexpected = sorted(ours - set(theirs)), sorted(set(theirs) - ours)
        mismatched = [k for k in sorted(ours & set(theirs)) if tuple(own[k].shape) != tuple(theirs[k].shape)]
        if missing or unexpected or mismatched:
            first = mismatched[0] if mismatched else (missing or unexpected)[0]
            detail = (
                f"{first} is {list(theirs[first].shape)} in the file but {list(own[first].shape)} here"
                if mismatched
                else f"{len(missing)} keys missing (e.g. {missing[:2]}) and {len(unexpected)} unexpected (e.g. {unexpected[:2]})"
            )
            file_res = settings.get("resolution")
            run_res = module.hparams.get("resolution")
            raise ConfigError(
                f"init_ckpt={path}: its {network} does not fit this run's architecture ({detail}); the file's resolution is "
                f"{file_res}, this run's {run_res}: use the same resolution and model settings as the file "
                f"(e.g. {', '.join(f'model.{k}={v}' for k, v in settings.items() if not isinstance(v, dict))[:300]})"
            )
        for key, value in theirs.items():
            own[key] = value.to(own[key].dtype)
        copied.append(network)
    module.load_state_dict(own, strict=True)
    log.info("init_ckpt: copied %s from %s (progress, optimizers and augmentation start fresh)", ", ".join(copied), path)
    return copied
