"""One loader for every network file: gan-zoo checkpoints and the authors' released files.

`load_any_module(path)` is what `gan-zoo generate`, `gan-zoo eval` and `init_ckpt=` use: a gan-zoo
checkpoint loads as before; anything else is recognised by content (formats.FORMATS), converted, and
loaded into the gan-zoo family it belongs to, every network key for key (`strict`).
"""

import hashlib
import zipfile
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import get_class

from gan_zoo.checkpoints import module_from_checkpoint
from gan_zoo.errors import CheckpointError
from gan_zoo.models.base import GANModule
from gan_zoo.official.formats import FORMATS, converter
from gan_zoo.official.imported import IMPORTED_EXPERIMENT_PREFIX, ImportedNetworks
from gan_zoo.official.safe_pickle import PersistentRecord, load_pickle
from gan_zoo.training.checkpoint_version import CHECKPOINT_FORMAT_VERSION

PICKLE_PROTOCOL_2_PLUS = 0x80  # first byte of every pickle written with protocol >= 2
# torch.save before PyTorch 1.6 (e.g. NVlabs/SPADE's released *_net_G.pth): a pickle of torch's magic number
# (torch/serialization.py MAGIC_NUMBER, protocol 2) precedes the data; torch.load still reads it.
LEGACY_TORCH_HEAD = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little") + b"."


def resolve_model_file(ckpt: str) -> Path:
    """What `ckpt=` of generate and eval names: a file or official folder as given; a run directory
    (one with checkpoints/) or `last` (the run in the current directory): the run's newest checkpoint."""
    given = Path.cwd() if str(ckpt) == "last" else Path(str(ckpt)).expanduser().resolve()
    checkpoints = given / "checkpoints"
    if given.is_dir() and checkpoints.is_dir():
        if (checkpoints / "last.ckpt").is_file():
            return checkpoints / "last.ckpt"
        existing = sorted(checkpoints.glob("*.ckpt"), key=lambda p: p.stat().st_mtime)
        if not existing:
            raise CheckpointError(f"ckpt={ckpt}: the run directory {given} has no checkpoint in checkpoints/ yet")
        return existing[-1]
    if str(ckpt) == "last":
        raise CheckpointError(
            f"ckpt=last names the newest checkpoint of the run in the current directory, but {given} "
            "has no checkpoints/ folder; run from the run directory or pass ckpt=RUN_DIR or a .ckpt file"
        )
    if not given.exists():
        raise CheckpointError(
            f"ckpt={ckpt}: {given} does not exist; pass a checkpoint file, a run directory (its newest "
            "checkpoint), ckpt=last (the run in the current directory) or an official network file or folder"
        )
    return given


def _container(path: Path) -> str:
    if path.is_dir():
        return "folder"
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist; pass the checkpoint, the official network file or folder")
    if zipfile.is_zipfile(path):
        return "torch"
    with path.open("rb") as file:
        head = file.read(len(LEGACY_TORCH_HEAD))
    if head == LEGACY_TORCH_HEAD:
        return "torch"
    if head[:1] == bytes([PICKLE_PROTOCOL_2_PLUS]) or head[:1] in (b"(", b"}", b"]"):
        return "pickle"
    raise CheckpointError(f"{path} is neither a gan-zoo checkpoint nor an official network file (not a zip archive or a pickle)")


def _read(path: Path, container: str) -> Any:
    if container == "pickle":
        return load_pickle(path)
    if container == "torch":
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:
            raise CheckpointError(f"{path} cannot be read as a weights-only torch archive ({error}); it may be truncated") from error
    return path


def read_network_file(path: str | Path) -> tuple[str, Any]:
    """(container, contents) of a checkpoint or official file, read without running anything in it."""
    path = Path(path).expanduser().resolve()
    container = _container(path)
    return container, _read(path, container)


def is_gan_zoo_checkpoint(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("gan_zoo"), dict) and "state_dict" in data


def read_official(path: str | Path, overrides: dict[str, Any] | None = None, data: Any = None) -> ImportedNetworks:
    """The official file (or folder) at `path` converted to gan-zoo names; refused with a sentence when unknown."""
    path = Path(path).expanduser().resolve()
    container = _container(path)
    data = _read(path, container) if data is None else data
    if is_gan_zoo_checkpoint(data):
        raise CheckpointError(f"{path} is a gan-zoo checkpoint, not an official file; use it directly (ckpt={path})")
    for fmt in FORMATS:
        if fmt.container == container:
            module = converter(fmt)
            if module.matches(data, path):
                return module.convert(data, path, dict(overrides or {}))
    known = "; ".join(f"{f.name}: {f.description}" for f in FORMATS)
    raise CheckpointError(
        f"{path} is a {container}{_describe(data)} that gan-zoo does not recognise as a gan-zoo checkpoint or an official file it reads ({known})"
    )


def _describe(data: Any) -> str:
    """What an unrecognised file holds, so the refusal says which network it is."""
    if isinstance(data, Path):
        names = sorted(p.name for p in data.iterdir())
        return f" holding {', '.join(names[:6]) + (', ...' if len(names) > 6 else '') if names else 'nothing'}"
    if isinstance(data, dict):
        generator = data.get("G_ema", data.get("G"))
        if isinstance(generator, PersistentRecord):
            return f" of NVlabs networks (G is {generator.class_name})"
        return f" holding {', '.join(map(str, list(data)[:6]))}"
    return f" holding a {type(data).__name__}"


def module_from_imported(imported: ImportedNetworks, source: Path | str) -> GANModule:
    """The GANModule with the official tensors; each network the file provided must match key for key."""
    module: GANModule = get_class(imported.model_target)(**imported.hyper_parameters)
    own = module.state_dict()
    for network in imported.networks:
        prefix = f"{network}."
        expected = {k for k in own if k.startswith(prefix)}
        given = {k for k in imported.state_dict if k.startswith(prefix)}
        missing, unexpected = sorted(expected - given), sorted(given - expected)
        if missing or unexpected:
            raise CheckpointError(
                f"{source}: its {network} does not match gan-zoo's {imported.family} {network} key for key "
                f"(missing {missing[:4]}, unexpected {unexpected[:4]}); the architecture settings read from the file "
                f"were {imported.hyper_parameters}"
            )
        for key in expected:
            if tuple(own[key].shape) != tuple(imported.state_dict[key].shape):
                raise CheckpointError(
                    f"{source}: {key} has shape {list(imported.state_dict[key].shape)} in the file but "
                    f"{list(own[key].shape)} in gan-zoo's {imported.family} built from the file's settings"
                )
    merged = {**own, **{k: v.to(own[k].dtype) for k, v in imported.state_dict.items()}}
    module.load_state_dict(merged, strict=True)
    return module


def source_sha256(path: Path) -> str:
    """SHA-256 of a network file; of a checkpoint folder, over its files' names and hashes."""
    from gan_zoo.features.weights import sha256_of

    if not path.is_dir():
        return sha256_of(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.iterdir() if p.is_file()):
        digest.update(f"{file.name}:{sha256_of(file)}\n".encode())
    return digest.hexdigest()


def imported_record(imported: ImportedNetworks, source: Path) -> dict[str, Any]:
    return {
        "family": imported.family,
        "model_target": imported.model_target,
        "experiment": f"{IMPORTED_EXPERIMENT_PREFIX}{source.name}",
        "cur_nimg": 0,
        "format_version": CHECKPOINT_FORMAT_VERSION,
        **imported.record,
        "imported_from": {
            "file": str(source),
            "format": imported.source_format,
            "networks": list(imported.networks),
            "data": imported.data,
            "notes": list(imported.notes),
        },
    }


def imported_checkpoint(imported: ImportedNetworks, module: GANModule, source: Path) -> dict[str, Any]:
    """A gan-zoo checkpoint of the imported networks, loadable by everything that loads checkpoints."""
    return {
        "state_dict": module.state_dict(),
        "hyper_parameters": dict(imported.hyper_parameters),
        "gan_zoo": imported_record(imported, source),
        "pytorch-lightning_version": L.__version__,
    }


def load_any_module(path: str | Path, device: torch.device, overrides: dict[str, Any] | None = None) -> tuple[GANModule, dict[str, Any]]:
    """(module in eval mode on `device`, its gan-zoo record) from a gan-zoo checkpoint or an official file."""
    path = Path(path).expanduser().resolve()
    _, data = read_network_file(path)
    if is_gan_zoo_checkpoint(data):
        return module_from_checkpoint(data, path, device)  # read once, not again by load_module
    imported = read_official(path, overrides, data=data)
    module = module_from_imported(imported, path)
    record = imported_record(imported, path)
    module.run_identity = {"experiment": record["experiment"], "model_target": imported.model_target}
    module.restore_record(record)
    return module.to(device).eval(), record
